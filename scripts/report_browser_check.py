"""Opens a grid's report.html from disk in headless Chromium and checks it as a reader would use it.

Usage: report_browser_check.py GRID_DIR SCREENSHOT_DIR

GRID_DIR is a grid's results folder on which `cxr report` has run (report/report.html and
summary.parquet). Checks, each failing with a message naming what it saw:
  - no console error or warning from the page (Chromium's browser log, level SEVERE/WARNING);
  - every image and SVG of every view renders at a non-zero size;
  - sorting by test micro-recall orders the rows as summary.parquet's values do (both ways);
  - unticking a filter value hides exactly the runs with that value;
  - ticking two runs draws two curves on the learning-curves chart;
  - a run's detail shows every column of its summary.parquet row.
Saves a screenshot of each view into SCREENSHOT_DIR and prints the page's size and load time.
"""

import math
import os
import sys
import time

import pyarrow.parquet as pq
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.chrome.service import Service


def fail(message):
    print(f"report-browser-test: FAILED: {message}", file=sys.stderr)
    sys.exit(1)


def check(condition, message):
    if not condition:
        fail(message)


def driver():
    options = webdriver.ChromeOptions()
    options.binary_location = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1400,1000", "--allow-file-access-from-files"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = Service(os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver"))
    return webdriver.Chrome(service=service, options=options)


def console_problems(browser):
    return [e for e in browser.get_log("browser") if e["level"] in ("SEVERE", "WARNING")]


def visit(browser, view):
    browser.execute_script("location.hash = arguments[0]", view)
    time.sleep(0.2)
    active = browser.find_element(By.CSS_SELECTOR, ".view.active").get_attribute("id")
    check(active == "view-" + view.split("=")[0].lstrip("#"), f"{view}: the active view is {active}")


def check_rendered(browser, view):
    """Every visible image and SVG of the active view has a non-zero size."""
    sizes = browser.execute_script(
        """
        const view = document.querySelector('.view.active');
        return [...view.querySelectorAll('img, svg.chart')].map(e => {
          const r = e.getBoundingClientRect();
          return [e.tagName, r.width, r.height, e.tagName === 'IMG' ? e.complete && e.naturalWidth : 1,
                  (e.getAttribute('alt') || e.querySelector && (e.querySelector('text.title') || {}).textContent || '')];
        });
        """
    )
    for tag, width, height, natural, name in sizes:
        check(width > 0 and height > 0 and natural, f"{view}: {tag} '{name}' renders at {width}x{height} (natural {natural})")
    return len(sizes)


def screenshot(browser, folder, name):
    height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.set_window_size(1400, min(max(height, 900), 6000))
    path = os.path.join(folder, name + ".png")
    browser.save_screenshot(path)
    browser.set_window_size(1400, 1000)
    print(f"screenshot: {path}")


def visible_rows(browser):
    return browser.execute_script(
        """
        return [...document.querySelectorAll('#runs-table tbody tr')].filter(r => !r.hidden)
          .map(r => [r.dataset.run, (r.querySelector('td[data-key=test_micro_recall]') || {}).dataset.value]);
        """
    )


def filter_value(row, key):
    """A run's value in the runs table's `key` filter, from its summary.parquet row."""
    if key != "model":
        return str(row[key])
    weights = next((a["value"] for a in row["axes"] if a["setting"] == "model.weights"), None)
    if weights is None:
        return row["model"]
    return f"{row['model']} ({'random init' if weights in ('random', 'none') else weights})"


def same_number(a, b):
    if a is None or (isinstance(a, float) and math.isnan(a)):
        return b is None
    if isinstance(a, bool) or isinstance(a, str):
        return a == b
    return b is not None and abs(float(a) - float(b)) <= 1e-12 * max(1.0, abs(float(a)))


