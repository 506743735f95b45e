//! The Slurm submission of a grid, for users who outgrow one machine: one sbatch script that is
//! the grid's *preparation job* and submits one job array per grid stage.
//!
//! `sbatch <script>` queues the preparation job. When it starts, it first submits an array per
//! stage (a source grid's array before the grids that take weights from it), each with
//! `--dependency=afterok:` on the preparation job and on its source stages' arrays, then builds
//! the data caches and downloads the published weights (`cxr sweep <grid> --prepare`), so that N
//! array tasks read one cache instead of decoding the dataset N times. If the preparation
//! fails, `--kill-on-invalid-dep=yes` cancels the arrays that wait for it. Array task `i` runs
//! `cxr sweep <stage grid> --cell i` with `--cpus-per-task` threads, logging to
//! `<results>/<stage>/logs/<run-id>.log` (Slurm's own `slurm-<job>_<task>.out` beside it keeps
//! only the task's first line and what Slurm itself says, e.g. a cancellation). A finished run
//! is skipped, so resubmitting the same script resumes: only unfinished runs train. Every
//! finishing cell rebuilds its grid's merged summary under a file lock (see `cxr-results`).

use crate::grid::Grid;

/// What every job of the submission asks Slurm for.
#[derive(Debug, Clone, PartialEq)]
pub struct SlurmResources {
    /// `--partition`; `None` = the cluster's default.
    pub partition: Option<String>,
    /// `--time` per job (the preparation job and each array task), e.g. `24:00:00`.
    pub time: String,
    /// `--cpus-per-task`, also each run's thread count (`CXR_THREADS`).
    pub cpus_per_task: usize,
    /// `--mem` per job, e.g. `16G`; `None` = the cluster's default.
    pub mem: Option<String>,
    /// `--gres` of the array tasks (not the preparation job), e.g. `gpu:1`.
    pub gres: Option<String>,
    /// The arrays' `%N`: at most this many tasks of one array run at once.
    pub max_parallel: Option<usize>,
}

impl Default for SlurmResources {
    fn default() -> Self {
        Self {
            partition: None,
            time: "24:00:00".into(),
            cpus_per_task: 8,
            mem: None,
            gres: None,
            max_parallel: None,
        }
    }
}

/// Settings of the generated script.
#[derive(Debug, Clone)]
pub struct SlurmOptions {
    /// The cxr binary the jobs run (an absolute path: compute nodes have no `cargo`).
    pub cxr: String,
    /// Folder every job runs in (`--chdir`): where the grid, results and log paths resolve.
    pub workdir: String,
    /// The results root (`--results`); stage `g` writes to `<results>/g/`.
    pub results: String,
    /// Further `cxr sweep` arguments for every stage (e.g. `--cache-dir DIR`), unquoted.
    pub shared_args: Vec<String>,
    /// Further arguments for the named grid only, not its sources (`--data DIR`), unquoted.
    pub grid_args: Vec<String>,
    /// Where the script is written, for its own usage lines.
    pub script: String,
    /// What the jobs ask for.
    pub resources: SlurmResources,
}

impl SlurmOptions {
    /// The folder of a stage's logs, relative to `workdir` unless `results` is absolute.
    pub fn log_dir(&self, grid: &Grid) -> String {
        format!("{}/{}/logs", self.results.trim_end_matches('/'), grid.name)
    }

    /// `cxr sweep <stage> --results R <shared> [<grid args>]`, quoted.
    fn sweep_command(&self, stage: &Grid, named: bool) -> String {
        let mut words = vec![
            self.cxr.clone(),
            "sweep".into(),
            stage.path.to_string_lossy().into_owned(),
            "--results".into(),
            self.results.clone(),
        ];
        words.extend(self.shared_args.iter().cloned());
        if named {
            words.extend(self.grid_args.iter().cloned());
        }
        let words: Vec<String> = words.iter().map(|w| shell_quote(w)).collect();
        words.join(" ")
    }

    /// The `#SBATCH` lines every job shares.
    fn common_directives(&self) -> Vec<String> {
        let r = &self.resources;
        let mut lines = Vec::new();
        if let Some(partition) = &r.partition {
            lines.push(directive("partition", partition));
        }
        lines.push(directive("cpus-per-task", &r.cpus_per_task.to_string()));
        if let Some(mem) = &r.mem {
            lines.push(directive("mem", mem));
        }
        lines.push(directive("time", &r.time));
        lines.push(directive("chdir", &self.workdir));
        lines
    }

