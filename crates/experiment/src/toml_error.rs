//! TOML errors as cxr prints them: one line, led by the line of the file they point at.

/// A TOML error on one line: its message (lines joined by `; `), after `line N: ` when the
/// error points into `text` (the text that was parsed).
pub fn one_line(e: &toml::de::Error, text: &str) -> String {
    let message = flatten(e.message());
    match e.span() {
        Some(span) => format!("line {}: {message}", line_of(text, span.start)),
        None => message,
    }
}

/// The 1-based line of byte `offset` in `text` (the last line when past the end).
pub fn line_of(text: &str, offset: usize) -> usize {
    let before = &text.as_bytes()[..offset.min(text.len())];
    before.iter().filter(|&&b| b == b'\n').count() + 1
}

/// A possibly multi-line message on one line.
fn flatten(message: &str) -> String {
    message
        .trim()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_line_and_keeps_one_line() {
        let text = "a = 1\n\nb = [unclosed\n";
        let err = toml::from_str::<toml::Table>(text).err();
        let msg = err.map(|e| one_line(&e, text)).unwrap_or_default();
        assert!(msg.starts_with("line 3: "), "{msg}");
        assert_eq!(msg.lines().count(), 1, "{msg}");
    }

    #[test]
    fn line_of_counts_newlines_before_the_offset() {
        assert_eq!(line_of("a\nb\nc", 0), 1);
        assert_eq!(line_of("a\nb\nc", 2), 2);
        assert_eq!(line_of("a\nb\nc", 99), 3);
    }
}
