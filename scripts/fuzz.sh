#!/usr/bin/env bash
# Fuzzes the connection pipeline (splitter, decoder, session, normalizer) with libFuzzer.
# Usage: scripts/fuzz.sh [seconds] [extra libFuzzer flags...]   (default 60 s)
# The corpus grows in .build-fuzz/corpus (seeded from Tests/Fixtures/fuzz-corpus); crash
# inputs land in .build-fuzz/crashes. Keep a crash input in Tests/Fixtures/fuzz-regressions/.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
shift || true
swift build -c release --scratch-path .build-fuzz --product cctr-fuzz \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING
mkdir -p .build-fuzz/corpus .build-fuzz/crashes
# SWIFT_BACKTRACE=enable=no: under ASan the Swift backtracer hangs on a crash.
SWIFT_BACKTRACE=enable=no .build-fuzz/release/cctr-fuzz \
    -max_total_time="$seconds" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix=.build-fuzz/crashes/ -print_final_stats=1 "$@" \
    .build-fuzz/corpus Tests/Fixtures/fuzz-corpus
