#!/usr/bin/env bash
# client_credentials builds side by side: one server per binary (SQLite, ES256, limits off), then
# ROUNDS rounds of wrk -t2 -c32 against each in turn (A B A B ...), so the machine's drift hits all
# alike. Prints per run: tokens/s, p99, the server's CPU per token (utime+stime / requests) and the
# CPU steal ticks during the run. wrk, curl, jq and openssl from Debian's packages.
# Usage: [ROUNDS=6] [DURATION=5s] benches/client_credentials_ab.sh BIN BIN...
set -euo pipefail
ROUNDS=${ROUNDS:-6} DURATION=${DURATION:-5s}
[ $# -ge 1 ] || { echo "usage: $0 BIN BIN..." >&2; exit 2; }
source "$(dirname "$0")/client_credentials_setup.sh"
bins=("$@") work=$(mktemp -d) pids=() ports=()
trap 'kill "${pids[@]}" 2>/dev/null; rm -rf "$work"' EXIT
for i in "${!bins[@]}"; do
  bin=$(realpath "${bins[$i]}") port=$((8200 + i))
  cc_setup "$bin" "$work/$i" "$port"
  (cd "$work/$i" && exec "$bin" serve > server.log 2>&1) & pids+=($!) ports+=($port)
  wait_up "$port"
  wrk -t2 -c32 -d3s -s "$work/$i/cc.lua" "http://127.0.0.1:$port/oauth2/token" >/dev/null
done
for round in $(seq 1 "$ROUNDS"); do
  line="round $round:"
  for i in "${!pids[@]}"; do
    steal0=$(awk '/^cpu /{print $9}' /proc/stat) cpu0=$(awk '{print $14 + $15}' "/proc/${pids[$i]}/stat")
    out=$(wrk -t2 -c32 -d"$DURATION" --latency -s "$work/$i/cc.lua" "http://127.0.0.1:${ports[$i]}/oauth2/token")
    cpu1=$(awk '{print $14 + $15}' "/proc/${pids[$i]}/stat") steal1=$(awk '/^cpu /{print $9}' /proc/stat)
    n=$(awk '/requests in/{print $1}' <<<"$out") rps=$(awk '/Requests\/sec/{print $2}' <<<"$out")
    p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
    us=$(awk -v c=$((cpu1 - cpu0)) -v n="$n" -v hz="$(getconf CLK_TCK)" 'BEGIN{printf "%.1f", c * 1e6 / hz / n}')
    line="$line  [$i] $rps/s p99=$p99 cpu/token=${us}us steal=$((steal1 - steal0))"
  done
  echo "$line"
done
