#!/usr/bin/env python3
"""Checks what `cxr export mlflow` wrote, with MLflow's own client (run by scripts/mlflow-test.sh).

    mlflow_check.py verify URI EXPERIMENT GRID_DIR   every finished run of GRID_DIR is exactly one
                                                     MLflow run of EXPERIMENT, equal to its files
    mlflow_check.py interrupted URI EXPERIMENT       an export stopped mid-way: some run is still
                                                     RUNNING and has no cxr.export tag
    mlflow_check.py drop-tag URI EXPERIMENT RUN TAG  deletes tag TAG of cxr run RUN's MLflow run
    mlflow_check.py fail-copy GRID_DIR RUN NEW_RUN   copies run folder RUN as a failed run NEW_RUN
                                                     (status failed, an error, a NaN loss)

`verify` reads each run folder independently of cxr (tomllib, pandas) and compares every
param, every epoch of every per-epoch metric (values, steps, no duplicates), every final metric,
the tags, and the artifact listing (downloading config.toml and predictions.parquet to compare
bytes). Any difference exits 1 with a message saying which run and what.
"""

import argparse
import math
import pathlib
import shutil
import sys
import tempfile
import tomllib

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from mlflow import MlflowClient

# history.parquet's per-epoch columns, logged under their own names (crates/mlflow/src/metrics.rs).
EPOCH_METRICS = ["train_loss", "val_loss", "val_micro_recall", "val_macro_recall",
                 "val_mean_auroc", "train_time_s", "eval_time_s"]
# summary.parquet columns that are also per-epoch names, logged under another name.
RENAMED = {"eval_time_s": "mean_eval_time_s", "val_micro_recall": "kept_val_micro_recall",
           "val_macro_recall": "kept_val_macro_recall", "val_mean_auroc": "kept_val_mean_auroc"}
# summary.parquet columns that are not metrics (settings are params, words are tags).
NOT_METRICS = {"run_id", "grid", "model", "freeze", "seed", "fold", "folds", "image_size", "axes",
               "lr", "batch_size", "sampler", "device", "pretrained", "objective", "head",
               "head_params", "status", "error", "task", "config_json"}
# Files of a run folder exported as artifacts, and the report's figures of a run.
RUN_FILES = ["config.toml", "summary.parquet", "history.parquet", "per_class.parquet",
             "confusion.parquet", "per_finding.parquet", "predictions.parquet",
             "preprocessing.json", "calibration.json", "reconstructions.png"]
FIGURES = [f"{stem}.{ext}" for stem in ("curves", "confusion", "reliability") for ext in ("png", "svg")]


def fail(message):
    print(f"mlflow_check FAILED: {message}", file=sys.stderr)
    sys.exit(1)


def flatten(table, prefix=""):
    out = {}
    for key, value in table.items():
        key = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flatten(value, f"{key}."))
        else:
            out[key] = value
    return out


def same_param(text, value):
    if isinstance(value, bool):
        return text == ("true" if value else "false")
    if isinstance(value, int):
        return text == str(value)
    if isinstance(value, float):
        return float(text) == value
    if isinstance(value, list):
        return tomllib.loads(f"v = {text}")["v"] == value
    return text == str(value)


def same_number(a, b):
    return (math.isnan(a) and math.isnan(b)) or a == b


def experiment_runs(client, name):
    experiment = client.get_experiment_by_name(name)
    if experiment is None:
        fail(f"no experiment {name!r}")
    runs, token = [], None
    while True:
        page = client.search_runs([experiment.experiment_id], max_results=1000, page_token=token)
        runs.extend(page)
        token = page.token
        if not token:
            return runs


def by_cxr_id(runs):
    out = {}
    for run in runs:
        rid = run.data.tags.get("cxr.run_id")
        if rid is None:
            fail(f"MLflow run {run.info.run_id} has no cxr.run_id tag")
        if rid in out:
            fail(f"cxr run {rid} is in MLflow twice ({out[rid].info.run_id}, {run.info.run_id})")
        out[rid] = run
    return out


