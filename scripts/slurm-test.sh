#!/usr/bin/env bash
# The real Slurm test (`just slurm-test`, run by `.ci/run`): the script that
# `cxr sweep experiments/ci.toml --emit-slurm` writes, submitted with sbatch to a one-node Slurm
# cluster started on this machine, must give what a local sweep gives, and must resume after a
# cancelled array task.
#
#   1. Installs Debian's slurmctld, slurmd and slurm-client if missing (needs root and apt).
#   2. Starts slurmctld and slurmd as root in a temporary folder (auth/none, no cgroups, no
#      accounting), on free ports, with this machine's CPUs and memory.
#   3. Trains experiments/ci.toml locally with --threads T, T = the tasks' --cpus-per-task
#      (results are bit-identical for one binary and thread count, not across thread counts).
#   4. Submits the emitted script (a preparation job that builds the cache, then the array),
#      cancels one array task mid-run (`scancel <job>_<task>`), waits for the rest, resubmits
#      the same script (with `bash <script>`, which submits itself) and waits again.
#   5. Checks: the cancelled run was unfinished and is finished after the resubmission, and the
#      runs finished before it were not retrained (same bytes, same mtime); the merged
#      summary.parquet has every run exactly once with the local sweep's recalls (`cxr check
#      --update` of both, compared with diff); every run's model.safetensors equals the local
#      run's byte for byte.
#   6. Stops the daemons it started, by pid, whatever happens (the EXIT trap).
#
# Waits are bounded ($CXR_SLURM_TIMEOUT seconds per wait, default 600); on a timeout it prints
# the queue, the jobs, the daemons' logs and the jobs' logs, and fails. The temporary folder is
# removed after a pass and kept (its path printed) after a failure.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
start_time=$(date +%s)
timeout_s=${CXR_SLURM_TIMEOUT:-600}
grid=experiments/ci.toml
name=ci

say() { echo "--- slurm-test: $*"; }
fail() {
  echo "slurm-test FAILED: $*" >&2
  exit 1
}

if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v sbatch >/dev/null; then
  say "installing slurmctld, slurmd and slurm-client"
  [ "$(id -u)" = 0 ] || fail "Slurm is not installed and installing it needs root"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurmctld slurmd slurm-client >/dev/null
fi
[ "$(id -u)" = 0 ] || fail "the one-node cluster runs its daemons as root: run this as root"

