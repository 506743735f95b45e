#!/usr/bin/env bash
# The full-size rehearsal of BENCHMARKS.md: 21,165 synthetic films at 299x299 in the COVID-19
# Radiography Dataset's class proportions, then the cold cache build, the warm load and a few
# epochs of each model of bench/fullsize.toml, each in its own process, with peak memory
# (/usr/bin/time's maximum RSS) and the resident memory at the end of every epoch (VmRSS sampled
# every second, read at each epoch line's timestamp).
#
#   bench/fullsize.sh [WORK_DIR]      (default /var/tmp/cxr-fullsize; needs ~1.5 GB of disk)
#
# Prints one line per measurement; the logs stay in WORK_DIR/logs.
set -euo pipefail
cd "$(dirname "$0")/.."
work=${1:-/var/tmp/cxr-fullsize}
data=$work/data
cache=$work/cache
logs=$work/logs
cargo build --release --workspace --quiet
target=${CARGO_TARGET_DIR:-target}
cxr=$target/release/cxr
mkdir -p "$logs"

# Class sizes of the official release: COVID 3616, Lung_Opacity 6012, Normal 10192,
# Viral Pneumonia 1345 (21,165 films).
if [ ! -f "$data/done" ]; then
  seed=11
  for spec in "COVID:3616" "Lung_Opacity:6012" "Normal:10192" "Viral Pneumonia:1345"; do
    class=${spec%%:*}
    "$cxr" --quiet data synth --out "$data" --classes "$class" --per-class "${spec##*:}" --size 299 --seed "$seed"
    seed=$((seed + 1))
  done
  touch "$data/done"
fi
echo "dataset: $(find "$data" -path '*/images/*.png' | wc -l) images, $(du -sh --exclude=masks --exclude=lesions "$data" | cut -f1) of image PNGs"

# timed NAME COMMAND...: runs COMMAND, prints its wall time and peak RSS.
timed() {
  local name=$1
  shift
  /usr/bin/time -f "$name: %e s wall, peak RSS %M KB" -o "$logs/$name.time" "$@"
  cat "$logs/$name.time"
}

rm -rf "$cache"
timed cold-cache-build "$cxr" data prepare "$data" --image-size 128 --cache-dir "$cache" >"$logs/cold.out"
cat "$logs/cold.out"
echo "cache size: $(du -b "$cache"/*.bin | cut -f1) bytes"
timed warm-load "$cxr" data prepare "$data" --image-size 128 --cache-dir "$cache" >"$logs/warm.out"
cat "$logs/warm.out"

results=$work/results
rm -rf "$results"
runs=$("$cxr" sweep bench/fullsize.toml --data "$data" --dry-run | grep -c -- '-s0-')
for cell in $(seq 0 $((runs - 1))); do
  log=$logs/cell-$cell.log
  rss=$logs/cell-$cell.rss
  /usr/bin/time -f "cell $cell: %e s wall, peak RSS %M KB" -o "$logs/cell-$cell.time" \
    "$cxr" sweep bench/fullsize.toml --data "$data" --results "$results" --cache-dir "$cache" \
    --cell "$cell" 2>"$log" &
  timer=$!
  : >"$rss"
  while kill -0 "$timer" 2>/dev/null; do
    pid=$(pgrep -P "$timer" -x cxr || true)
    [ -n "$pid" ] && echo "$(date +%s) $(awk '/VmRSS/ {print $2}' "/proc/$pid/status" 2>/dev/null)" >>"$rss"
    sleep 1
  done
  wait "$timer"
  grep -E ' epoch [0-9]+/[0-9]+: ' "$log" | while read -r line; do
    at=$(date -d "$(cut -c1-19 <<<"$line")Z" +%s)
    kb=$(awk -v t="$at" '$1 <= t && $2 != "" {v = $2} END {print v}' "$rss")
    echo "${line#* INFO } | RSS $((kb / 1024)) MB"
  done
  grep -E 'prefix|test micro-recall' "$log" | sed 's/^[^ ]* *INFO //' || true
  cat "$logs/cell-$cell.time"
done