    /// Sets the runs' threads from what Slurm granted.
    fn threads_line(&self) -> String {
        format!(
            "export CXR_THREADS=\"${{SLURM_CPUS_PER_TASK:-{}}}\"",
            self.resources.cpus_per_task
        )
    }
}

/// One `#SBATCH --name=value` line; sbatch splits these lines at blanks unless double-quoted.
fn directive(name: &str, value: &str) -> String {
    if value.contains(char::is_whitespace) {
        format!("#SBATCH --{name}=\"{value}\"")
    } else {
        format!("#SBATCH --{name}={value}")
    }
}

/// The shell variable holding the job id of stage `n`'s array.
fn job_var(n: usize) -> String {
    format!("array_{n}")
}

/// The sbatch script for `grid`: the preparation job, which submits one array per stage.
pub fn sbatch_script(grid: &Grid, opts: &SlurmOptions) -> String {
    let stages = grid.stages();
    let prepare_name = format!("cxr-{}-prepare", grid.name);
    let script = shell_quote(&opts.script);
    let mut lines = vec![
        "#!/usr/bin/env bash".to_string(),
        format!(
            "# Generated by `cxr sweep {} --emit-slurm {}`.",
            grid.path.display(),
            opts.script
        ),
        format!("# Submit:  sbatch {script}   (or: bash {script}, which submits it)"),
        "# This job builds the data cache and fetches weights once, and submits one job array per"
            .to_string(),
        "# grid stage, which starts when it (and the stage's sources) succeeded.".to_string(),
        format!("# Watch:   squeue --me --name={prepare_name}{}", {
            let names: Vec<String> = stages.iter().map(|s| format!(",cxr-{}", s.name)).collect();
            names.concat()
        }),
        format!(
            "#          tail -f {}/<run-id>.log   (one log per run)",
            shell_quote(&opts.log_dir(grid))
        ),
        format!("# Resume:  sbatch {script} again: finished runs are skipped, the rest train."),
        directive("job-name", &prepare_name),
    ];
    lines.extend(opts.common_directives());
    lines.push(directive(
        "output",
        &format!("{}/prepare-%j.out", opts.log_dir(grid)),
    ));
    lines.extend([
        "set -euo pipefail".to_string(),
        "if [ -z \"${SLURM_JOB_ID:-}\" ]; then".to_string(),
        format!("  cd {}", shell_quote(&opts.workdir)),
        format!("  mkdir -p {}", shell_quote(&opts.log_dir(grid))),
        "  exec sbatch \"$0\"".to_string(),
        "fi".to_string(),
        opts.threads_line(),
    ]);
    for (n, stage) in stages.iter().enumerate() {
        let mut after = vec!["$SLURM_JOB_ID".to_string()];
        for source in &stage.sources {
            if let Some(k) = stages.iter().position(|s| s.path == source.path) {
                after.push(format!("${}", job_var(k)));
            }
        }
        let var = job_var(n);
        lines.push(String::new());
        lines.push(format!(
            "# Grid {} ({}): {} run(s).",
            stage.name,
            stage.path.display(),
            stage.runs.len()
        ));
        lines.push(format!("mkdir -p {}", shell_quote(&opts.log_dir(stage))));
        lines.push(format!(
            "{var}=$(sbatch --parsable --dependency=afterok:{} --kill-on-invalid-dep=yes <<'ARRAY'",
            after.join(":")
        ));
        lines.extend(array_script(stage, n + 1 == stages.len(), opts));
        lines.push("ARRAY".to_string());
        lines.push(")".to_string());
        lines.push(format!("{var}=${{{var}%%;*}}"));
        lines.push(format!(
            "echo \"submitted grid {} as job array ${var} ({} task(s)), after job {}\"",
            stage.name,
            stage.runs.len(),
            after.join(", ")
        ));
    }
    lines.push(String::new());
    lines.push(format!("{} --prepare", opts.sweep_command(grid, true)));
    lines.join("\n") + "\n"
}