def main():
    grid_dir, shots = sys.argv[1], sys.argv[2]
    os.makedirs(shots, exist_ok=True)
    page = os.path.join(grid_dir, "report", "report.html")
    check(os.path.isfile(page), f"{page} is missing: run `cxr report {grid_dir}` first")
    summary = pq.read_table(os.path.join(grid_dir, "summary.parquet")).to_pylist()
    by_id = {row["run_id"]: row for row in summary}
    size = os.path.getsize(page)

    browser = driver()
    try:
        started = time.time()
        browser.get("file://" + os.path.abspath(page))
        browser.find_element(By.ID, "runs-table")
        wall = time.time() - started
        load_ms = browser.execute_script(
            "const n = performance.getEntriesByType('navigation')[0]; return n.loadEventEnd - n.startTime;")
        print(f"page: {size / 1e6:.2f} MB, {len(summary)} runs, load event after {load_ms:.0f} ms "
              f"(navigation to table found: {wall:.2f} s)")

        # Runs table: one row per finished run of the summary (the page drops stale runs too).
        rows = visible_rows(browser)
        ids = {r[0] for r in rows}
        check(ids <= set(by_id), f"rows not in summary.parquet: {ids - set(by_id)}")
        check(len(rows) >= 2, f"only {len(rows)} rows")
        check_rendered(browser, "runs")
        screenshot(browser, shots, "1-runs")

        # Sorting by test micro-recall, both ways, against summary.parquet's values.
        header = browser.find_element(By.CSS_SELECTOR, "th[data-key=test_micro_recall]")
        for direction in ("descending", "ascending"):
            header.click()
            time.sleep(0.1)
            header = browser.find_element(By.CSS_SELECTOR, "th[data-key=test_micro_recall]")
            check(header.get_attribute("aria-sort") == direction, f"sort header says {header.get_attribute('aria-sort')}")
            shown = [by_id[r[0]]["test_micro_recall"] for r in visible_rows(browser)]
            present = [v for v in shown if v is not None]
            expected = sorted(present, reverse=direction == "descending")
            check(present == expected and shown[: len(present)] == present,
                  f"sorted {direction}, the rows' summary.parquet recalls are {shown}")
            print(f"sorted {direction}: {[round(v, 3) for v in present]}")
        screenshot(browser, shots, "2-runs-sorted")

        # A filter hides exactly the runs with the unticked value.
        fieldsets = browser.find_elements(By.CSS_SELECTOR, "#filters fieldset")
        check(fieldsets, "no filter: the grid has no axis with two values")
        # Filters on summary.parquet's own columns first; the model filter names the weights
        # source too when the grid varies it (`resnet18 (random init)`), as the figures do.
        order = ["freeze", "seed", "model", "status"]
        keyed = {f.get_attribute("data-filter"): f for f in fieldsets}
        key = next((k for k in order if k in keyed), None)
        check(key is not None, f"no filter on {order}: {sorted(keyed)}")
        box = keyed[key].find_element(By.CSS_SELECTOR, "input")
        value = box.get_attribute("data-value")
        box.click()
        time.sleep(0.1)
        shown = {r[0] for r in visible_rows(browser)}
        expected = {i for i in ids if filter_value(by_id[i], key) != value}
        check(shown == expected, f"filter {key} != {value}: shown {sorted(shown)}, expected {sorted(expected)}")
        check(shown and len(shown) < len(ids), f"filter {key} != {value} shows {len(shown)} of {len(ids)} rows")
        print(f"filter {key} != {value}: {len(shown)} of {len(ids)} rows shown")
        screenshot(browser, shots, "3-runs-filtered")
        box.click()
        time.sleep(0.1)
        check(len(visible_rows(browser)) == len(ids), "ticking the value back does not show every row")

        # Ticking two runs trained by epochs draws two curves.
        trained = [r[0] for r in visible_rows(browser) if by_id[r[0]]["epochs_run"] and by_id[r[0]]["status"] == "ok"][:2]
        check(len(trained) == 2, "fewer than two runs trained by epochs")
        for run in trained:
            browser.find_element(By.CSS_SELECTOR, f"input.tick[data-run='{run}']").click()
        visit(browser, "#curves")
        curves = browser.find_elements(By.CSS_SELECTOR, "#view-curves path.curve")
        check(sorted(c.get_attribute("data-run") for c in curves) == sorted(trained),
              f"ticked {trained}, curves drawn for {[c.get_attribute('data-run') for c in curves]}")
        for c in curves:
            box_ = c.rect
            check(box_["width"] > 0 and box_["height"] > 0, f"curve {c.get_attribute('data-run')} has size {box_}")
        check_rendered(browser, "curves")
        screenshot(browser, shots, "4-curves")

        # Freeze depth and transfer charts: a point per finished network run.
        visit(browser, "#figures")
        count = check_rendered(browser, "figures")
        points = browser.find_elements(By.CSS_SELECTOR, "#view-figures circle.point")
        networks = [i for i in ids if by_id[i]["status"] == "ok" and by_id[i]["epochs_run"]]
        check(count >= 1 and len(points) >= len(networks), f"{count} charts, {len(points)} points for {len(networks)} runs")
        screenshot(browser, shots, "5-freeze-depth")

        # The report itself, figures inlined.
        visit(browser, "#report")
        images = check_rendered(browser, "report")
        check(images >= 1 or "Figures" not in browser.page_source, "the report view shows no figure")
        screenshot(browser, shots, "6-report")

        # A run's detail: every column of its summary.parquet row.
        visit(browser, "#runs")
        run = trained[0]
        browser.find_element(By.CSS_SELECTOR, f"tr[data-run='{run}'] a.run-link").click()
        time.sleep(0.2)
        check(browser.find_element(By.ID, "run-title").text == run, "the detail opened another run")
        cells = browser.execute_script(
            "return [...document.querySelectorAll('#run-numbers tr[data-field]')].map(r => [r.dataset.field, r.querySelector('td[data-value]').dataset.value]);")
        shown = dict(cells)
        expected = {k: v for k, v in by_id[run].items() if k not in ("axes", "config_json")}
        check(set(shown) == set(expected), f"detail columns differ: {set(shown) ^ set(expected)}")
        for column, value in expected.items():
            text = shown[column]
            if isinstance(value, bool):
                check(text == str(value).lower(), f"{run} {column}: page {text}, parquet {value}")
            elif isinstance(value, (int, float)):
                check(text != "" and same_number(value, float(text)), f"{run} {column}: page {text!r}, parquet {value}")
            elif value is None:
                check(text == "", f"{run} {column}: page {text!r}, parquet null")
            else:
                check(text == str(value), f"{run} {column}: page {text!r}, parquet {value!r}")
        print(f"detail of {run}: {len(expected)} summary.parquet columns equal")
        check_rendered(browser, "run")
        screenshot(browser, shots, "7-run-detail")

        problems = console_problems(browser)
        check(not problems, f"console: {problems}")
    finally:
        browser.quit()
    print("report-browser-test: ok")


if __name__ == "__main__":
    main()
