//! The values `cxr sweep --emit-slurm` writes into `#SBATCH` lines, checked as Slurm reads them:
//! a typo must fail here, not as a job Slurm rejects (or, for `--mem 32`, a job that gets 32 MB)
//! hours later.

/// A value for an `#SBATCH` line: one non-empty word.
pub fn word(s: &str) -> Result<String, String> {
    if s.is_empty() || s.contains(char::is_whitespace) || s.contains(['"', '\'']) {
        Err("expected one word, without blanks or quotes".into())
    } else {
        Ok(s.to_string())
    }
}

/// A wall-time limit in one of Slurm's formats: `MM`, `MM:SS`, `HH:MM:SS`, `D-HH`, `D-HH:MM`,
/// `D-HH:MM:SS`, or `UNLIMITED`/`INFINITE`.
pub fn time(s: &str) -> Result<String, String> {
    let s = word(s)?;
    if s.eq_ignore_ascii_case("unlimited") || s.eq_ignore_ascii_case("infinite") {
        return Ok(s);
    }
    let numbers = |part: &str| -> Option<usize> {
        let fields: Vec<&str> = part.split(':').collect();
        let ok = fields
            .iter()
            .all(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()));
        ok.then_some(fields.len())
    };
    let valid = match s.split_once('-') {
        Some((days, rest)) => {
            !days.is_empty()
                && days.bytes().all(|b| b.is_ascii_digit())
                && numbers(rest).is_some_and(|n| (1..=3).contains(&n))
        }
        None => numbers(&s).is_some_and(|n| (1..=3).contains(&n)),
    };
    if valid {
        Ok(s)
    } else {
        Err("expected a Slurm time: MM, MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS (e.g. 24:00:00, 2-00:00:00)".into())
    }
}

/// A memory size with its unit: a number and `K`, `M`, `G` or `T` (Slurm reads a bare number as
/// megabytes, so `--mem 32` would ask for 32 MB); `0` asks for all of a node's memory.
pub fn mem(s: &str) -> Result<String, String> {
    let s = word(s)?;
    if s == "0" {
        return Ok(s);
    }
    let digits = s.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let unit = &s[digits.len()..];
    let number_ok = !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit());
    match unit.to_ascii_uppercase().as_str() {
        "K" | "M" | "G" | "T" | "KB" | "MB" | "GB" | "TB" if number_ok => Ok(s),
        "" if number_ok => Err(format!(
            "{s} has no unit, and Slurm would read it as {s} MB: write {s}G (or {s}M if megabytes are meant)"
        )),
        _ => Err("expected a size with a unit: a whole number and K, M, G or T (e.g. 16G)".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_follow_slurms_formats() {
        for ok in [
            "30",
            "30:00",
            "24:00:00",
            "2-00",
            "2-12:00",
            "1-00:00:00",
            "UNLIMITED",
        ] {
            assert_eq!(time(ok).as_deref(), Ok(ok));
        }
        for bad in [
            "banana",
            "",
            "1:2:3:4",
            "-1",
            "1-",
            "24h",
            "2-1:2:3:4",
            "1 h",
        ] {
            assert!(time(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn memory_needs_a_unit() {
        for ok in ["16G", "500M", "1T", "64gb", "0"] {
            assert_eq!(mem(ok).as_deref(), Ok(ok));
        }
        let bare = mem("32").err().unwrap_or_default();
        assert!(bare.contains("32 MB") && bare.contains("32G"), "{bare}");
        for bad in ["G", "16X", "1.5G", "-1G", ""] {
            assert!(mem(bad).is_err(), "{bad}");
        }
    }
}
