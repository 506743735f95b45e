"""`just bench-e2e`: cxr against PyTorch where a user feels it (issue 15), on the real films.

    python bench/e2e.py [--cxr target/release/cxr] [--rounds 1] [--epochs 2] [--jobs train,evaluate,predict]

Run with an interpreter that has torch + torchvision (the PyTorch side, bench/torch_e2e.py, runs
in its own process under the same interpreter). Each job runs ours, then PyTorch's, back to back
(alternating per round, so a drift in the machine's speed hits both sides alike):

- `train` (per model of --models, default cnn and resnet18 at freeze 0): --epochs epochs on the
  real sample (--data, default ../shared/data/COVID-19_Radiography_Dataset: 900 films, 3 classes)
  at --image-size 128 with cxr's default sweep settings: stratified split 0.7/0.1/0.2, batch 128,
  balanced sampler, Adam lr 1e-3 (0.9/0.999/1e-8), no augmentation, training-split
  normalisation. Ours: `cxr sweep` of a one-model grid with max_epochs = --epochs, its epoch time
  from the log line (history.parquet's train_time_s + eval_time_s: batches from the decoded
  cache, training steps, the validation pass); the cache is built first by `cxr data prepare`
  (timed and reported apart, a one-time cost). PyTorch's: bench/torch_e2e.py train (a
  DataLoader with --workers workers decoding the PNGs every epoch; see its docstring).
- `evaluate`: `cxr evaluate` of the trained CNN run over the sample's class folders, once with a
  fresh cache folder (decode + resize + cache write + inference: `cold`) and once again with it
  (`warm`, the cache hit), against bench/torch_e2e.py evaluate (same files, batch 32).
- `predict`: `cxr predict` of the trained CNN run over --predict-data (default
  ../shared/data/TB_Chest_Source: 2,000 real 256 px films, PNG and JPEG; the issue's 1,538-image
  holdout is not here), stdout discarded, against bench/torch_e2e.py predict (batch 32).

Ours is timed as the process's wall time (its start is ~10 ms), PyTorch's from inside after
`import torch`. Peak memory: each process's peak resident set (ours from wait4; PyTorch's main
process and, apart, its largest DataLoader worker). A ratio is PyTorch's time over ours (>= 1:
ours is at least as fast). Prints a table and writes --out (default bench/e2e.json). Without
the data it prints why and exits 0.
"""

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EPOCH_LINE = re.compile(r"epoch (\d+)/\d+: .*, ([0-9.]+) s\s*$")