say "building cxr"
cargo build --release --workspace --quiet
target=${CARGO_TARGET_DIR:-target}
case $target in /*) ;; *) target=$repo/$target ;; esac
cxr=$target/release/cxr
[ -x "$cxr" ] || fail "no binary at $cxr"

work=$(mktemp -d "${TMPDIR:-/tmp}/cxr-slurm-test.XXXXXX")
export SLURM_CONF=$work/slurm.conf
daemons=()
passed=0
cleanup() {
  local pid
  if [ ${#daemons[@]} -gt 0 ]; then
    # Jobs first, so no task outlives the cluster, then the daemons this script started.
    scancel --user=root --full >/dev/null 2>&1 || true
    for pid in "${daemons[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${daemons[@]}"; do
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
      kill -KILL "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
    done
    echo "--- slurm-test: stopped slurmctld and slurmd (pids ${daemons[*]})"
  fi
  if [ "$passed" = 1 ]; then rm -rf "$work"; else echo "--- slurm-test: kept $work for inspection"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

dump_logs() {
  echo "=== squeue"; squeue --all -o '%.12i %.22j %.10T %.12M %R' 2>&1 || true
  echo "=== scontrol show job"; scontrol show job 2>&1 | grep -E 'JobId=|JobState=|Reason=|Dependency=' || true
  for f in "$work"/log/*.log; do echo "=== $f (last 40 lines)"; tail -n 40 "$f"; done
  find "$work/slurm/$name/logs" -type f 2>/dev/null | sort | while read -r f; do
    echo "=== $f (last 15 lines)"; tail -n 15 "$f"
  done
}

# wait_for DESCRIPTION COMMAND...: polls COMMAND every half second until it succeeds; after
# $timeout_s seconds prints the cluster's state and logs and fails.
wait_for() {
  local what=$1 deadline=$((SECONDS + timeout_s))
  shift
  until "$@"; do
    if [ $SECONDS -ge $deadline ]; then
      dump_logs
      fail "timed out after ${timeout_s}s waiting for $what (CXR_SLURM_TIMEOUT raises the limit)"
    fi
    sleep 0.5
  done
}

# Two free TCP ports, so the test runs beside another Slurm (or another copy of itself).
read -r ctld_port slurmd_port < <(python3 -c '
import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(*[x.getsockname()[1] for x in s])')
host=$(hostname -s)
cpus=$(nproc)
memory=$(slurmd -C | sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p')
# One CPU per task when there are several, so that tasks run side by side and merge their
# summaries concurrently, as on a real cluster.
threads=$((cpus >= 2 ? 1 : cpus))
mkdir -p "$work"/{state,spool,log}
cat >"$SLURM_CONF" <<EOF
ClusterName=cxrtest
SlurmctldHost=$host
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/none
CredType=cred/none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
ReturnToService=2
SchedulerParameters=sched_interval=1,bf_interval=1
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/log/slurmctld.log
SlurmdLogFile=$work/log/slurmd.log
NodeName=$host CPUs=$cpus RealMemory=$memory State=UNKNOWN
PartitionName=cxr Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF

say "starting slurmctld and slurmd in $work (ports $ctld_port, $slurmd_port; $cpus CPUs)"
slurmctld -D -i >"$work/log/slurmctld.out" 2>&1 &
daemons+=($!)
slurmd -D >"$work/log/slurmd.out" 2>&1 &
daemons+=($!)
node_idle() { [ "$(sinfo -h -n "$host" -o %T 2>/dev/null)" = idle ]; }
wait_for "the node to come up idle" node_idle
say "cluster up: $(sinfo -h -o '%P %D %T %C')"

say "local sweep of $grid with --threads $threads (the reference)"
local_start=$SECONDS
"$cxr" --quiet --threads "$threads" sweep "$grid" --results "$work/local" --cache-dir "$work/cache-local"
say "local sweep took $((SECONDS - local_start)) s"

script=$work/$name.sh
"$cxr" --quiet sweep "$grid" --emit-slurm "$script" --results "$work/slurm" \
  --cache-dir "$work/cache-slurm" --cpus-per-task "$threads" --time 0:30:00
mapfile -t runs < <(sed -n '/^runs=(/,/^)/s/^  \([^ ]*\)  # [0-9]*$/\1/p' "$script")
[ ${#runs[@]} -ge 2 ] || fail "expected at least 2 runs in $script, found ${#runs[@]}"
victim=1 # the first ResNet18 run: the longest of the grid
logs=$work/slurm/$name/logs
runs_dir=$work/slurm/$name/runs
our_jobs_done() { [ -z "$(squeue -h -o %i 2>/dev/null)" ]; }
slurm_start=$SECONDS

say "sbatch $script (${#runs[@]} runs)"
sbatch --parsable "$script" >/dev/null
array_job() { squeue -h -n "cxr-$name" -o %F 2>/dev/null | head -n 1; }
array_started() { [ -n "$(array_job)" ]; }
wait_for "the preparation job to submit the array" array_started
array=$(array_job)
training() { grep -q "${runs[$victim]} epoch 2/" "$logs/${runs[$victim]}.log" 2>/dev/null; }
wait_for "task $victim (${runs[$victim]}) to finish its second epoch" training
# The time limit's warning (--signal=B:USR1@120), sent now: the task passes SIGTERM on to cxr,
# which stops keeping its epoch checkpoint, then requeues itself; the rerun resumes the run.
say "time limit near: scancel --signal=USR1 --batch ${array}_$victim (run ${runs[$victim]})"
scancel --signal=USR1 --batch "${array}_$victim"
requeued() { grep -q "near the time limit: requeueing" "$logs/${runs[$victim]}.log" 2>/dev/null; }
wait_for "task $victim to stop and requeue itself" requeued
# Slurm holds a requeued job back for a while; let it start now.
waiting_to_start() { [ "$(squeue -h -j "${array}_$victim" -o %T 2>/dev/null)" = PENDING ]; }
wait_for "task $victim to be pending again" waiting_to_start
scontrol update JobId="${array}_$victim" StartTime=now >/dev/null 2>&1 || true
resumed() { grep -q "resuming after epoch" "$logs/${runs[$victim]}.log" 2>/dev/null; }
wait_for "the requeued task $victim to resume its run" resumed
say "requeued and resumed: $(grep -h 'resuming after epoch' "$logs/${runs[$victim]}.log" | sed 's/.*INFO //')"
further() { [ "$(grep -c "${runs[$victim]} epoch [0-9]*/" "$logs/${runs[$victim]}.log")" -ge 3 ]; }
wait_for "the resumed run to finish another epoch" further
[ ! -f "$runs_dir/${runs[$victim]}/summary.parquet" ] || fail "task $victim finished before it could be cancelled"
say "scancel ${array}_$victim (run ${runs[$victim]}, mid-run: $(grep -c ' epoch [0-9]*/' "$logs/${runs[$victim]}.log") epoch(s) done)"
scancel "${array}_$victim"
wait_for "the first submission to end" our_jobs_done
grep -q "CANCELLED" "$logs/slurm-${array}_$victim.out" ||
  fail "Slurm's log of task $victim does not say it was cancelled: $(cat "$logs/slurm-${array}_$victim.out")"
