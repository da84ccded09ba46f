#!/usr/bin/env bash
# Prints `cctr-bridge decode` output for every public sample frame followed by hostile input
# (garbage, a truncated frame, H02, out-of-range coordinates, an unknown word, a bad id, an
# open frame at end of input), so every payload kind decode emits can be schema-checked.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(swift build --show-bin-path)/cctr-bridge
[ -x "$bin" ] || swift build --product cctr-bridge >/dev/null
{
    grep -o '"frame": "[^"]*"' Tests/Fixtures/frames-public.txt | cut -d'"' -f4
    printf 'garbage\r\n*170821223045UB05ORANGE*150817160254UD00xx^*HQ,123#'
    printf '*040331141830UD00061825A9934.0133N10627.2544E000.0040331309.62^*040331141830ZZ99hello^'
    printf '*150817160254UB05bad/id160254A2106.8799S14910.2583E000.0150817158.35^*1234'
} | "$bin" decode "$@"
