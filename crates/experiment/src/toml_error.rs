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

/// What a grid file that failed to parse as TOML looks like instead (`YAML`, `JSON`), by its
/// extension or its first line, so the error can say that grids are TOML.
pub fn not_toml(text: &str, path: &std::path::Path) -> Option<&'static str> {
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase());
    match ext.as_deref() {
        Some("yaml" | "yml") => return Some("YAML"),
        Some("json") => return Some("JSON"),
        _ => {}
    }
    let first = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))?;
    if first.starts_with('{') || (first.starts_with('[') && first.ends_with(',')) {
        Some("JSON")
    } else if first == "---" || first.starts_with("- ") || yaml_key(first) {
        Some("YAML")
    } else {
        None
    }
}

/// `name: value` or `name:` (a YAML mapping line; TOML would have `=`).
fn yaml_key(line: &str) -> bool {
    line.split_once(':').is_some_and(|(key, rest)| {
        !key.is_empty()
            && !key.contains('=')
            && key
                .chars()
                .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '"'))
            && (rest.is_empty() || rest.starts_with(' '))
    })
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
    fn yaml_and_json_are_recognised_and_toml_is_not() {
        use std::path::Path;
        let toml_path = Path::new("g.toml");
        assert_eq!(not_toml("name: demo\ndata:\n", toml_path), Some("YAML"));
        assert_eq!(not_toml("# c\n---\nname: demo\n", toml_path), Some("YAML"));
        assert_eq!(not_toml("{\"name\": \"demo\"}", toml_path), Some("JSON"));
        assert_eq!(not_toml("anything", Path::new("g.yml")), Some("YAML"));
        assert_eq!(not_toml("name = \"demo\"\n[data]\n", toml_path), None);
        assert_eq!(not_toml("[data]\nroot = 1\n", toml_path), None);
        assert_eq!(not_toml("name = \"a: b\"\n", toml_path), None);
    }

    #[test]
    fn line_of_counts_newlines_before_the_offset() {
        assert_eq!(line_of("a\nb\nc", 0), 1);
        assert_eq!(line_of("a\nb\nc", 2), 2);
        assert_eq!(line_of("a\nb\nc", 99), 3);
    }
}
