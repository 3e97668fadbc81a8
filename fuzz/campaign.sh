#!/usr/bin/env bash
# A fuzzing campaign measured in CPU time: runs an already-built target (`cargo xtask fuzz` or
# `cargo fuzz build` builds it) under `nice -n 15` in chunks of wall-clock time until the
# process has used CPU_SECS of CPU (user + sys, from /usr/bin/time -v), on a working corpus
# outside the repo seeded from fuzz/corpus/<target>/. libFuzzer's -max_total_time is wall-clock
# time, which on a shared machine says little; this is why the chunks.
#
#   fuzz/campaign.sh <target> [CPU_SECS=600] [CHUNK_SECS=300]
#
# Environment: FUZZ_TARGET_DIR (where the fuzz workspace was built; default
# ${CARGO_TARGET_DIR}-libfuzzer, else fuzz/target, as `cargo xtask fuzz` builds), CAMPAIGN_DIR (default /root/.cache/ceramic-rs/fuzz-campaigns).
# Writes <CAMPAIGN_DIR>/<target>/{corpus/,log-N.txt,crash-*} and appends one line to
# <CAMPAIGN_DIR>/summary.txt: target, CPU seconds, runs, cov/ft at start and end, crashes.
set -u
target=$1
cpu_goal=${2:-600}
chunk=${3:-300}
root=$(cd "$(dirname "$0")/.." && pwd)
if [ -n "${FUZZ_TARGET_DIR:-}" ]; then build=$FUZZ_TARGET_DIR
elif [ -n "${CARGO_TARGET_DIR:-}" ]; then build=$CARGO_TARGET_DIR-libfuzzer
else build=$root/fuzz/target; fi
bin=$build/x86_64-unknown-linux-gnu/release/$target
dir=${CAMPAIGN_DIR:-/root/.cache/ceramic-rs/fuzz-campaigns}/$target
mkdir -p "$dir/corpus"
[ -x "$bin" ] || { echo "no $bin: build it first (cargo xtask fuzz $target --secs 1)"; exit 2; }

cpu=0 runs=0 n=0 crashes=0 start="" end=""
while [ "$(echo "$cpu < $cpu_goal" | bc)" = 1 ]; do
  n=$((n + 1))
  log=$dir/log-$n.txt
  nice -n 15 /usr/bin/time -v "$bin" "$dir/corpus" "$root/fuzz/corpus/$target" \
    -max_total_time="$chunk" -print_final_stats=1 -timeout=30 -rss_limit_mb=3072 \
    -artifact_prefix="$dir/" >"$log" 2>&1
  status=$?
  used=$(awk -F': ' '/User time|System time/ {s += $2} END {printf "%.1f", s}' "$log")
  cpu=$(echo "$cpu + $used" | bc)
  r=$(awk '/stat::number_of_executed_units/ {print $NF}' "$log" | tail -1)
  runs=$((runs + ${r:-0}))
  [ -z "$start" ] && start=$(grep -a 'INITED cov' "$log" | tail -1 | sed -E 's/.*cov: ([0-9]+) ft: ([0-9]+).*/cov \1 ft \2/')
  last=$(grep -aE '^#[0-9]+.*cov: [0-9]+ ft: [0-9]+' "$log" | tail -1 | sed -E 's/.*cov: ([0-9]+) ft: ([0-9]+).*/cov \1 ft \2/')
  [ -n "$last" ] && end=$last
  if grep -aq 'Test unit written to' "$log"; then
    crashes=$((crashes + 1))
    grep -a 'Test unit written to' "$log"
  fi
  echo "$target chunk $n: exit $status, +$used CPU s (total $cpu), runs $runs, end $end"
  # A crash ends the campaign: it must be fixed before fuzzing on makes sense.
  [ "$crashes" -gt 0 ] && break
done
line="$target: ${cpu} CPU s, $runs runs, start ${start:-?}, end ${end:-?}, crashes $crashes, chunks $n"
echo "$line" | tee -a "$(dirname "$dir")/summary.txt"
