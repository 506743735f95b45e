//! A run folder's `config.toml`: the resolved [`RunConfig`], the first file a run writes, read
//! back by inference and by runs that start from another run's weights. Its path is
//! `cxr-results`' ([`RunDir::config_path`]); its reader and writer live here, beside the type,
//! so that the results crate needs no experiment code. Both report errors as the results crate
//! does for every run file ([`ResultsError`]).

use cxr_results::{write_atomic, ResultsError, RunDir};

use crate::config::RunConfig;
use crate::toml_error::one_line;

/// [`RunDir`]'s writer and reader of `config.toml` (bring the trait into scope to call them).
pub trait RunConfigFile {
    /// Writes the run's resolved settings to `config.toml`, atomically.
    fn write_config(&self, config: &RunConfig) -> cxr_results::Result<()>;

    /// Reads the run's `config.toml`; an error names the file and the line.
    fn read_config(&self) -> cxr_results::Result<RunConfig>;
}

impl RunConfigFile for RunDir {
    fn write_config(&self, config: &RunConfig) -> cxr_results::Result<()> {
        let path = self.config_path();
        let text = config.to_toml().map_err(|e| ResultsError::Record {
            path: path.clone(),
            message: format!(
                "{e}: {}",
                std::error::Error::source(&e).map_or_else(String::new, |s| s.to_string())
            ),
        })?;
        write_atomic(&path, text.as_bytes())
    }

    fn read_config(&self) -> cxr_results::Result<RunConfig> {
        let path = self.config_path();
        let text = std::fs::read_to_string(&path).map_err(|source| ResultsError::Io {
            path: path.clone(),
            source,
        })?;
        RunConfig::from_toml(&text).map_err(|e| ResultsError::Record {
            message: format!(
                "not a run config this cxr can read: {}",
                one_line(&e, &text)
            ),
            path,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Grid, Overrides};

    #[test]
    fn round_trips_and_names_the_line_of_a_bad_file(
    ) -> std::result::Result<(), Box<dyn std::error::Error>> {
        let grid = Grid::from_toml(
            "name = \"t\"\n[data.synthetic]\nper_class = 10\n[model]\nname = \"cnn\"\n",
            "t.toml".as_ref(),
            &Overrides::default(),
        )?;
        let config = &grid.runs[0].config;
        let dir = tempfile::tempdir()?;
        let run = RunDir::at(&dir.path().join("run"));
        run.write_config(config)?;
        assert_eq!(&run.read_config()?, config);
        assert_eq!(
            std::fs::read_to_string(run.config_path())?,
            config.to_toml()?
        );
        std::fs::write(run.config_path(), "seed = 0\nnot toml\n")?;
        let err = run.read_config().err().map(|e| e.to_string());
        assert!(
            err.as_deref().is_some_and(|m| m.contains("config.toml")
                && m.contains("not a run config this cxr can read: line 2")),
            "{err:?}"
        );
        Ok(())
    }
}
