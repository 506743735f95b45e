#!/usr/bin/env bash
# Paired, alternating throughput runs: for every row and every round, ours then PyTorch back to
# back, so that a drift in the machine's speed hits both sides of a ratio alike. Prints one line
# per row and round, then the median ratio per row, and writes bench/paired.json (issue 15).
#
#   bench/paired.sh [PYTHON] [ROUNDS] [SECONDS]          (positional, as before)
#   bench/paired.sh --python PY --rounds 3 --seconds 12 --rows "cnn:0:train resnet18:2:epoch"
#                   [--threads N] [--out bench/paired.json] [--bin path/to/cxr-bench] [--no-build]
#
# PYTHON must have torch + torchvision (e.g. /var/tmp/torch-venv/bin/python, bench/.venv after
# `just bench`). Defaults: 3 rounds, 12 s per side and row, every target row of issue 15, all
# cores (--threads N sets RAYON_NUM_THREADS/CANDLE_NUM_THREADS for ours and
# torch.set_num_threads(N) for PyTorch).
#
# A row is MODEL:FREEZE:OURS_MODE[:TORCH_MODE]; what each default row compares:
#   cnn:0:train, resnet18:0:train, resnet34:0:train
#       one training step (forward, cross-entropy, backward, Adam; batch 32 of 3x128x128),
#       ours (`cxr-bench run --mode train`) vs PyTorch's (`torch_bench.py --case`, mode train).
#   resnet18:1:epoch .. resnet18:4:epoch
#       what a training epoch costs per image at that freeze: ours trains the unfrozen stages
#       from the frozen-prefix cache (`--mode epoch`, what a sweep does), PyTorch recomputes the
#       frozen prefix every step (its `train` step at the same freeze is its epoch). At freeze 4
#       ours trains the head alone, so that ratio is in the hundreds. `resnet18:2:train` compares
#       the bare training steps instead.
#   cnn:0:infer, resnet18:0:infer, resnet34:0:infer
#       an eval-mode forward of batch 32 without gradients, both sides.
# TORCH_MODE defaults to `train` for an `epoch` row and to OURS_MODE otherwise.
#
# bench/paired.json: a JSON array, one object per row: model, freeze, mode (ours), torch_mode,
# ratio_median (median over rounds of ours img/s / PyTorch img/s), rounds (count), ratios (per
# round), ours_img_s / torch_img_s (per round) and their medians, ours_peak_mb / torch_peak_mb
# (per round, each process's peak resident set), seconds, threads, load (1-min load average
# before each round's pair), date (UTC, first round of the row), torch (version), commit, cpu.
set -euo pipefail
cd "$(dirname "$0")/.."

default_rows="cnn:0:train resnet18:0:train resnet18:1:epoch resnet18:2:epoch resnet18:3:epoch resnet18:4:epoch resnet34:0:train cnn:0:infer resnet18:0:infer resnet34:0:infer"
py=bench/.venv/bin/python
rounds=3
secs=12
rows=$default_rows
threads=""
out=bench/paired.json
bin=""
build=1
positional=()
while [ $# -gt 0 ]; do
    case "$1" in
        --python) py=$2; shift 2 ;;
        --rounds) rounds=$2; shift 2 ;;
        --seconds) secs=$2; shift 2 ;;
        --rows) rows=$2; shift 2 ;;
        --threads) threads=$2; shift 2 ;;
        --out) out=$2; shift 2 ;;
        --bin) bin=$2; shift 2 ;;
        --no-build) build=0; shift ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        -*) echo "paired.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
        *) positional+=("$1"); shift ;;
    esac