/// The script of one stage's array, as sbatch reads it from the here-document.
fn array_script(stage: &Grid, named: bool, opts: &SlurmOptions) -> Vec<String> {
    let r = &opts.resources;
    let last = stage.runs.len().saturating_sub(1);
    let limit = r.max_parallel.map_or(String::new(), |n| format!("%{n}"));
    let log_dir = opts.log_dir(stage);
    let mut lines = vec![
        "#!/usr/bin/env bash".to_string(),
        directive("job-name", &format!("cxr-{}", stage.name)),
        directive("array", &format!("0-{last}{limit}")),
    ];
    lines.extend(opts.common_directives());
    if let Some(gres) = &r.gres {
        lines.push(directive("gres", gres));
    }
    lines.push(directive("output", &format!("{log_dir}/slurm-%A_%a.out")));
    // SIGUSR1 to this shell 120 s before the time limit: the task stops and requeues itself.
    // A preemption (PreemptMode=REQUEUE) sends SIGTERM and Slurm requeues the task; a user's
    // scancel sends SIGTERM too and ends it. Either way cxr keeps its last epoch checkpoint,
    // and a rerun resumes the run from it.
    lines.push(directive("signal", "B:USR1@120"));
    lines.push("#SBATCH --requeue".to_string());
    lines.extend([
        "set -euo pipefail".to_string(),
        opts.threads_line(),
        "# Run ids by array index (`cxr sweep --dry-run` lists the same):".to_string(),
        "runs=(".to_string(),
    ]);
    for run in &stage.runs {
        lines.push(format!("  {}  # {}", run.id, run.index));
    }
    lines.extend([
        ")".to_string(),
        "run=\"${runs[$SLURM_ARRAY_TASK_ID]}\"".to_string(),
        format!("log={}/\"$run\".log", shell_quote(&log_dir)),
        "echo \"array task $SLURM_ARRAY_TASK_ID: run $run, log in $log\"".to_string(),
        "echo \"--- $(date -u +%FT%TZ) job ${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID} on $(hostname)\" >>\"$log\""
            .to_string(),
        "# SIGTERM or SIGINT (scancel, preemption) and SIGUSR1 (the time limit's warning) are passed"
            .to_string(),
        "# on to cxr as SIGTERM: it stops before its next batch, keeping its last epoch checkpoint,"
            .to_string(),
        "# and exits 3. After SIGUSR1 the task requeues itself; its rerun resumes the run."
            .to_string(),
        "set +e".to_string(),
        "requeue=0".to_string(),
        format!(
            "{} --cell \"$SLURM_ARRAY_TASK_ID\" --expect-run \"$run\" >>\"$log\" 2>&1 &",
            opts.sweep_command(stage, named)
        ),
        "cxr_pid=$!".to_string(),
        "trap 'kill -TERM \"$cxr_pid\" 2>/dev/null' TERM INT".to_string(),
        "trap 'requeue=1; kill -TERM \"$cxr_pid\" 2>/dev/null' USR1".to_string(),
        "wait \"$cxr_pid\"; rc=$?".to_string(),
        "while [ \"$rc\" -gt 128 ] && kill -0 \"$cxr_pid\" 2>/dev/null; do wait \"$cxr_pid\"; rc=$?; done"
            .to_string(),
        "if [ \"$rc\" -gt 128 ]; then wait \"$cxr_pid\" 2>/dev/null; again=$?; [ \"$again\" -eq 127 ] || rc=$again; fi"
            .to_string(),
        "if [ \"$rc\" -eq 3 ] && [ \"$requeue\" = 1 ]; then".to_string(),
        "  echo \"--- $(date -u +%FT%TZ) near the time limit: requeueing ${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}\" >>\"$log\""
            .to_string(),
        "  scontrol requeue \"${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}\" >>\"$log\" 2>&1".to_string(),
        "fi".to_string(),
        "exit \"$rc\"".to_string(),
    ]);
    lines
}

