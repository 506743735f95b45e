//! A run's params: its resolved `config.toml` flattened to dotted keys (`train.lr`,
//! `model.weights.kind`), plus any grid axis the config does not name, each within MLflow's
//! limits (keys of 250 characters, values of 6000), cut visibly with `...` where longer.

use std::collections::BTreeMap;

use cxr_results::AxisValue;

use crate::batch::KeyValue;
use crate::http::shorten;

/// Longest param value MLflow takes (`MAX_PARAM_VAL_LENGTH`, MLflow 2.x and 3.x).
pub const MAX_PARAM_VALUE: usize = 6000;
/// Longest param, tag or metric key MLflow takes (`MAX_ENTITY_KEY_LENGTH`).
pub const MAX_KEY: usize = 250;

/// The leaves of a TOML document as `dotted.key = text`, sorted by key: strings as they are,
/// numbers, booleans and dates as TOML writes them, arrays as their TOML text (`[1, 3, 5]`).
/// Empty tables give nothing.
pub fn flatten(config: &toml::Value) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    flatten_into("", config, &mut out);
    out
}

fn flatten_into(prefix: &str, value: &toml::Value, out: &mut BTreeMap<String, String>) {
    match value {
        toml::Value::Table(table) => {
            for (key, value) in table {
                let key = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                flatten_into(&key, value, out);
            }
        }
        toml::Value::String(s) => {
            out.insert(prefix.to_string(), s.clone());
        }
        toml::Value::Array(items) => {
            // Inline, whatever the items: `Value`'s Display writes a one-line TOML array.
            out.insert(
                prefix.to_string(),
                toml::Value::Array(items.clone()).to_string(),
            );
        }
        other => {
            out.insert(prefix.to_string(), other.to_string());
        }
    }
}

/// The params of a run: `config` flattened, then each of `axes` whose setting the config does
/// not hold (an axis is a setting, so normally it is there already), all within MLflow's
/// limits, sorted by key.
pub fn run_params(config: &toml::Value, axes: &[AxisValue]) -> Vec<KeyValue> {
    let mut params = flatten(config);
    for axis in axes {
        params
            .entry(axis.setting.clone())
            .or_insert_with(|| axis.value.clone());
    }
    let mut out: Vec<KeyValue> = params
        .into_iter()
        .map(|(key, value)| KeyValue::new(shorten(&key, MAX_KEY), shorten(&value, MAX_PARAM_VALUE)))
        .collect();
    // Two keys cut to the same 250 characters: keep the first, as MLflow would refuse the
    // second's different value.
    out.dedup_by(|b, a| a.key == b.key);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<toml::Value, toml::de::Error> {
        toml::from_str(text)
    }

    #[test]
    fn a_run_config_flattens_to_dotted_keys() -> Result<(), Box<dyn std::error::Error>> {
        // The shape of results/heads/runs/cnn-f5-knn-s0-2cb493efbefe/config.toml.
        let config = parse(
            r#"
            grid = "heads"
            seed = 0
            [data]
            image_size = 64
            mask = false
            [data.source]
            kind = "folder"
            [model]
            name = "cnn"
            freeze = 5
            [model.head]
            kind = "knn"
            k = [1, 3, 5, 11, 21]
            [model.empty]
            [train]
            lr = 0.001
            eps = 0.00000001
            "#,
        )?;
        let flat = flatten(&config);
        let expected = [
            ("data.image_size", "64"),
            ("data.mask", "false"),
            ("data.source.kind", "folder"),
            ("grid", "heads"),
            ("model.freeze", "5"),
            ("model.head.k", "[1, 3, 5, 11, 21]"),
            ("model.head.kind", "knn"),
            ("model.name", "cnn"),
            ("seed", "0"),
            ("train.eps", "0.00000001"), // as config.toml writes it
            ("train.lr", "0.001"),
        ];
        let got: Vec<(&str, &str)> = flat.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(got, expected);
        Ok(())
    }

    #[test]
    fn axes_fill_in_only_what_the_config_lacks() -> Result<(), Box<dyn std::error::Error>> {
        let config = parse("[model]\nname = \"cnn\"\n")?;
        let axes = [
            AxisValue::new("model.name", "resnet18"),
            AxisValue::new("model.weights", "random"),
        ];
        let params = run_params(&config, &axes);
        assert_eq!(
            params,
            [
                KeyValue::new("model.name", "cnn"),
                KeyValue::new("model.weights", "random")
            ]
        );
        Ok(())
    }

    #[test]
    fn long_keys_and_values_are_cut_visibly() -> Result<(), Box<dyn std::error::Error>> {
        let long_value = "x".repeat(MAX_PARAM_VALUE + 10);
        let long_key = "k".repeat(MAX_KEY + 10);
        let config = parse(&format!(
            "a = \"{long_value}\"\n{long_key} = 1\n{long_key}2 = 2\n"
        ))?;
        let params = run_params(&config, &[]);
        assert_eq!(
            params.len(),
            2,
            "the two long keys cut alike keep one param"
        );
        assert_eq!(params[0].value.chars().count(), MAX_PARAM_VALUE);
        assert!(params[0].value.ends_with("xx..."));
        assert_eq!(params[1].key.chars().count(), MAX_KEY);
        assert!(params[1].key.ends_with("..."));
        Ok(())
    }
}
