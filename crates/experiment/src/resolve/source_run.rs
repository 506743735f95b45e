//! A run that starts from another grid's run: which run of the (already expanded) source grid
//! it takes, and the check that a source run on the same dataset used the same split.

use cxr_models::ModelKind;

use super::Resolver;
use crate::config::{DataConfig, RunConfig, Weights};
use crate::error::Result;
use crate::raw::RawRunSource;
use crate::split::SplitSettings;

impl Resolver<'_> {
    /// The one run of a source grid whose kept weights a `name` run with `seed` and `split`
    /// starts from. Among several, the one of this run's seed, then of its split (a
    /// cross-validation source's run of this run's fold) is taken.
    pub(super) fn source_run(
        &self,
        setting: &str,
        source: &RawRunSource,
        name: ModelKind,
        seed: u64,
        split: &SplitSettings,
    ) -> Result<Weights> {
        let file = self.path(&source.grid);
        let grid = self.sources.get(&file).ok_or_else(|| {
            self.invalid(
                setting,
                file.display(),
                "the source grid was not expanded before this grid's runs were resolved",
            )
        })?;
        let model = source.model.unwrap_or(name);
        if model != name {
            return Err(self.invalid(
                &format!("{setting}.model"),
                model,
                format!("a {model}'s weights do not fit a {name}: take them from a {name} run"),
            ));
        }
        let mut matches: Vec<_> = grid
            .runs
            .iter()
            .filter(|r| r.config.model.name == model)
            .filter(|r| {
                source
                    .run
                    .as_ref()
                    .is_none_or(|id| r.id.starts_with(id.as_str()))
            })
            .collect();
        match source.seed {
            Some(s) => matches.retain(|r| r.config.seed == s),
            None if matches.len() > 1 && matches.iter().any(|r| r.config.seed == seed) => {
                matches.retain(|r| r.config.seed == seed)
            }
            None => {}
        }
        if matches.len() > 1 && matches.iter().any(|r| r.config.split == *split) {
            matches.retain(|r| r.config.split == *split);
        }
        match matches.as_slice() {
            [run] => Ok(Weights::Run {
                grid: grid.name.to_string(),
                run: run.id.clone(),
            }),
            [] => Err(self.invalid(
                setting,
                file.display(),
                format!(
                    "no {model} run of that grid matches (its runs: {}): add a {model} run to it or change model/seed/run",
                    grid.runs.iter().map(|r| r.id.as_str()).collect::<Vec<_>>().join(", ")
                ),
            )),
            several => Err(self.invalid(
                setting,
                file.display(),
                format!(
                    "{} runs of that grid match ({}): pick one with seed = <n> or run = \"<id prefix>\"",
                    several.len(),
                    several.iter().map(|r| r.id.as_str()).collect::<Vec<_>>().join(", ")
                ),
            )),
        }
    }

    /// A source run trained on this run's dataset must have split it the same way: otherwise
    /// its training images include this run's test images, and the test score is inflated.
    pub(super) fn same_split_on_same_data(
        &self,
        source: &RunConfig,
        run: &str,
        data: &DataConfig,
        split: &SplitSettings,
        seed: u64,
    ) -> Result<()> {
        if !source.data.source.same_data(&data.source) {
            return Ok(());
        }
        let differs = if source.seed != seed {
            format!("seed {} there, {seed} here", source.seed)
        } else if source.split != *split {
            format!("{} there, {split} here", source.split)
        } else if source.data.source.split_group() != data.source.split_group() {
            // One table split by film and by patient: other parts, so the source's training
            // films (and patients) include this run's test ones.
            let by = |g: Option<cxr_data::SplitGroup>| match g {
                Some(cxr_data::SplitGroup::Film) => "film",
                _ => "patient",
            };
            format!(
                "split by {} there, by {} here",
                by(source.data.source.split_group()),
                by(data.source.split_group())
            )
        } else if source.data.classes != data.classes
            || source.data.skip_unreadable != data.skip_unreadable
        {
            "another class list or set of readable images".to_string()
        } else {
            return Ok(());
        };
        Err(self.invalid(
            "model.weights",
            format!("{}/{run}", source.grid),
            format!(
                "the source run was trained on this dataset with another split ({differs}), so its training images include this run's test images: give both the same seed and split, or take the weights from a run on other data"
            ),
        ))
    }
}