def check_params(run, folder, summary):
    config = flatten(tomllib.loads((folder / "config.toml").read_text()))
    params = run.data.params
    for key, value in config.items():
        if key not in params:
            fail(f"{folder.name}: param {key} missing")
        if not same_param(params[key], value):
            fail(f"{folder.name}: param {key} = {params[key]!r}, config.toml says {value!r}")
    for key in ("model.name", "train.lr"):  # what a user looks at first: there, not skipped
        if key not in config:
            fail(f"{folder.name}: config.toml has no {key}")
    axes = {a["setting"] for a in summary["axes"]}
    extra = set(params) - set(config) - axes
    if extra:
        fail(f"{folder.name}: params not in config.toml or the axes: {sorted(extra)}")


def check_epochs(client, run, folder):
    path = folder / "history.parquet"
    # pyarrow, not pandas: a null (no value) and a NaN (a diverged loss) must stay apart.
    history = pq.read_table(path).to_pylist() if path.is_file() else []
    for key in EPOCH_METRICS:
        rows = [(row["epoch"], row[key]) for row in history if row.get(key) is not None]
        got = sorted(client.get_metric_history(run.info.run_id, key), key=lambda m: m.step)
        steps = [m.step for m in got]
        if len(steps) != len(set(steps)):
            fail(f"{folder.name}: {key} has duplicate steps {steps}")
        if steps != [epoch for epoch, _ in rows]:
            fail(f"{folder.name}: {key} steps {steps}, history.parquet has {[e for e, _ in rows]}")
        for m, (_, value) in zip(got, rows):
            if not same_number(m.value, value):
                fail(f"{folder.name}: {key} at epoch {m.step} is {m.value}, history says {value}")
        stamps = [m.timestamp for m in got]
        end = run.info.end_time or max(stamps, default=0)
        if stamps != sorted(stamps) or any(not run.info.start_time <= t <= end for t in stamps):
            fail(f"{folder.name}: {key} timestamps {stamps} not rising within the run")
    return len(history)


def check_final(client, run, folder, summary):
    metrics = run.data.metrics
    for column, value in summary.items():
        if column in NOT_METRICS:
            continue
        name = RENAMED.get(column, column)
        if value is None or (isinstance(value, float) and math.isnan(value)):
            if name in metrics:
                fail(f"{folder.name}: metric {name} = {metrics[name]}, summary has no value")
        elif name not in metrics or not same_number(metrics[name], float(value)):
            fail(f"{folder.name}: metric {name} = {metrics.get(name)}, summary.parquet says {value}")
    if "test_micro_recall" in metrics:
        if len(client.get_metric_history(run.info.run_id, "test_micro_recall")) != 1:
            fail(f"{folder.name}: test_micro_recall logged more than once")


def check_tags(run, folder, summary):
    tags = run.data.tags
    want = {"cxr.run_id": folder.name, "mlflow.runName": folder.name, "cxr.grid": summary["grid"],
            "cxr.status": summary["status"], "cxr.model": summary["model"],
            "cxr.freeze": str(summary["freeze"]), "cxr.seed": str(summary["seed"])}
    if summary["status"] != "ok":
        want["cxr.error"] = summary["error"]
    for key, value in want.items():
        if tags.get(key) != value:
            fail(f"{folder.name}: tag {key} = {tags.get(key)!r}, expected {value!r}")
    for key in ("cxr.weights", "cxr.export"):
        if not tags.get(key):
            fail(f"{folder.name}: tag {key} missing")
    status = "FINISHED" if summary["status"] == "ok" else "FAILED"
    if run.info.status != status or run.info.run_name != folder.name:
        fail(f"{folder.name}: MLflow status {run.info.status} name {run.info.run_name}, expected {status}")


