//! Matching class names across datasets: hospitals spell the same finding differently
//! (`Viral Pneumonia`, `Viral_Pneumonia`, `viral-pneumonia`), so names are compared
//! case-insensitively with runs of spaces, underscores and hyphens treated as one separator.

/// The comparison key of a class name: lower case, separators unified to one `_`, trimmed.
pub fn class_key(name: &str) -> String {
    let mut key = String::with_capacity(name.len());
    let mut pending_separator = false;
    for c in name.trim().chars() {
        if c == ' ' || c == '_' || c == '-' {
            pending_separator = true;
            continue;
        }
        if pending_separator && !key.is_empty() {
            key.push('_');
        }
        pending_separator = false;
        key.extend(c.to_lowercase());
    }
    key
}

/// The index of `name` in `classes` by [`class_key`], if any.
pub fn find_class(classes: &[String], name: &str) -> Option<usize> {
    let key = class_key(name);
    classes.iter().position(|c| class_key(c) == key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_of_one_class_match() {
        let classes = vec![
            "COVID".to_string(),
            "Lung_Opacity".to_string(),
            "Viral Pneumonia".to_string(),
        ];
        let cases = [
            ("Viral Pneumonia", Some(2)),
            ("Viral_Pneumonia", Some(2)),
            ("viral-pneumonia", Some(2)),
            (" VIRAL  PNEUMONIA ", Some(2)),
            ("lung opacity", Some(1)),
            ("covid", Some(0)),
            ("COVID-19", None),
            ("Normal", None),
            ("ViralPneumonia", None),
        ];
        for (name, expected) in cases {
            assert_eq!(find_class(&classes, name), expected, "{name:?}");
        }
    }
}
