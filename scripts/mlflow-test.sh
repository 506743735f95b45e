#!/usr/bin/env bash
# The real-server test of `cxr export mlflow` (`just mlflow-test [GRID_DIR]`):
#
#   1. Makes the venv with MLflow ($CXR_MLFLOW_VENV, default /var/tmp/cxr-web-venv) unless it has
#      one, and builds cxr.
#   2. Copies the grid results folder given (default: trains experiments/ci.toml into a temporary
#      folder, about a minute on 2 cores) and draws its report there if it has none, so that runs
#      have figures; adds a failed run to the copy (a copy of a finished run marked failed, with a
#      NaN loss: `mlflow_check.py fail-copy`), as real failed runs are rare. The folder given is
#      never written to.
#   3. Starts `mlflow server` (SQLite store, artifacts served from a temporary folder) on a free
#      port and waits for /health.
#   4. Exports to a closed port and to a path of the server that is not MLflow: exit 2, one line.
#   5. Exports, then checks with MLflow's own client that every run equals its folder
#      (scripts/mlflow_check.py verify: params, every epoch, final metrics, tags, artifacts).
#   6. Exports again: nothing created or updated, nothing duplicated.
#   7. Deletes one run's cxr.export tag: the rerun checks that run, finds it complete, tags it.
#   8. Interrupts an export for real: the server's artifact folder is replaced by a file, so the
#      first upload fails with HTTP 500 after the first run was created and its metrics logged
#      (exit 2, one line, a half-exported run left); with the folder back, a rerun completes the
#      half-exported run and creates the rest, and the check passes with nothing duplicated.
#   9. A server started without artifact serving: exit 2, one line naming --serve-artifacts.
#
# Prints "mlflow-test: ok" at the end; any failure exits 1 with what failed. The server(s) are
# stopped by their process group whatever happens, and the temporary folder removed after a
# pass (kept, path printed, after a failure).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
start_time=$(date +%s)
venv=${CXR_MLFLOW_VENV:-/var/tmp/cxr-web-venv}
python=$venv/bin/python

say() { echo "--- mlflow-test: $*"; }
fail() {
  echo "mlflow-test FAILED: $*" >&2
  exit 1
}

if ! "$python" -c "import mlflow, pandas, pyarrow" 2>/dev/null; then
  say "installing mlflow into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet mlflow
fi
say "MLflow $("$python" -c 'import mlflow; print(mlflow.__version__)')"

say "building cxr"
cargo build --release --quiet -p cxr-cli
target=${CARGO_TARGET_DIR:-target}
case $target in /*) ;; *) target=$repo/$target ;; esac
cxr=$target/release/cxr
[ -x "$cxr" ] || fail "no binary at $cxr"

work=$(mktemp -d "${TMPDIR:-/tmp}/cxr-mlflow-test.XXXXXX")
servers=()
passed=0
cleanup() {
  local pgid
  for pgid in "${servers[@]}"; do
    kill -TERM -- "-$pgid" 2>/dev/null || true
  done
  for pgid in "${servers[@]}"; do
    for _ in $(seq 100); do kill -0 -- "-$pgid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$pgid" 2>/dev/null || true
  done
  if [ "$passed" = 1 ]; then rm -rf "$work"; else echo "mlflow-test: kept $work" >&2; fi
}
trap cleanup EXIT

free_port() { "$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# Starts `mlflow server ARGS...` on a free port in its own process group; sets $uri.
start_server() {
  local log=$1 port
  shift
  port=$(free_port)
  setsid "$venv/bin/mlflow" server "$@" --host 127.0.0.1 --port "$port" --workers 1 >"$log" 2>&1 &
  servers+=($!)
  disown # no "Killed" job notice when cleanup has to kill it
  uri=http://127.0.0.1:$port
  for _ in $(seq 240); do
    # Python's urllib rather than curl: a fresh machine need not have curl.
    "$python" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' \
      "$uri/health" >/dev/null 2>&1 && return 0
    kill -0 "$!" 2>/dev/null || { cat "$log" >&2; fail "mlflow server exited"; }
    sleep 0.5
  done
  cat "$log" >&2
  fail "mlflow server did not answer $uri/health within 120 s"
}

# Runs `cxr export mlflow "$@"`, keeping stdout and stderr in $work/out and $work/err; sets $rc
# and $took (seconds).
export_grid() {
  local t0
  t0=$(date +%s%N)
  set +e
  "$cxr" export mlflow "$@" >"$work/out" 2>"$work/err"
  rc=$?
  set -e
  took=$(( ($(date +%s%N) - t0) / 1000000 ))
  took=$((took / 1000)).$(printf %03d $((took % 1000)))
}

# The last export must have failed with exit 2 and one line of stderr matching $1.
expect_error() {
  local lines
  lines=$(wc -l <"$work/err")
  [ "$rc" = 2 ] || { cat "$work/out" "$work/err" >&2; fail "exit $rc, expected 2 ($1)"; }
  [ "$lines" = 1 ] || { cat "$work/err" >&2; fail "$lines lines of stderr, expected 1 ($1)"; }
  grep -q -- "$1" "$work/err" || { cat "$work/err" >&2; fail "stderr does not say '$1'"; }
  say "  $(cat "$work/err")"
}

# The last export must have succeeded and said "$1" (its summary line).
expect_ok() {
  [ "$rc" = 0 ] || { cat "$work/out" "$work/err" >&2; fail "export failed (exit $rc)"; }
  grep -qx -- "$1" "$work/out" || { cat "$work/out" >&2; fail "expected the summary '$1'"; }
  say "  $1 ($took s)"
}

results=$work/results
mkdir -p "$results"
if [ $# -ge 1 ]; then
  src=${1%/}
  [ -d "$src/runs" ] || fail "$src is not a grid results folder (no runs/)"
  name=$(basename "$src")
  say "copying $src"
  cp -a "$src" "$results/$name"
else
  name=ci
  say "training experiments/ci.toml into $results"
  "$cxr" sweep experiments/ci.toml --results "$results" >"$work/sweep.log" 2>&1 ||
    { cat "$work/sweep.log" >&2; fail "training experiments/ci.toml failed"; }
fi
grid=$results/$name
if ! ls "$grid"/report/runs/*/curves.png >/dev/null 2>&1; then
  say "drawing the report (for the runs' figures)"
  "$cxr" report "$grid" >"$work/report.log" 2>&1 ||
    { cat "$work/report.log" >&2; fail "cxr report $grid failed"; }