def check_artifacts(client, run, folder, grid):
    rid = run.info.run_id
    listed = {a.path for a in client.list_artifacts(rid) if not a.is_dir}
    listed |= {a.path for a in client.list_artifacts(rid, "figures")}
    expected = {f for f in RUN_FILES if (folder / f).is_file()}
    figures = grid / "report" / "runs" / folder.name
    expected |= {f"figures/{f}" for f in FIGURES if (figures / f).is_file()}
    if listed != expected:
        fail(f"{folder.name}: artifacts {sorted(listed)}, expected {sorted(expected)}")
    with tempfile.TemporaryDirectory() as tmp:
        for name in ("config.toml", "predictions.parquet"):
            if name in expected:
                got = pathlib.Path(client.download_artifacts(rid, name, tmp)).read_bytes()
                if got != (folder / name).read_bytes():
                    fail(f"{folder.name}: downloaded {name} differs from the run folder's")
    return len(expected)


def verify(args):
    client = MlflowClient(args.uri)
    grid = pathlib.Path(args.grid_dir)
    finished = sorted(p for p in (grid / "runs").iterdir() if (p / "summary.parquet").is_file())
    runs = by_cxr_id(experiment_runs(client, args.experiment))
    if sorted(runs) != [p.name for p in finished]:
        fail(f"MLflow has runs {sorted(runs)}, the grid's finished runs are {[p.name for p in finished]}")
    epochs = files = 0
    for folder in finished:
        summary = pd.read_parquet(folder / "summary.parquet").iloc[0].to_dict()
        run = runs[folder.name]
        check_params(run, folder, summary)
        epochs += check_epochs(client, run, folder)
        check_final(client, run, folder, summary)
        check_tags(run, folder, summary)
        files += check_artifacts(client, run, folder, grid)
    print(f"mlflow_check: {len(finished)} run(s) in experiment {args.experiment!r} equal their "
          f"folders ({epochs} epochs, {files} artifacts)")


def interrupted(args):
    runs = experiment_runs(MlflowClient(args.uri), args.experiment)
    partial = [r for r in runs if r.info.status == "RUNNING" and "cxr.export" not in r.data.tags]
    if not partial:
        fail(f"no half-exported run in {args.experiment!r}: the interruption came too late")
    print(f"mlflow_check: {len(partial)} half-exported run(s) of {len(runs)} in {args.experiment!r}")


def drop_tag(args):
    client = MlflowClient(args.uri)
    run = by_cxr_id(experiment_runs(client, args.experiment)).get(args.run)
    if run is None:
        fail(f"no MLflow run of cxr run {args.run}")
    client.delete_tag(run.info.run_id, args.tag)


def fail_copy(args):
    runs = pathlib.Path(args.grid_dir) / "runs"
    src, dst = runs / args.run, runs / args.new_run
    shutil.copytree(src, dst, copy_function=shutil.copy2)
    (dst / "model.safetensors").unlink(missing_ok=True)
    summary = pq.read_table(dst / "summary.parquet")
    for column, value in [("run_id", args.new_run), ("status", "failed"),
                          ("error", "training loss is NaN at epoch 2, batch 3: the run diverged "
                                    "(try a lower train.lr)")]:
        i = summary.schema.get_field_index(column)
        summary = summary.set_column(i, column, pa.array([value], summary.schema.field(i).type))
    pq.write_table(summary, dst / "summary.parquet")
    history = pq.read_table(dst / "history.parquet")
    i = history.schema.get_field_index("train_loss")
    losses = history.column("train_loss").to_pylist()
    losses[-1] = float("nan")
    history = history.set_column(i, "train_loss", pa.array(losses, pa.float64()))
    pq.write_table(history, dst / "history.parquet")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("verify")
    p.add_argument("uri"), p.add_argument("experiment"), p.add_argument("grid_dir")
    p.set_defaults(func=verify)
    p = sub.add_parser("interrupted")
    p.add_argument("uri"), p.add_argument("experiment")
    p.set_defaults(func=interrupted)
    p = sub.add_parser("drop-tag")
    p.add_argument("uri"), p.add_argument("experiment"), p.add_argument("run"), p.add_argument("tag")
    p.set_defaults(func=drop_tag)
    p = sub.add_parser("fail-copy")
    p.add_argument("grid_dir"), p.add_argument("run"), p.add_argument("new_run")
    p.set_defaults(func=fail_copy)
    args = parser.parse_args()
    args.func(args)


if __name__ == "__main__":
    main()
