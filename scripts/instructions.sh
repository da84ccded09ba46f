#!/usr/bin/env bash
# Instructions per frame of the bridge's per-connection path (split, decode, session, JSON
# with payload ids) for carscop and H02 frames, counted by valgrind's callgrind: unlike
# time, the count does not move with the machine's load, so a regression shows as a ratio.
#
#   scripts/instructions.sh            # prints the table and the ratio to the baseline
#   scripts/instructions.sh --update   # also rewrites Benchmarks/instructions-baseline.txt
#
# The workload is Benchmarks' InstructionCount: ITERATIONS × 10,000 frames of the mixes in
# Benchmarks/Benchmarks/BenchmarkFrames. One iteration more than the baseline run is
# subtracted out, so start-up costs cancel.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { apt-get update -qq && apt-get install -y -qq valgrind >/dev/null; }
baseline=Benchmarks/instructions-baseline.txt
(cd Benchmarks && swift build -c release --product InstructionCount --scratch-path .build-instructions \
    -debug-info-format none >/dev/null)
binary=Benchmarks/.build-instructions/release/InstructionCount

count() {  # protocol iterations -> total instructions
    valgrind --tool=callgrind --callgrind-out-file=/dev/null "$binary" "$1" "$2" 2>&1 \
        | awk '/Collected/ { gsub(",", "", $4); print $4 }'
}

printf '%-8s %16s %10s %10s\n' protocol "instructions/frame" baseline ratio
updated=""
for protocol in carscop h02; do
    one=$(count "$protocol" 1)
    three=$(count "$protocol" 3)
    per_frame=$(( (three - one) / 20000 ))
    base=$(awk -v p="$protocol" '$1 == p { print $2 }' "$baseline" 2>/dev/null || true)
    ratio="-"
    [ -n "$base" ] && ratio=$(python3 -c "print(f'{$per_frame / $base:.3f}')")
    printf '%-8s %16d %10s %10s\n' "$protocol" "$per_frame" "${base:--}" "$ratio"
    updated+="$protocol $per_frame"$'\n'
done
if [ "${1:-}" = "--update" ]; then
    {
        echo "# instructions/frame of the per-connection path (scripts/instructions.sh --update)"
        printf '%s' "$updated"
    } >"$baseline"
    echo "baseline written to $baseline"
fi
