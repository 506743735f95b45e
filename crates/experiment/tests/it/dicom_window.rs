//! `[data] dicom_window`: its three forms, its validation, and run ids that only change when it
//! leaves its default.

use cxr_data::DicomWindow;
use cxr_experiment::{Grid, RunConfig};

use crate::support::{self, TestResult};

fn grid(window: &str) -> Result<Grid, cxr_experiment::ExperimentError> {
    let text = format!(
        "name = \"w\"\n[data]\n{window}\n[data.synthetic]\nper_class = 20\n[grid]\nmodel = [\"cnn\"]\n"
    );
    support::expand_at("w.toml", &text)
}

#[test]
fn the_three_forms_resolve_and_only_non_defaults_change_the_run_id() -> TestResult {
    let default = grid("")?;
    let file = grid("dicom_window = \"file\"")?;
    let full = grid("dicom_window = \"full\"")?;
    let pct = grid("dicom_window = { percentiles = [0.5, 99.5] }")?;
    assert_eq!(default.runs[0].config.data.dicom_window, DicomWindow::File);
    assert_eq!(full.runs[0].config.data.dicom_window, DicomWindow::Full);
    assert_eq!(
        pct.runs[0].config.data.dicom_window,
        DicomWindow::Percentiles([0.5, 99.5])
    );
    // Writing "file" is the same run as leaving it out; the config text does not mention it.
    assert_eq!(default.runs[0].id, file.runs[0].id);
    assert!(!default.runs[0].config.to_toml()?.contains("dicom_window"));
    assert_ne!(default.runs[0].id, full.runs[0].id);
    assert_ne!(full.runs[0].id, pct.runs[0].id);
    // The resolved config written beside the results reads back with its window.
    let text = pct.runs[0].config.to_toml()?;
    assert_eq!(RunConfig::from_toml(&text)?, pct.runs[0].config);
    Ok(())
}

#[test]
fn bad_windows_are_one_line_errors_naming_the_setting() {
    for (window, needle) in [
        (
            "dicom_window = { percentiles = [99.5, 0.5] }",
            "0 <= lower < upper <= 100",
        ),
        ("dicom_window = { percentiles = [-1, 50] }", "0 <= lower"),
        (
            "dicom_window = \"auto\"",
            "line 3: unknown variant `auto`, expected one of `file`, `full`, `percentiles`",
        ),
    ] {
        let msg = grid(window)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(msg.contains(needle), "{window}: {msg}");
        assert_eq!(msg.lines().count(), 1, "{msg}");
    }
}
