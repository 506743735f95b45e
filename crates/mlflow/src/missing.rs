//! What a run already on the server lacks of its export ([`Delta`]): the params it does not
//! have, the metric steps missing from each metric's history, the tags it lacks or holds
//! another value of, the artifacts missing (or of another size, as an upload cut short leaves
//! them), and whether its status and end time are still to be set. Nothing here talks to the
//! server: [`RemoteState`] is what the export fetched.

use std::collections::{BTreeMap, BTreeSet};

use crate::artifacts::Artifact;
use crate::batch::{KeyValue, MetricPoint};
use crate::remote::RemoteRun;
use crate::run_export::RunExport;

/// What the server holds of a run, as far as completing its export needs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RemoteState {
    /// The run, with its params, tags and the metrics it has values of.
    pub run: RemoteRun,
    /// The steps each metric of [`metrics_to_fetch`] has values at.
    pub metric_steps: BTreeMap<String, BTreeSet<i64>>,
    /// Its artifact files by path (`figures/curves.png`), with their sizes.
    pub artifacts: BTreeMap<String, Option<u64>>,
}

/// The metrics of `export` whose history must be fetched to know which steps `run` lacks: those
/// it has any value of (the others lack every step).
pub fn metrics_to_fetch(export: &RunExport, run: &RemoteRun) -> BTreeSet<String> {
    export
        .metrics
        .iter()
        .filter(|m| run.metric_keys.contains(&m.key))
        .map(|m| m.key.clone())
        .collect()
}

/// The artifact folders of `export` to list: the root (`""`) and each folder a file sits in.
pub fn artifact_folders(export: &RunExport) -> BTreeSet<String> {
    let mut folders = BTreeSet::from([String::new()]);
    for artifact in &export.artifacts {
        if let Some((folder, _)) = artifact.path.rsplit_once('/') {
            folders.insert(folder.to_string());
        }
    }
    folders
}

/// What to send to complete a run's export.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Delta<'a> {
    /// Params the run lacks.
    pub params: Vec<KeyValue>,
    /// Params the run holds with another value: MLflow never changes a param, so these stay
    /// as they are (`(key, the server's value)`).
    pub conflicting_params: Vec<(String, String)>,
    /// Metric values at steps the run lacks.
    pub metrics: Vec<MetricPoint>,
    /// Tags the run lacks or holds another value of.
    pub tags: Vec<KeyValue>,
    /// Files to upload.
    pub artifacts: Vec<&'a Artifact>,
    /// The run's status or end time is still to be set.
    pub finish: bool,
}

impl<'a> Delta<'a> {
    /// What `remote` lacks of `export`.
    pub fn between(export: &'a RunExport, remote: &RemoteState) -> Self {
        let run = &remote.run;
        let mut delta = Self::default();
        for param in &export.params {
            match run.params.get(&param.key) {
                None => delta.params.push(param.clone()),
                Some(value) if *value != param.value => {
                    delta
                        .conflicting_params
                        .push((param.key.clone(), value.clone()));
                }
                Some(_) => {}
            }
        }
        let no_steps = BTreeSet::new();
        delta.metrics = export
            .metrics
            .iter()
            .filter(|m| {
                !remote
                    .metric_steps
                    .get(&m.key)
                    .unwrap_or(&no_steps)
                    .contains(&m.step)
            })
            .cloned()
            .collect();
        delta.tags = export
            .tags
            .iter()
            .filter(|t| run.tags.get(&t.key) != Some(&t.value))
            .cloned()
            .collect();
        delta.artifacts = export
            .artifacts
            .iter()
            .filter(|a| match remote.artifacts.get(&a.path) {
                // A listing without sizes (some stores): present is enough.
                Some(size) => size.is_some_and(|s| s != a.size),
                None => true,
            })
            .collect();
        delta.finish = run.status != export.status.as_str() || run.end_time.is_none();
        delta
    }