done
[ ${#positional[@]} -ge 1 ] && py=${positional[0]}
[ ${#positional[@]} -ge 2 ] && rounds=${positional[1]}
[ ${#positional[@]} -ge 3 ] && secs=${positional[2]}
[ -n "$rows" ] || rows=$default_rows

if ! "$py" -c 'import torch, torchvision' 2>/dev/null; then
    echo "paired.sh: $py has no torch + torchvision (try --python /var/tmp/torch-venv/bin/python or run \`just bench\` once)" >&2
    exit 2
fi
if [ -z "$bin" ]; then
    bin=${CARGO_TARGET_DIR:-target}/release/cxr-bench
    # Both packages, as `just bench-e2e` builds them: one feature set, so neither rebuilds the other.
    [ "$build" = 1 ] && cargo build --release --quiet -p cxr-bench -p cxr-cli
fi
torch_threads=()
if [ -n "$threads" ]; then
    export RAYON_NUM_THREADS=$threads CANDLE_NUM_THREADS=$threads
    torch_threads=(--threads "$threads")
fi

raw=$(mktemp)
trap 'rm -f "$raw"' EXIT
for round in $(seq "$rounds"); do
    for row in $rows; do
        IFS=: read -r model freeze mode torch_mode <<<"$row"
        if [ -z "$torch_mode" ]; then
            if [ "$mode" = epoch ]; then torch_mode=train; else torch_mode=$mode; fi
        fi
        load=$(cut -d' ' -f1 /proc/loadavg)
        when=$(date -u +%FT%TZ)
        ours=$("$bin" run --model "$model" --freeze "$freeze" --mode "$mode" --seconds "$secs" | tail -n1)
        torch=$("$py" bench/torch_bench.py --seconds "$secs" "${torch_threads[@]}" \
            --case "{\"model\": \"$model\", \"freeze\": $freeze, \"mode\": \"$torch_mode\"}" | tail -n1)
        printf '{"round": %s, "model": "%s", "freeze": %s, "mode": "%s", "torch_mode": "%s", "load": %s, "date": "%s", "ours": %s, "torch": %s}\n' \
            "$round" "$model" "$freeze" "$mode" "$torch_mode" "$load" "$when" "$ours" "$torch" >>"$raw"
        "$py" - "$ours" "$torch" <<EOF
import json, sys
o, t = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print(f"$(date -u +%T) round $round $model freeze $freeze: ours $mode {o['img_s']:.1f} img/s ({o['peak_mb']:.0f} MB), "
      f"torch $torch_mode {t['img_s']:.1f} img/s ({t['peak_mb']:.0f} MB), ratio {o['img_s'] / t['img_s']:.2f}, load $load")
EOF
    done
done

commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
[ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ] && commit="$commit+dirty"
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//' || true)
"$py" - "$raw" "$out" "$secs" "${threads:-$(nproc)}" "$commit" "$cpu" "$(cut -d' ' -f1 /proc/loadavg)" <<'EOF'
import json, statistics, sys
import torch

raw, out, secs, threads, commit, cpu, load_end = sys.argv[1:]
records = [json.loads(line) for line in open(raw)]
rows = {}
for r in records:
    rows.setdefault((r["model"], r["freeze"], r["mode"], r["torch_mode"]), []).append(r)
summary = []
print()
print(f"{'model':<9} {'freeze':>6} {'mode':<12} {'ours img/s':>10} {'torch img/s':>11} {'ratio median':>12}  ratios")
for (model, freeze, mode, torch_mode), rs in rows.items():
    ours = [r["ours"]["img_s"] for r in rs]
    theirs = [r["torch"]["img_s"] for r in rs]
    ratios = [o / t for o, t in zip(ours, theirs)]
    row = dict(
        model=model, freeze=freeze, mode=mode, torch_mode=torch_mode,
        ratio_median=round(statistics.median(ratios), 4), rounds=len(rs),
        ratios=[round(x, 4) for x in ratios],
        ours_img_s_median=round(statistics.median(ours), 2),
        torch_img_s_median=round(statistics.median(theirs), 2),
        ours_img_s=[round(x, 2) for x in ours], torch_img_s=[round(x, 2) for x in theirs],
        ours_peak_mb=[round(r["ours"]["peak_mb"], 1) for r in rs],
        torch_peak_mb=[round(r["torch"]["peak_mb"], 1) for r in rs],
        seconds=float(secs), threads=int(threads), load=[r["load"] for r in rs], load_end=float(load_end),
        date=rs[0]["date"], torch=torch.__version__, commit=commit, cpu=cpu,
    )
    summary.append(row)
    label = mode if mode == torch_mode else f"{mode}/{torch_mode}"
    print(f"{model:<9} {freeze:>6} {label:<12} {row['ours_img_s_median']:>10.1f} {row['torch_img_s_median']:>11.1f} "
          f"{row['ratio_median']:>12.2f}  {', '.join(f'{x:.2f}' for x in ratios)}")
with open(out, "w") as f:
    json.dump(summary, f, indent=2)
    f.write("\n")
print(f"\nwrote {out} ({len(summary)} rows, torch {torch.__version__}, {threads} threads, commit {commit})")
EOF