/// Quotes `s` for a POSIX shell when it holds anything but safe characters.
pub fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-=:,+".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Overrides;

    fn options() -> SlurmOptions {
        SlurmOptions {
            cxr: "/opt/cxr".into(),
            workdir: "/home/me/project dir".into(),
            results: "my results".into(),
            shared_args: vec!["--cache-dir".into(), "/scratch/cache".into()],
            grid_args: vec!["--data".into(), "/data/covid".into()],
            script: "job.sh".into(),
            resources: SlurmResources {
                partition: Some("cpu".into()),
                mem: Some("16G".into()),
                gres: Some("gpu:1".into()),
                max_parallel: Some(2),
                ..SlurmResources::default()
            },
        }
    }

    #[test]
    fn a_preparation_job_then_one_array_task_per_run() -> Result<(), Box<dyn std::error::Error>> {
        let grid = Grid::from_toml(
            "name = \"g\"\n[data.synthetic]\nper_class = 10\n[grid]\nmodel = [\"cnn\", \"resnet18\"]\nfreeze = [0, 4]\n",
            "g.toml".as_ref(),
            &Overrides::default(),
        )?;
        let script = sbatch_script(&grid, &options());
        let (prepare, rest) = script.split_once("<<'ARRAY'\n").ok_or("no array")?;
        let (array, tail) = rest.split_once("\nARRAY\n").ok_or("no array end")?;
        for directive in [
            "--job-name=cxr-g-prepare",
            "--partition=cpu",
            "--cpus-per-task=8",
            "--mem=16G",
            "--time=24:00:00",
            "--chdir=\"/home/me/project dir\"",
            "--output=\"my results/g/logs/prepare-%j.out\"",
        ] {
            assert!(
                prepare.contains(&format!("#SBATCH {directive}\n")),
                "{directive}\n{script}"
            );
        }
        assert!(!prepare.contains("--gres"), "the preparation needs no GPU");
        assert!(prepare.contains(
            "array_0=$(sbatch --parsable --dependency=afterok:$SLURM_JOB_ID --kill-on-invalid-dep=yes "
        ));
        for directive in [
            "--job-name=cxr-g",
            "--array=0-2%2",
            "--gres=gpu:1",
            "--output=\"my results/g/logs/slurm-%A_%a.out\"",
        ] {
            assert!(
                array.contains(&format!("#SBATCH {directive}\n")),
                "{directive}\n{array}"
            );
        }
        assert!(array.contains("export CXR_THREADS=\"${SLURM_CPUS_PER_TASK:-8}\"\n"));
        for run in &grid.runs {
            assert!(array.contains(&format!("  {}  # {}\n", run.id, run.index)));
        }
        assert!(array.contains(
            "\n/opt/cxr sweep g.toml --results 'my results' --cache-dir /scratch/cache --data /data/covid \
             --cell \"$SLURM_ARRAY_TASK_ID\" --expect-run \"$run\" >>\"$log\" 2>&1 &\n"
        ), "{array}");
        // The time limit's warning requeues the task (preemption is requeued by Slurm), which
        // then resumes.
        assert!(
            array.contains("#SBATCH --signal=B:USR1@120\n#SBATCH --requeue\n"),
            "{array}"
        );
        assert!(
            array.contains("  scontrol requeue \"${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}\"")
        );
        assert!(array.ends_with("exit \"$rc\""), "{array}");
        assert!(tail.ends_with(
            "/opt/cxr sweep g.toml --results 'my results' --cache-dir /scratch/cache --data /data/covid --prepare\n"
        ), "{tail}");
        assert_eq!(shell_quote("it's"), "'it'\\''s'");
        Ok(())
    }

    #[test]
    fn a_chained_grid_is_an_array_after_its_source_array() -> Result<(), Box<dyn std::error::Error>>
    {
        let dir = tempfile::tempdir()?;
        std::fs::write(
            dir.path().join("source.toml"),
            "name = \"src\"\n[data.synthetic]\nper_class = 10\n[model]\nname = \"resnet18\"\n",
        )?;
        let target = dir.path().join("target.toml");
        std::fs::write(
            &target,
            "name = \"fine\"\n[data.synthetic]\nper_class = 10\n[model]\nname = \"resnet18\"\n\
             weights = { grid = \"source.toml\" }\n[grid]\nfreeze = [0, 2]\n",
        )?;
        let grid = Grid::from_file(&target, &Overrides::default())?;
        let script = sbatch_script(&grid, &options());
        let source = script
            .find("#SBATCH --job-name=cxr-src\n")
            .ok_or("source")?;
        let fine = script.find("#SBATCH --job-name=cxr-fine\n").ok_or("fine")?;
        assert!(source < fine, "the source array is submitted first");
        assert!(script.contains(
            "array_1=$(sbatch --parsable --dependency=afterok:$SLURM_JOB_ID:$array_0 --kill-on-invalid-dep=yes "
        ), "{script}");
        // --data is for the named grid; a source grid trains on the data its file names.
        let source_array = &script[source..fine];
        assert!(source_array
            .contains("source.toml --results 'my results' --cache-dir /scratch/cache --cell"));
        assert!(source_array.contains("#SBATCH --array=0-0%2\n"));
        Ok(())
    }
}
