//! `[train]`: the sampler, Adam's hyperparameters, the epoch budget, the batch size, what the
//! run trains and where.

use super::data::TableFacts;
use super::Resolver;
use crate::config::{AdamSettings, PosWeight, StopMetric, Task, TrainSettings};
use crate::defaults;
use crate::error::Result;
use crate::raw::RawRun;

impl Resolver<'_> {
    /// The training settings; `--device` replaces `train.device`; the task defaults to
    /// `multilabel` on a label table with several findings per film (`facts`).
    pub(super) fn train(&self, raw: &RawRun, facts: TableFacts) -> Result<TrainSettings> {
        let t = raw.train.clone().unwrap_or_default();
        let (task, early_stopping) = self.task(&t, facts)?;
        let def = AdamSettings::default();
        let lr = t.lr.unwrap_or(def.lr);
        if !(lr > 0.0 && lr <= 1.0) {
            return Err(self.invalid("train.lr", lr, "allowed range is (0, 1]"));
        }
        let beta = |name: &str, v: f64| {
            if (0.0..1.0).contains(&v) {
                Ok(v)
            } else {
                Err(self.invalid(name, v, "allowed range is [0, 1)"))
            }
        };
        let eps = t.eps.unwrap_or(def.eps);
        if !(eps > 0.0 && eps < 1.0) {
            return Err(self.invalid("train.eps", eps, "allowed range is (0, 1)"));
        }
        let weight_decay = t.weight_decay.unwrap_or(def.weight_decay);
        if !(0.0..=1.0).contains(&weight_decay) {
            return Err(self.invalid("train.weight_decay", weight_decay, "allowed range is 0..=1"));
        }
        let adam = AdamSettings {
            lr,
            beta1: beta("train.beta1", t.beta1.unwrap_or(def.beta1))?,
            beta2: beta("train.beta2", t.beta2.unwrap_or(def.beta2))?,
            eps,
            weight_decay,
        };
        Ok(TrainSettings {
            sampler: t.sampler.unwrap_or_default(),
            adam,
            max_epochs: self.range(
                "train.max_epochs",
                t.max_epochs.unwrap_or(defaults::MAX_EPOCHS),
                1,
                100_000,
            )?,
            patience: self.range(
                "train.patience",
                t.patience.unwrap_or(defaults::PATIENCE),
                1,
                100_000,
            )?,
            batch_size: self.range(
                "train.batch_size",
                t.batch_size.unwrap_or(defaults::BATCH_SIZE),
                1,
                65_536,
            )?,
            early_stopping,
            prefix_cache: t.prefix_cache.unwrap_or(defaults::PREFIX_CACHE),
            objective: t.objective.unwrap_or_default(),
            calibrate: t.calibrate.unwrap_or(defaults::CALIBRATE),
            device: match (self.overrides.device, &t.device) {
                (Some(device), _) => device,
                (None, None) => defaults::DEVICE,
                (None, Some(text)) => text.parse().map_err(|_| {
                    self.invalid(
                        "train.device",
                        format!("{text:?}"),
                        format!("use {}", cxr_models::device::DEVICE_VALUES),
                    )
                })?,
            },
            task,
            uncertain: t.uncertain.unwrap_or_default(),
            pos_weight: t.pos_weight.unwrap_or_default(),
        })
    }

    /// `train.task` and what early stopping follows: multi-label needs a label table and stops
    /// on validation mean AUROC by default; the multi-label settings need multi-label.
    fn task(&self, t: &crate::raw::RawTrain, facts: TableFacts) -> Result<(Task, StopMetric)> {
        let task = t.task.unwrap_or(if facts.table && facts.multi_label {
            Task::Multilabel
        } else {
            Task::Multiclass
        });
        match task {
            Task::Multilabel if !facts.table => Err(self.invalid(
                "train.task",
                "multilabel",
                "class folders give one class per film: multi-label training needs a label table (data.labels)",
            )),
            Task::Multilabel => {
                let stop = t.early_stopping.unwrap_or(StopMetric::ValMeanAuroc);
                Ok((task, stop))
            }
            Task::Multiclass => {
                if t.early_stopping == Some(StopMetric::ValMeanAuroc) {
                    return Err(self.invalid(
                        "train.early_stopping",
                        "val_mean_auroc",
                        "mean AUROC over findings is a multi-label number: use val_micro_recall, val_macro_recall or val_loss, or task = \"multilabel\"",
                    ));
                }
                for (setting, given) in [
                    ("train.uncertain", t.uncertain.is_some()),
                    ("train.pos_weight", t.pos_weight.is_some_and(|p| p != PosWeight::None)),
                ] {
                    if given {
                        return Err(self.invalid(
                            setting,
                            "(set)",
                            "it applies to multi-label training: set task = \"multilabel\" or leave it out",
                        ));
                    }
                }
                Ok((task, t.early_stopping.unwrap_or_default()))
            }
        }
    }
}
