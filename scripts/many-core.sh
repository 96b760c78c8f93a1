#!/usr/bin/env bash
# Runs a profile (profiles/many-core.toml by default) with prebuilt binaries
# on a big machine and writes its result set under OUT, all within BUDGET
# seconds: cells that would not fit are recorded as skipped, never cut short
# silently. Then, in the time left, `gaslab replay` of the committed mainnet
# subset at the highest thread count, and each result set's table.
#
#   scripts/many-core.sh BIN_DIR OUT_DIR [BUDGET_S] [PROFILE]
#
# BIN_DIR holds gaslab and the worker-<allocator> binaries the profile names
# (cargo build --release; strip them to carry them), and may hold COMMIT:
# the commit they were built from, then `dirty` if the tree had changes (the
# result set names it; the tree where they run may not be a git checkout of
# it). Run it from the project root: the profile's mainnet cells read
# workloads/data/mainnet-subset.
# REPLAY_THREADS (default 16) and REPLAY_S (seconds kept for the replay,
# default 40; 0 skips it) tune the replay.
set -euo pipefail

usage() { echo "usage: $0 BIN_DIR OUT_DIR [BUDGET_S] [PROFILE]" >&2; exit 2; }
[ $# -ge 2 ] && [ $# -le 4 ] || usage
bin=$1 out=$2 budget=${3:-360} profile=${4:-profiles/many-core.toml}
replay_threads=${REPLAY_THREADS:-16} replay_s=${REPLAY_S:-40}
subset=workloads/data/mainnet-subset
started=$SECONDS

[[ $budget =~ ^[0-9]+$ ]] && [ "$budget" -gt 0 ] || { echo "$0: BUDGET_S must be a whole number of seconds, got '$budget'" >&2; exit 2; }
[[ $replay_s =~ ^[0-9]+$ ]] || { echo "$0: REPLAY_S must be a whole number of seconds, got '$replay_s'" >&2; exit 2; }
[ -x "$bin/gaslab" ] || { echo "$0: $bin/gaslab is missing or not executable" >&2; exit 2; }
[ -f "$profile" ] || { echo "$0: no profile at $profile" >&2; exit 2; }
[ -d "$subset" ] || replay_s=0
if [ -f "$bin/COMMIT" ]; then
    read -r built state < "$bin/COMMIT" || true
    export GASLAB_COMMIT=$built
    if [ "${state:-}" = dirty ]; then export GASLAB_DIRTY=1; fi
fi
mkdir -p "$out"
log=$out/many-core.log
left() { echo $((budget - (SECONDS - started))); }
say() { echo "[$(date -u +%H:%M:%S) $((SECONDS - started))s/${budget}s] $*" | tee -a "$log"; }

say "machine: $(nproc) cpus, $(uname -srm); binaries: $bin (commit ${GASLAB_COMMIT:-from git here}${GASLAB_DIRTY:+, dirty}); profile: $profile"
# The profile gets the budget less the replay's share and a margin for the
# tables; gaslab itself keeps every cell inside what it is given.
run_s=$(( $(left) - replay_s - 5 ))
[ "$run_s" -gt 0 ] || { say "budget too small: nothing left for the profile"; exit 2; }
say "gaslab run: budget ${run_s}s"
set +e
# The outer timeout only guards against a harness bug: SIGINT makes gaslab
# write what it measured, marked incomplete.
timeout --signal=INT --kill-after=5 $((run_s + 5)) \
    "$bin/gaslab" run "$profile" --workers "$bin" --results "$out" --budget "$run_s" \
    > "$out/run.txt" 2> >(tail -c 20000 > "$out/run.err")
run_rc=$?
set -e
wait # for the stderr tail
set_path=$(tail -n 1 "$out/run.txt")
say "gaslab run exited $run_rc: $set_path"
if [ -f "$set_path" ]; then
    "$bin/gaslab" validate "$set_path" | tee -a "$log"
else
    say "no result set was written (see $out/run.err)"
fi

replay_budget=$(( $(left) - 2 ))
if [ "$replay_s" -gt 0 ] && [ "$replay_budget" -gt 5 ]; then
    say "gaslab replay $subset at $replay_threads threads: budget ${replay_budget}s"
    tmp=$out/.replay.json
    if timeout --kill-after=2 "$replay_budget" "$bin/gaslab" replay "$subset" --executor both \
        --threads "$replay_threads" --runs 9 --format json --workers "$bin" > "$tmp"; then
        mv "$tmp" "$out/replay-${replay_threads}t.json"
        say "replay written: $out/replay-${replay_threads}t.json"
    else
        rm -f "$tmp"
        say "replay skipped: it did not finish in ${replay_budget}s"
    fi
else
    say "replay skipped: $( [ "$replay_s" -eq 0 ] && echo 'not asked for' || echo "$(left)s left")"
fi
say "done"
exit "$run_rc"
