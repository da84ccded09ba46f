#!/usr/bin/env bash
# Prints `cctr-bridge decode` output for every public sample frame followed by hostile input
# (garbage, a truncated frame, an H02 frame on a carscop connection, out-of-range
# coordinates, an unknown word, a bad id, an open frame at end of input), then for every H02
# capture in Tests/Fixtures/h02-captures.txt with hostile H02 input of its own, so every
# payload kind decode emits, in both protocols, can be schema-checked.
#
# Each decode run is one TCP connection. The H02 text captures share one; each binary capture
# gets its own, because over TCP the bridge takes the length of `$` frames from a
# connection's first read (32, 42 or 45 bytes). Runs are separate bridges that know nothing
# of each other's retained positions, so every binary run publishes under its own topic base
# (`<base>/h02-binary-<line>`): validated as one stream, an older fix from one run must not
# look like a retained position going back in time in another.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(swift build --show-bin-path)/cctr-bridge
[ -x "$bin" ] || swift build --product cctr-bridge >/dev/null
captures=Tests/Fixtures/h02-captures.txt

base=cctr prev=
for arg in "$@"; do
    case $prev,$arg in
        --topic-base,*) base=$arg ;;
        *,--topic-base=*) base=${arg#*=} ;;
    esac
    prev=$arg
done

{
    grep -o '"frame": "[^"]*"' Tests/Fixtures/frames-public.txt | cut -d'"' -f4
    printf 'garbage\r\n*170821223045UB05ORANGE*150817160254UD00xx^*HQ,123#'
    printf '*040331141830UD00061825A9934.0133N10627.2544E000.0040331309.62^*040331141830ZZ99hello^'
    printf '*150817160254UB05bad/id160254A2106.8799S14910.2583E000.0150817158.35^*1234'
} | "$bin" decode "$@"

# H02 text: every capture, then a bad id, a carscop frame on this H02 connection (protocol
# switch), and an open frame at end of input.
{
    grep -v '^#' "$captures" | awk -F'\t' '$2 == "text" { printf "%s", $3 }'
    printf '*HQ,bad/id,V1,101112,A,2106.8799,S,14910.2583,E,012.30,158,241126,FFFFFBFF#'
    printf '*150817160254UB05CC8011400042499160254A2106.8799S14910.2583E000.0150817158.3511111111L000000^'
    printf '*HQ,4105131188,V1,10'
} | "$bin" decode "$@"

# H02 binary: one connection per capture (the 46- and 48-byte ones end in garbage, as they
# would over TCP), plus an all-zero position (`no_position`). Python writes the bytes, since
# CI has it already and xxd is not everywhere.
{
    grep -n . "$captures" | awk -F'\t' '$1 !~ /^[0-9]+:#/ && $2 == "hex" { split($1, at, ":"); print at[1], $3 }'
    echo zero 2441060116601245431311160000000000000000000e000000fffffbffff0024
} | while read -r line hex; do
    python3 -c 'import sys; sys.stdout.buffer.write(bytes.fromhex(sys.argv[1]))' "$hex" |
        "$bin" decode "$@" --topic-base "$base/h02-binary-$line"
done