    /// Nothing to send (conflicting params aside, which cannot be sent).
    pub fn is_empty(&self) -> bool {
        self.params.is_empty()
            && self.metrics.is_empty()
            && self.tags.is_empty()
            && self.artifacts.is_empty()
            && !self.finish
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run_export::RunStatus;
    use std::path::PathBuf;

    fn point(key: &str, step: i64) -> MetricPoint {
        MetricPoint {
            key: key.into(),
            value: step as f64,
            step,
            timestamp_ms: 1000 + step,
        }
    }

    fn artifact(path: &str, size: u64) -> Artifact {
        Artifact {
            path: path.into(),
            file: PathBuf::from(path),
            size,
            hash: String::new(),
        }
    }

    fn export() -> RunExport {
        RunExport {
            run_id: "cnn-f0-s0-0123456789ab".into(),
            status: RunStatus::Finished,
            start_time_ms: 1000,
            end_time_ms: 9000,
            params: vec![
                KeyValue::new("model.name", "cnn"),
                KeyValue::new("train.lr", "0.002"),
            ],
            metrics: vec![
                point("train_loss", 1),
                point("train_loss", 2),
                point("train_loss", 3),
                point("test_micro_recall", 0),
            ],
            tags: vec![
                KeyValue::new("cxr.run_id", "cnn-f0-s0-0123456789ab"),
                KeyValue::new("cxr.status", "ok"),
            ],
            artifacts: vec![
                artifact("config.toml", 10),
                artifact("figures/curves.png", 20),
            ],
            fingerprint: "f".into(),
        }
    }

    /// The state an export killed after its first log-batch leaves: run created with its
    /// tags, some params, the first epochs of one metric, one artifact cut short.
    fn interrupted() -> RemoteState {
        RemoteState {
            run: RemoteRun {
                run_id: "m1".into(),
                status: "RUNNING".into(),
                params: BTreeMap::from([("model.name".into(), "cnn".into())]),
                tags: BTreeMap::from([
                    ("cxr.run_id".into(), "cnn-f0-s0-0123456789ab".into()),
                    ("cxr.status".into(), "ok".into()),
                ]),
                metric_keys: BTreeSet::from(["train_loss".into()]),
                ..RemoteRun::default()
            },
            metric_steps: BTreeMap::from([("train_loss".into(), BTreeSet::from([1, 2]))]),
            artifacts: BTreeMap::from([("config.toml".into(), Some(4))]),
        }
    }

    #[test]
    fn an_interrupted_export_lacks_exactly_the_rest() {
        let export = export();
        let remote = interrupted();
        assert_eq!(
            metrics_to_fetch(&export, &remote.run),
            BTreeSet::from(["train_loss".into()])
        );
        assert_eq!(
            artifact_folders(&export),
            BTreeSet::from([String::new(), "figures".into()])
        );
        let delta = Delta::between(&export, &remote);
        assert_eq!(delta.params, [KeyValue::new("train.lr", "0.002")]);
        assert_eq!(
            delta.metrics,
            [point("train_loss", 3), point("test_micro_recall", 0)]
        );
        assert!(delta.tags.is_empty());
        let uploads: Vec<&str> = delta.artifacts.iter().map(|a| a.path.as_str()).collect();
        assert_eq!(
            uploads,
            ["config.toml", "figures/curves.png"],
            "4 of 10 bytes: again"
        );
        assert!(delta.finish && !delta.is_empty());
    }

    #[test]
    fn a_complete_run_lacks_nothing() {
        let export = export();
        let mut remote = interrupted();
        remote.run.status = "FINISHED".into();
        remote.run.end_time = Some(9000);
        remote.run.params.insert("train.lr".into(), "0.002".into());
        remote.run.metric_keys.insert("test_micro_recall".into());
        remote
            .metric_steps
            .insert("train_loss".into(), BTreeSet::from([1, 2, 3]));
        remote
            .metric_steps
            .insert("test_micro_recall".into(), BTreeSet::from([0]));
        remote.artifacts = BTreeMap::from([
            ("config.toml".into(), Some(10)),
            ("figures/curves.png".into(), None),
        ]);
        let delta = Delta::between(&export, &remote);
        assert!(delta.is_empty(), "{delta:?}");
    }

    #[test]
    fn changed_tags_are_set_and_changed_params_left_alone() {
        let export = export();
        let mut remote = interrupted();
        remote.run.tags.insert("cxr.status".into(), "failed".into());
        remote.run.params.insert("train.lr".into(), "0.1".into());
        let delta = Delta::between(&export, &remote);
        assert_eq!(delta.tags, [KeyValue::new("cxr.status", "ok")]);
        assert!(delta.params.is_empty());
        assert_eq!(
            delta.conflicting_params,
            [("train.lr".to_string(), "0.1".to_string())]
        );
    }
}
