//! How `report.md` writes numbers that may be absent, durations and counts.

/// Seconds with the digits their size needs: `37.0`, `2.41`, `0.046`.
pub fn seconds(s: f64) -> String {
    if s >= 10.0 {
        format!("{s:.1}")
    } else if s >= 1.0 {
        format!("{s:.2}")
    } else {
        format!("{s:.3}")
    }
}

/// `v` with `digits` decimals, or `-` when absent.
pub fn opt(v: Option<f64>, digits: usize) -> String {
    v.map_or_else(|| "-".into(), |x| format!("{x:.digits$}"))
}

/// The plural ending of a count: `""` for 1, `"s"` otherwise.
pub fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_as_the_tables_write_them() {
        assert_eq!(seconds(37.04), "37.0");
        assert_eq!(seconds(2.414), "2.41");
        assert_eq!(seconds(0.0461), "0.046");
        assert_eq!(opt(Some(0.12345), 3), "0.123");
        assert_eq!(opt(None, 3), "-");
        assert_eq!((plural(1), plural(2)), ("", "s"));
    }
}