fi
first=$(cd "$grid/runs" && for r in *; do [ -f "$r/summary.parquet" ] && echo "$r" && break; done)
[ -n "$first" ] || fail "no finished run in $grid"
"$python" scripts/mlflow_check.py fail-copy "$grid" "$first" "${first%-*}-failed000000"
runs=$(cd "$grid/runs" && for r in *; do [ -f "$r/summary.parquet" ] && echo "$r"; done | wc -l)
say "$runs finished run(s) in $grid, one of them failed"

say "starting mlflow server"
start_server "$work/server.log" --backend-store-uri "sqlite:///$work/mlflow.db" \
  --artifacts-destination "$work/artifacts"
say "server at $uri"

say "errors: a closed port, a path that is not MLflow"
export_grid "$grid" --tracking-uri "http://127.0.0.1:$(free_port)"
expect_error "cannot reach the MLflow server at http://127.0.0.1:"
export_grid "$grid" --tracking-uri "$uri/not-mlflow"
expect_error "is not an MLflow tracking server: GET /api/2.0/mlflow/experiments/get-by-name answered HTTP 404"

say "export"
export_grid "$grid" --tracking-uri "$uri"
expect_ok "$runs run(s) created, 0 updated, 0 already up to date"
"$python" scripts/mlflow_check.py verify "$uri" "$name" "$grid"

say "export again: nothing new"
export_grid "$grid" --tracking-uri "$uri"
expect_ok "0 run(s) created, 0 updated, $runs already up to date"
"$python" scripts/mlflow_check.py verify "$uri" "$name" "$grid"

say "a run without its cxr.export tag is checked, found complete and tagged again"
"$python" scripts/mlflow_check.py drop-tag "$uri" "$name" "$first" cxr.export
export_grid "$grid" --tracking-uri "$uri"
expect_ok "0 run(s) created, 0 updated, $runs already up to date"
"$python" scripts/mlflow_check.py verify "$uri" "$name" "$grid"

say "an export interrupted by a failing server, then completed by a rerun"
mv "$work/artifacts" "$work/artifacts.away"
echo "not a folder" >"$work/artifacts"
export_grid "$grid" --tracking-uri "$uri" --experiment "$name-interrupted"
expect_error "failed with HTTP 500"
"$python" scripts/mlflow_check.py interrupted "$uri" "$name-interrupted"
rm "$work/artifacts"
mv "$work/artifacts.away" "$work/artifacts"
export_grid "$grid" --tracking-uri "$uri" --experiment "$name-interrupted"
expect_ok "$((runs - 1)) run(s) created, 1 updated, 0 already up to date"
"$python" scripts/mlflow_check.py verify "$uri" "$name-interrupted" "$grid"

say "a server that does not serve artifacts"
start_server "$work/server-no-artifacts.log" --no-serve-artifacts \
  --backend-store-uri "sqlite:///$work/mlflow-local.db" --default-artifact-root "$work/local-artifacts"
export_grid "$grid" --tracking-uri "$uri"
expect_error "serve-artifacts"

passed=1
say "passed in $(($(date +%s) - start_time)) s"
echo "mlflow-test: ok"
