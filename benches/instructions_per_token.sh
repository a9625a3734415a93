#!/usr/bin/env bash
# User-space instructions per client_credentials token, under valgrind's callgrind: a count that
# does not move with the machine's load, for comparing builds of the code around the signature
# (the kernel's share is not in it). Counting starts after a warm-up and covers DURATION of wrk
# -t1 -c4. valgrind, wrk, curl, jq and openssl from Debian's packages.
# KEEP=DIR keeps callgrind's outputs there (cg.out.1 is the counted part), for `callgrind_annotate`.
# Usage: [DURATION=10s] [KEEP=DIR] benches/instructions_per_token.sh BIN
set -euo pipefail
source "$(dirname "$0")/client_credentials_setup.sh"
bin=$(realpath "$1") work=$(mktemp -d) port=8299 vg=
trap '[ -n "$vg" ] && kill "$vg" 2>/dev/null; rm -rf "$work"' EXIT
cc_setup "$bin" "$work" "$port"
(cd "$work" && exec valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$work/cg.out" "$bin" serve > server.log 2>&1) &
vg=$!
wait_up "$port"
wrk -t1 -c4 -d3s -s "$work/cc.lua" "http://127.0.0.1:$port/oauth2/token" >/dev/null
callgrind_control -i on "$vg" >/dev/null 2>&1
n=$(wrk -t1 -c4 -d"${DURATION:-10s}" -s "$work/cc.lua" "http://127.0.0.1:$port/oauth2/token" | awk '/requests in/{print $1}')
sleep 0.5; callgrind_control -i off "$vg" >/dev/null 2>&1; callgrind_control -d "$vg" >/dev/null 2>&1; sleep 1
kill "$vg"; wait "$vg" 2>/dev/null || true; vg=
[ -n "${KEEP:-}" ] && mkdir -p "$KEEP" && cp "$work"/cg.out* "$KEEP"/
total=$(cat "$work"/cg.out* | awk '/^(summary|totals):/{s += $2} END{print s}')
echo "$(basename "$bin"): tokens=$n instructions=$total per_token=$((total / n))"
