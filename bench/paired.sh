#!/usr/bin/env bash
# Paired, alternating throughput runs: ours then PyTorch, per configuration, so that a drift
# in the machine's speed hits both sides of a ratio alike. Prints one line per config and round.
#
#   bench/paired.sh [PYTHON] [ROUNDS] [SECONDS]
#
# PYTHON must have torch + torchvision (e.g. bench/.venv/bin/python after `just bench`).
# Configs: CNN and ResNet18 freeze 0 training; ResNet18 freeze 2 and 3 with the frozen-prefix
# cache (`epoch`) against PyTorch's training step at the same freeze.
set -euo pipefail
cd "$(dirname "$0")/.."
py=${1:-bench/.venv/bin/python}
rounds=${2:-2}
secs=${3:-12}
cargo build --release --quiet -p cxr-bench
img_s() { "$py" -c 'import json, sys; print(round(json.loads(sys.stdin.read().strip().splitlines()[-1])["img_s"], 1))'; }
for round in $(seq "$rounds"); do
    for cfg in "cnn 0 train train" "resnet18 0 train train" "resnet18 2 epoch train" "resnet18 3 epoch train"; do
        set -- $cfg
        ours=$(target/release/cxr-bench run --model "$1" --freeze "$2" --mode "$3" --seconds "$secs" | img_s)
        torch=$("$py" bench/torch_bench.py --seconds "$secs" \
            --case "{\"model\": \"$1\", \"freeze\": $2, \"mode\": \"$4\"}" | img_s)
        ratio=$("$py" -c "print(round($ours / $torch, 2))")
        echo "$(date -u +%T) round $round $1 freeze $2: ours $3 $ours img/s, torch $4 $torch img/s, ratio $ratio, load $(cut -d' ' -f1 /proc/loadavg)"
    done
done
