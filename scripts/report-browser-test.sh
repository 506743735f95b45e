#!/usr/bin/env bash
# The real-browser test of report.html (`just report-browser-test`, run by `.ci/run`): the page
# `cxr report` writes is opened from disk in headless Chromium, driven by Selenium, and checked
# as a reader uses it (scripts/report_browser_check.py: console, rendering, sorting, filters,
# overlaid curves, a run's numbers against summary.parquet), with a screenshot of each view.
#
#   report-browser-test.sh [GRID_DIR] [SCREENSHOT_DIR]
#
# GRID_DIR: a grid's results folder (default: experiments/ci.toml trained into a temporary
# folder). The report is rewritten first. SCREENSHOT_DIR defaults to GRID_DIR/report/screenshots.
# Installs Debian's chromium and chromium-driver if missing (root and apt), and Selenium and
# pyarrow into a venv ($CXR_WEB_VENV, default /var/tmp/cxr-web-venv).
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${CXR_WEB_VENV:-/var/tmp/cxr-web-venv}

if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
  echo "--- installing chromium and chromium-driver"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
fi
if ! "$venv/bin/python" -c 'import selenium, pyarrow' 2>/dev/null; then
  echo "--- installing selenium and pyarrow into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet selenium pyarrow
fi

grid_dir=${1:-}
if [ -z "$grid_dir" ]; then
  results=$(mktemp -d /tmp/cxr-browser.XXXXXX)
  cargo run --release --quiet -p cxr-cli -- sweep experiments/ci.toml --results "$results"
  grid_dir="$results/ci"
fi
shots=${2:-$grid_dir/report/screenshots}
cargo run --release --quiet -p cxr-cli -- report "$grid_dir"
"$venv/bin/python" scripts/report_browser_check.py "$grid_dir" "$shots"