def run_measured(cmd, stdout=subprocess.DEVNULL):
    """Runs `cmd` (stdout discarded, or captured with stdout=None), reaping it with wait4 for
    its own peak resident set; returns (wall seconds, peak MB, stdout, stderr), or exits on failure."""
    start = time.perf_counter()
    with tempfile.TemporaryFile(mode="w+") as err_file, tempfile.TemporaryFile(mode="w+") as out_file:
        proc = subprocess.Popen(cmd, stdout=out_file if stdout is None else stdout, stderr=err_file, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        err_file.seek(0)
        err = err_file.read()
        out_file.seek(0)
        out = out_file.read()
    if proc.returncode != 0:
        sys.exit(f"e2e: {' '.join(map(str, cmd))} failed ({proc.returncode}):\n{err[-3000:]}")
    return wall, usage.ru_maxrss / 1024.0, out, err


def torch_side(py, args, *rest):
    cmd = [py, str(ROOT / "bench/torch_e2e.py"), *rest, "--workers", str(args.workers), "--image-size", str(args.image_size)]
    if args.threads:
        cmd += ["--threads", str(args.threads)]
    _, _, out, err = run_measured(cmd, stdout=None)
    return json.loads(out.strip().splitlines()[-1])


def cxr_cmd(args, *rest):
    cmd = [args.cxr]
    if args.threads:
        cmd += ["--threads", str(args.threads)]
    return cmd + list(rest)


def grid(work, model, args):
    path = work / f"e2e-{model}.toml"
    path.write_text(
        f'name = "e2e-{model}"\nseed = 0\n\n[data]\nroot = "{Path(args.data).resolve()}"\n'
        f"image_size = {args.image_size}\n\n[train]\nmax_epochs = {args.epochs}\npatience = {args.epochs + 1}\n\n"
        f'[grid]\nmodel = ["{model}"]\nfreeze = [0]\n'
    )
    return path


def train_round(args, work, model, results, with_torch=True):
    _, peak, _, err = run_measured(
        cxr_cmd(args, "sweep", str(grid(work, model, args)), "--results", str(results), "--cache-dir", str(work / "cache"), "--force")
    )
    epochs = [float(m.group(2)) for m in map(EPOCH_LINE.search, err.splitlines()) if m]
    if len(epochs) != args.epochs:
        sys.exit(f"e2e: expected {args.epochs} epoch lines from cxr sweep, found {len(epochs)}:\n{err[-3000:]}")
    if not with_torch:
        return dict(ours_epoch_s=epochs)
    theirs = torch_side(sys.executable, args, "train", "--data", args.data, "--model", model, "--epochs", str(args.epochs))
    return dict(ours_epoch_s=epochs, torch_epoch_s=[e["epoch_s"] for e in theirs["epochs"]],
                ours_peak_mb=round(peak, 1), torch_peak_mb=theirs["peak_mb"], torch_worker_peak_mb=theirs["worker_peak_mb"],
                torch_detail=theirs)


def trained_run(results, model):
    runs = sorted((results / f"e2e-{model}" / "runs").glob("*/model.safetensors"))
    if not runs:
        sys.exit(f"e2e: no trained {model} run under {results} (run the train job first)")
    return runs[0].parent


def infer_round(args, work, run_dir, job, r):
    if job == "evaluate":
        cold = work / f"eval-cache-{r}"
        ours_cmd = cxr_cmd(args, "evaluate", "--run", str(run_dir), "--data", args.data, "--cache-dir", str(cold))
        wall_cold, peak_cold, _, _ = run_measured(ours_cmd)
        wall_warm, peak_warm, out, _ = run_measured(ours_cmd, stdout=None)
        theirs = torch_side(sys.executable, args, "evaluate", "--data", args.data, "--model", "cnn")
        images = int(re.search(r": (\d+) image\(s\)", out).group(1))
        return [
            dict(job="evaluate (cold cache)", images=images, ours_s=wall_cold, ours_peak_mb=peak_cold, theirs=theirs),
            dict(job="evaluate (warm cache)", images=images, ours_s=wall_warm, ours_peak_mb=peak_warm, theirs=theirs),
        ]
    wall, peak, out, _ = run_measured(cxr_cmd(args, "predict", "--run", str(run_dir), args.predict_data), stdout=None)
    images = len(out.splitlines())
    theirs = torch_side(sys.executable, args, "predict", "--inputs", args.predict_data, "--model", "cnn", "--classes", "3")
    return [dict(job="predict", images=images, ours_s=wall, ours_peak_mb=peak, theirs=theirs)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    target = os.environ.get("CARGO_TARGET_DIR", str(ROOT / "target"))
    parser.add_argument("--cxr", default=str(Path(target) / "release/cxr"), help="the cxr binary")
    parser.add_argument("--data", default=str(ROOT.parent / "shared/data/COVID-19_Radiography_Dataset"))
    parser.add_argument("--predict-data", default=str(ROOT.parent / "shared/data/TB_Chest_Source"))
    parser.add_argument("--models", default="cnn,resnet18", help="models of the train job (freeze 0)")
    parser.add_argument("--jobs", default="train,evaluate,predict")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--image-size", type=int, default=128)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2, help="PyTorch DataLoader workers")
    parser.add_argument("--threads", type=int, default=0, help="threads of both sides (default: every core)")
    parser.add_argument("--work", help="keep the runs and caches here (default: a temporary folder, removed)")
    parser.add_argument("--out", default=str(ROOT / "bench/e2e.json"))
    parser.add_argument("--check", action="store_true", help="only check that the data is there (exit 1 and say so if not)")
    args = parser.parse_args()
    jobs = [j for j in args.jobs.split(",") if j]
    models = [m for m in args.models.split(",") if m]
    missing = [p for p in [args.data] + ([args.predict_data] if "predict" in jobs else []) if not Path(p).is_dir()]
    if missing:
        print(f"bench-e2e: skipped: no data at {', '.join(missing)} (the real sample; see BENCHMARKS.md)")
        sys.exit(1 if args.check else 0)
    if args.check:
        return
    if not Path(args.cxr).is_file():
        sys.exit(f"e2e: no cxr binary at {args.cxr} (cargo build --release -p cxr-cli)")
    # Not imported here: a child's peak RSS (wait4) starts at its parent's at the fork, so this
    # process stays small (~20 MB) for the numbers of the processes it measures.
    torch_version = subprocess.run([sys.executable, "-c", "import torch; print(torch.__version__)"],
                                   capture_output=True, text=True, check=True).stdout.strip()

    temp = None if args.work else tempfile.TemporaryDirectory(prefix="cxr-e2e-")
    work = Path(args.work or temp.name)
    work.mkdir(parents=True, exist_ok=True)
    results = work / "results"
    load_start = os.getloadavg()[0]
    date = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    rows = []
    needs_run = "evaluate" in jobs or "predict" in jobs
    train_models = models if "train" in jobs else []
    if needs_run and "cnn" not in train_models:
        train_models = ["cnn"] + train_models  # the evaluate/predict jobs need a trained CNN run
    if train_models:
        wall, peak, _, _ = run_measured(cxr_cmd(args, "data", "prepare", args.data, "--image-size", str(args.image_size), "--cache-dir", str(work / "cache")))
        print(f"cxr data prepare (one-time cache, {args.image_size} px): {wall:.1f} s, peak {peak:.0f} MB", file=sys.stderr)
        rows.append(dict(job="cache build (one-time, ours)", model="-", ours_s=[round(wall, 3)], ours_peak_mb=[round(peak, 1)]))
    for model in train_models:
        rounds = []
        if "train" not in jobs:
            # Only the CNN run that evaluate and predict use: ours alone, once.
            train_round(args, work, model, results, with_torch=False)
            continue
        for r in range(args.rounds):
            rr = train_round(args, work, model, results)
            print(f"{time.strftime('%T')} train {model} round {r + 1}: epochs ours {rr['ours_epoch_s']} s, torch {rr['torch_epoch_s']} s, load {os.getloadavg()[0]:.2f}", file=sys.stderr)
            rounds.append(rr)
        for e in range(args.epochs):
            ours = [rr["ours_epoch_s"][e] for rr in rounds]
            theirs = [rr["torch_epoch_s"][e] for rr in rounds]
            rows.append(dict(job=f"train epoch {e + 1}", model=model, freeze=0, ours_s=ours, torch_s=theirs,
                             ours_peak_mb=[rr["ours_peak_mb"] for rr in rounds], torch_peak_mb=[rr["torch_peak_mb"] for rr in rounds],
                             torch_worker_peak_mb=[rr["torch_worker_peak_mb"] for rr in rounds],
                             images=rounds[0]["torch_detail"]["train_images"] + rounds[0]["torch_detail"]["val_images"]))
    for job in [j for j in ("evaluate", "predict") if j in jobs]:
        run_dir = trained_run(results, "cnn")
        by_job = {}
        for r in range(args.rounds):
            for row in infer_round(args, work, run_dir, job, r):
                by_job.setdefault(row["job"], []).append(row)
                print(f"{time.strftime('%T')} {row['job']} round {r + 1}: ours {row['ours_s']:.2f} s, torch {row['theirs']['seconds']:.2f} s, {row['images']} images, load {os.getloadavg()[0]:.2f}", file=sys.stderr)
        for name, rs in by_job.items():
            rows.append(dict(job=name, model="cnn", freeze=0, images=rs[0]["images"], torch_images=rs[0]["theirs"]["images"],
                             ours_s=[round(x["ours_s"], 3) for x in rs], torch_s=[x["theirs"]["seconds"] for x in rs],
                             ours_peak_mb=[round(x["ours_peak_mb"], 1) for x in rs], torch_peak_mb=[x["theirs"]["peak_mb"] for x in rs],
                             torch_worker_peak_mb=[x["theirs"]["worker_peak_mb"] for x in rs]))
    for row in rows:
        row["ours_s_median"] = round(statistics.median(row["ours_s"]), 3)
        if "torch_s" in row:
            row["torch_s_median"] = round(statistics.median(row["torch_s"]), 3)
            row["ratio_median"] = round(statistics.median(t / o for o, t in zip(row["ours_s"], row["torch_s"])), 3)
            row["rounds"] = len(row["ours_s"])
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    meta = dict(date=date, load_start=round(load_start, 2), load_end=round(os.getloadavg()[0], 2), torch=torch_version,
                threads=args.threads or os.cpu_count(), workers=args.workers, image_size=args.image_size, epochs=args.epochs,
                commit=commit, data=args.data, predict_data=args.predict_data,
                protocol="split 0.7/0.1/0.2, batch 128, balanced sampler, Adam lr 1e-3; ratio = torch s / ours s")
    print(f"\ncxr vs torch {torch_version}, {meta['threads']} threads, DataLoader {args.workers} workers, {args.image_size} px, {date}, load {load_start:.2f} -> {meta['load_end']:.2f}\n")
    print("| job | model | images | ours s | torch s | ratio (torch/ours) | ours peak MB | torch peak MB (+worker) |")
    print("|---|---|---|---|---|---|---|---|")
    for row in rows:
        torch_s = f"{row['torch_s_median']:.2f}" if "torch_s" in row else "-"
        ratio = f"{row['ratio_median']:.2f}" if "ratio_median" in row else "-"
        tpeak = f"{max(row['torch_peak_mb']):.0f} (+{max(row['torch_worker_peak_mb']):.0f})" if "torch_peak_mb" in row else "-"
        print(f"| {row['job']} | {row['model']} | {row.get('images', '-')} | {row['ours_s_median']:.2f} | {torch_s} | {ratio} | {max(row['ours_peak_mb']):.0f} | {tpeak} |")
    with open(args.out, "w") as f:
        json.dump(dict(meta, rows=rows), f, indent=2)
        f.write("\n")
    print(f"\nwrote {args.out}")
    if temp:
        temp.cleanup()


if __name__ == "__main__":
    main()
