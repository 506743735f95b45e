#!/usr/bin/env bash
# Two builds of cxr-bench against each other on this machine (issue 27): for each round and
# case, `cxr-bench run` of the old binary then the new one, back to back, so a drift in the
# machine's speed hits both; prints each case's median img/s and the new/old ratio per round.
#
#   bench/ab.sh OLD_BIN NEW_BIN [ROUNDS] [SECONDS] [CASES]
#
# CASES: MODEL:FREEZE:MODE ..., default "cnn:0:infer resnet18:0:infer resnet34:0:infer
# resnet18:2:train". Both sides on 2 threads (RAYON_NUM_THREADS, CANDLE_NUM_THREADS) unless set.
# Build the old binary from another commit, e.g.:
#   git stash; cargo build --release -p cxr-bench; cp target/release/cxr-bench /tmp/bench-old
#   git stash pop; cargo build --release -p cxr-bench
#   bench/ab.sh /tmp/bench-old target/release/cxr-bench
set -euo pipefail
old=$1 new=$2 rounds=${3:-5} secs=${4:-6}
cases=${5:-"cnn:0:infer resnet18:0:infer resnet34:0:infer resnet18:2:train"}
export RAYON_NUM_THREADS=${RAYON_NUM_THREADS:-2} CANDLE_NUM_THREADS=${CANDLE_NUM_THREADS:-2}
log=$(mktemp)
echo "load: $(cut -d' ' -f1-3 /proc/loadavg); $rounds rounds, $secs s per case and side" >&2
for round in $(seq "$rounds"); do
  for case in $cases; do
    IFS=: read -r model freeze mode <<<"$case"
    for side in old new; do
      bin=$old; [ "$side" = new ] && bin=$new
      img_s=$("$bin" run --model "$model" --freeze "$freeze" --mode "$mode" --seconds "$secs" 2>/dev/null |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["img_s"])')
      echo "$round $case $side $img_s" >>"$log"
    done
  done
  echo "round $round done" >&2
done
python3 - "$log" "$cases" <<'PY'
import collections, statistics, sys
runs = collections.defaultdict(list)
for line in open(sys.argv[1]):
    _, case, side, img_s = line.split()
    runs[case, side].append(float(img_s))
print(f"{'case':20} {'old img/s':>10} {'new img/s':>10}  new/old per round (median)")
for case in sys.argv[2].split():
    old, new = runs[case, "old"], runs[case, "new"]
    ratios = [n / o for o, n in zip(old, new)]
    print(f"{case:20} {statistics.median(old):10.1f} {statistics.median(new):10.1f}  "
          f"{', '.join(f'{r:.2f}' for r in ratios)} ({statistics.median(ratios):.2f})")
PY
rm -f "$log"
