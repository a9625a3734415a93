#!/usr/bin/env bash
# client_credentials builds side by side: one server per binary (SQLite, ES256, limits off), then
# ROUNDS rounds of wrk -t2 -c32 against each in turn (A B A B ...), so the machine's drift hits all
# alike. Prints per run: tokens/s, p99, the server's CPU per token (utime+stime / requests) and the
# CPU steal ticks during the run. wrk, curl, jq and openssl from Debian's packages.
# Usage: [ROUNDS=6] [DURATION=5s] benches/client_credentials_ab.sh BIN BIN...
set -euo pipefail
ROUNDS=${ROUNDS:-6} DURATION=${DURATION:-5s}
[ $# -ge 1 ] || { echo "usage: $0 BIN BIN..." >&2; exit 2; }
work=$(mktemp -d) pids=() ports=()
trap 'kill "${pids[@]}" 2>/dev/null; rm -rf "$work"' EXIT
export AUTHIFY_JWT_ALGORITHM=ES256 RUST_LOG=warn
export AUTHIFY_RATE_LIMIT_PER_IP=0 AUTHIFY_RATE_LIMIT_PER_ACCOUNT=0 AUTHIFY_LOCKOUT_THRESHOLD=0
for i in $(seq 0 $(($# - 1))); do
  bin=$(realpath "${@:$((i + 1)):1}") dir="$work/$i" port=$((8200 + i))
  mkdir -p "$dir"
  openssl ecparam -name prime256v1 -genkey -noout 2>/dev/null | openssl pkcs8 -topk8 -nocrypt -out "$dir/private.pem"
  openssl ec -in "$dir/private.pem" -pubout -out "$dir/public.pem" 2>/dev/null
  export AUTHIFY_DB_URL="sqlite://$dir/authify.db?mode=rwc" AUTHIFY_LISTEN="127.0.0.1:$port" \
    AUTHIFY_PUBLIC_URL="http://127.0.0.1:$port" AUTHIFY_PRIVKEY_PATH="$dir/private.pem" AUTHIFY_PUBKEY_PATH="$dir/public.pem"
  "$bin" migrate >/dev/null 2>&1
  client=$("$bin" client add Load --redirect-uri http://127.0.0.1:9/cb --scope api:read --json)
  basic=$(printf '%s:%s' "$(jq -r .client_id <<<"$client")" "$(jq -r .client_secret <<<"$client")" | base64 -w0)
  printf 'wrk.method="POST"\nwrk.body="grant_type=client_credentials&scope=api%%3Aread"\n%s\n%s\n' \
    'wrk.headers["Content-Type"]="application/x-www-form-urlencoded"' "wrk.headers[\"Authorization\"]=\"Basic $basic\"" > "$dir/cc.lua"
  (cd "$dir" && exec "$bin" serve > server.log 2>&1) & pids+=($!) ports+=($port)
  for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/.well-known/jwks.json" >/dev/null && break; sleep 0.2; done
  wrk -t2 -c32 -d3s -s "$dir/cc.lua" "http://127.0.0.1:$port/oauth2/token" >/dev/null
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