[ ! -f "$runs_dir/${runs[$victim]}/summary.parquet" ] || fail "the cancelled run has a summary"
fingerprint() { stat -c '%n %i %y %s' "$runs_dir/$1/summary.parquet" "$runs_dir/$1/model.safetensors"; }
before=$work/before.txt
: >"$before"
for i in "${!runs[@]}"; do
  [ "$i" = "$victim" ] && continue
  [ -f "$runs_dir/${runs[$i]}/summary.parquet" ] || fail "run ${runs[$i]} did not finish in the first submission"
  fingerprint "${runs[$i]}" >>"$before"
done
say "first submission: ${#runs[@]} tasks, task $victim cancelled, $((${#runs[@]} - 1)) runs finished"

# `bash <script>` outside a job submits itself: the other way the README gives.
say "resubmitting: bash $script"
bash "$script" >/dev/null
resubmitted() { [ -n "$(array_job)" ] && [ "$(array_job)" != "$array" ]; }
wait_for "the resubmitted preparation job to submit the array" resubmitted
wait_for "the resubmission to end" our_jobs_done
say "Slurm part took $((SECONDS - slurm_start)) s"

say "check: nothing finished was retrained, the cancelled run is finished"
after=$work/after.txt
: >"$after"
for i in "${!runs[@]}"; do
  [ "$i" = "$victim" ] && continue
  fingerprint "${runs[$i]}" >>"$after"
  grep -q "skipping 1 finished run" "$logs/${runs[$i]}.log" ||
    fail "the resubmitted task $i did not skip its finished run: $(tail -n 5 "$logs/${runs[$i]}.log")"
done
diff "$before" "$after" || fail "finished runs were rewritten by the resubmission"
[ -f "$runs_dir/${runs[$victim]}/summary.parquet" ] || fail "the cancelled run was not trained by the resubmission"
echo "unchanged: $(($(wc -l <"$after") / 2)) finished runs (inode, mtime, size of summary.parquet and model.safetensors)"
echo "retrained: ${runs[$victim]} ($(grep -c '^--- ' "$logs/${runs[$victim]}.log") attempts in its log)"

say "check: the preparation jobs built the cache once, no task decoded images"
prepare_logs=("$logs"/prepare-*.out)
[ ${#prepare_logs[@]} = 2 ] || fail "expected 2 preparation logs, found ${#prepare_logs[@]}"
grep -h '^data: ' "${prepare_logs[@]}"
[ "$(grep -l 'cache built' "${prepare_logs[@]}" | wc -l)" = 1 ] &&
  [ "$(grep -l 'cache intact' "${prepare_logs[@]}" | wc -l)" = 1 ] ||
  fail "one preparation job should build the cache and the other find it intact"
if grep -l 'decoding [0-9]* images' "$logs"/*.log; then fail "array tasks decoded images (above)"; fi

say "check: every run exactly once, the same recalls as the local sweep, the same weights"
"$cxr" --quiet check "$work/local/$name" --baseline "$work/local-recall.toml" --update >/dev/null
"$cxr" --quiet check "$work/slurm/$name" --baseline "$work/slurm-recall.toml" --update >/dev/null
diff "$work/local-recall.toml" "$work/slurm-recall.toml" ||
  fail "the merged summary of the Slurm sweep differs from the local sweep's (above: local < > slurm)"
entries=$(grep -c '^\[\[run\]\]' "$work/slurm-recall.toml")
[ "$entries" = "${#runs[@]}" ] || fail "the merged summary has $entries runs, the grid ${#runs[@]}"
diff <(ls "$work/local/$name/runs") <(ls "$runs_dir") || fail "run folders differ (local < > slurm)"
for run in "${runs[@]}"; do
  cmp "$work/local/$name/runs/$run/model.safetensors" "$runs_dir/$run/model.safetensors" ||
    fail "$run: the weights differ from the local run's"
  echo "$run  $(sha256sum <"$runs_dir/$run/model.safetensors" | cut -c1-16)  identical"
done
grep -v '^#' "$work/slurm-recall.toml" | grep -E 'model|freeze|micro' | paste - - - | sed 's/^/  /'

passed=1
say "PASSED in $(($(date +%s) - start_time)) s"
