//! `report.html`: one self-contained page holding report.md and every run's data. What the
//! page does in a browser (sorting, filters, curves, a run's detail) is checked in headless
//! Chromium by `just report-browser-test` (scripts/report_browser_check.py).

use cxr_report::write_report;

use crate::fixture::{standard, write_grid, TestResult};
use crate::multilabel_fixture::{standard_ml, write_ml_grid};

/// The JSON the page's script reads.
fn page_data(html: &str) -> Result<serde_json::Value, Box<dyn std::error::Error>> {
    let start = html
        .find(r#"<script type="application/json" id="cxr-data">"#)
        .ok_or("no data element")?;
    let rest = &html[start..];
    let json =
        &rest[rest.find('>').ok_or("unclosed")? + 1..rest.find("</script>").ok_or("no end")?];
    Ok(serde_json::from_str(json)?)
}

#[test]
fn the_page_holds_the_report_and_every_run_and_needs_no_other_file() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let grid = write_grid(tmp.path(), "fx", &standard(), &[])?;
    let out = write_report(&grid)?;
    assert_eq!(out.html, grid.join("report/report.html"));
    let html = std::fs::read_to_string(&out.html)?;
    let md = std::fs::read_to_string(&out.markdown)?;

    // Offline: nothing is loaded from a server or from a file beside the page.
    for external in [
        "src=\"http",
        "href=\"http",
        "@import",
        "src=\"runs/",
        "src=\"test_",
    ] {
        assert!(!html.contains(external), "the page loads {external}");
    }
    // Every figure report.md shows is inlined, as SVG.
    let figures = md.matches("![").count();
    assert!(figures >= 4, "{figures}");
    assert_eq!(
        html.matches("src=\"data:image/svg+xml;base64,").count(),
        figures
    );
    // report.md's sections and tables, rendered.
    for heading in [
        "Best run per model",
        "Configurations",
        "All runs",
        "Per-run figures",
    ] {
        assert!(html.contains(&format!(">{heading}</h")), "{heading}");
    }
    // Run ids in the report link to the run's detail.
    let data = page_data(&html)?;
    let runs = data["runs"].as_array().ok_or("runs")?;
    assert_eq!(runs.len(), standard().len());
    for run in runs {
        let id = run["id"].as_str().ok_or("id")?;
        assert!(html.contains(&format!("href=\"#run={id}\"")), "{id}");
        // The detail's numbers are the summary row's, and its curves the history's.
        let summary = cxr_results::read_summary(&grid.join(format!("runs/{id}/summary.parquet")))?;
        let s = &summary[0];
        assert_eq!(
            run["summary"]["test_micro_recall"],
            serde_json::json!(s.test_micro_recall)
        );
        assert_eq!(
            run["summary"]["trainable_params"],
            serde_json::json!(s.trainable_params)
        );
        let history = cxr_results::read_history(&grid.join(format!("runs/{id}/history.parquet")))?;
        // serde_json's default parser may miss the last bit (no `float_roundtrip`), a browser's
        // does not; compare to 1e-15.
        let page: Vec<f64> = run["history"]["val_loss"]
            .as_array()
            .ok_or("val_loss")?
            .iter()
            .filter_map(serde_json::Value::as_f64)
            .collect();
        assert_eq!(page.len(), history.len());
        for (p, h) in page.iter().zip(&history) {
            assert!((p - h.val_loss).abs() <= 1e-15, "{p} {}", h.val_loss);
        }
        let summary_file = serde_json::json!(format!("../runs/{id}/summary.parquet"));
        assert!(
            run["files"]
                .as_array()
                .ok_or("files")?
                .contains(&summary_file),
            "{}",
            run["files"]
        );
    }
    Ok(())
}

#[test]
fn a_multilabel_run_carries_each_findings_auroc_and_roc_curve() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let grid = write_ml_grid(tmp.path(), "ml", &standard_ml(), &[])?;
    let out = write_report(&grid)?;
    let data = page_data(&std::fs::read_to_string(&out.html)?)?;
    let run = &data["runs"][0];
    assert_eq!(run["multilabel"], true);
    let findings = run["findings"].as_array().ok_or("findings")?;
    assert!(!findings.is_empty());
    let id = run["id"].as_str().ok_or("id")?;
    let rows = cxr_results::read_per_finding(&grid.join(format!("runs/{id}/per_finding.parquet")))?;
    for (f, row) in findings.iter().zip(&rows) {
        assert_eq!(f["finding"], row.finding.as_str());
        assert_eq!(f["auroc"], serde_json::json!(row.test_auroc));
        let roc = f["roc"].as_array().ok_or("roc")?;
        if row.test_auroc.is_some() {
            assert_eq!(roc.first(), Some(&serde_json::json!([0.0, 0.0])));
            assert_eq!(roc.last(), Some(&serde_json::json!([1.0, 1.0])));
        }
    }
    Ok(())
}
