#!/bin/bash
# Same behaviour across a refactor: the CI grid and three small synthetic grids (a source grid;
# folds, calibration and transfer; classic heads) trained by an OLD and a NEW cxr binary must give
# the same run ids and byte-identical model/prediction/per-class/confusion/config/preprocessing/
# calibration/feature files, and NEW's report on OLD's results must equal OLD's report byte for
# byte. Every sweep runs on one thread (--threads 1), so runs are comparable.
# usage: scripts/same-behaviour.sh OLD_BIN NEW_BIN [WORK_DIR]   (minutes on 2 cores)
set -u
OLD=$(realpath "$1"); NEW=$(realpath "$2"); V=${3:-$(mktemp -d)}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$V" && cp "$here"/same-behaviour/*.toml "$here"/../experiments/ci.toml "$V"/ && cd "$V"
echo "working in $V"
rm -rf res-old res-new res-old-newreport cache-old cache-new
for side in old new; do
  BIN=$OLD; [ $side = new ] && BIN=$NEW
  for g in ci vrich vheads; do
    $BIN sweep $g.toml --results res-$side --cache-dir cache-$side --threads 1 --quiet > log-$side-$g.txt 2>&1 || echo "sweep $side $g failed"
    $BIN sweep $g.toml --results res-$side --cache-dir cache-$side --dry-run > ids-$side-$g.txt 2>&1
  done
done
fail=0
for g in ci vrich vheads; do
  cmp -s ids-old-$g.txt ids-new-$g.txt && echo "ids $g identical" || { echo "ids $g DIFFER"; fail=1; }
done
for g in ci vsrc vrich vheads; do
  a=$(ls res-old/$g/runs | sort); b=$(ls res-new/$g/runs | sort)
  [ "$a" = "$b" ] && echo "run folders $g identical ($(echo "$a" | wc -l))" || { echo "run folders $g DIFFER"; fail=1; }
  for r in $a; do
    for f in model.safetensors predictions.parquet per_class.parquet confusion.parquet config.toml preprocessing.json calibration.json features.parquet; do
      [ -e res-old/$g/runs/$r/$f ] || [ -e res-new/$g/runs/$r/$f ] || continue
      cmp -s res-old/$g/runs/$r/$f res-new/$g/runs/$r/$f || { echo "DIFFER $g/$r/$f"; fail=1; }
    done
  done
done
cp -r res-old res-old-newreport
for g in ci vsrc vrich vheads; do
  $OLD report res-old/$g > /dev/null 2>&1 || echo "old report $g failed"
  $NEW report res-old-newreport/$g > /dev/null 2>&1 || echo "new report $g failed"
  n=$(find res-old/$g/report -type f | wc -l)
  diff -rq res-old/$g/report res-old-newreport/$g/report > /dev/null && echo "report $g byte-identical ($n files)" || { echo "report $g DIFFERS"; diff -rq res-old/$g/report res-old-newreport/$g/report | head; fail=1; }
done
echo "same behaviour: $([ $fail = 0 ] && echo yes || echo NO)"
exit $fail
