#!/usr/bin/env bash
# User-space instructions per client_credentials token, under valgrind's callgrind: a count that
# does not move with the machine's load, for comparing builds of the code around the signature
# (the kernel's share is not in it). Counting starts after a warm-up and covers DURATION of wrk
# -t1 -c4. valgrind, wrk, curl, jq and openssl from Debian's packages.
# Usage: [DURATION=10s] benches/instructions_per_token.sh BIN
set -euo pipefail
bin=$(realpath "$1") work=$(mktemp -d) port=8299 vg=
trap '[ -n "$vg" ] && kill "$vg" 2>/dev/null; rm -rf "$work"' EXIT
openssl ecparam -name prime256v1 -genkey -noout 2>/dev/null | openssl pkcs8 -topk8 -nocrypt -out "$work/private.pem"
openssl ec -in "$work/private.pem" -pubout -out "$work/public.pem" 2>/dev/null
export AUTHIFY_DB_URL="sqlite://$work/authify.db?mode=rwc" AUTHIFY_LISTEN="127.0.0.1:$port" \
  AUTHIFY_PUBLIC_URL="http://127.0.0.1:$port" AUTHIFY_PRIVKEY_PATH="$work/private.pem" \
  AUTHIFY_PUBKEY_PATH="$work/public.pem" AUTHIFY_JWT_ALGORITHM=ES256 RUST_LOG=warn \
  AUTHIFY_RATE_LIMIT_PER_IP=0 AUTHIFY_RATE_LIMIT_PER_ACCOUNT=0 AUTHIFY_LOCKOUT_THRESHOLD=0
"$bin" migrate >/dev/null 2>&1
client=$("$bin" client add Load --redirect-uri http://127.0.0.1:9/cb --scope api:read --json)
basic=$(printf '%s:%s' "$(jq -r .client_id <<<"$client")" "$(jq -r .client_secret <<<"$client")" | base64 -w0)
printf 'wrk.method="POST"\nwrk.body="grant_type=client_credentials&scope=api%%3Aread"\n%s\n%s\n' \
  'wrk.headers["Content-Type"]="application/x-www-form-urlencoded"' "wrk.headers[\"Authorization\"]=\"Basic $basic\"" > "$work/cc.lua"
(cd "$work" && exec valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$work/cg.out" "$bin" serve > server.log 2>&1) &
vg=$!
for _ in $(seq 1 300); do curl -fs "http://127.0.0.1:$port/.well-known/jwks.json" >/dev/null && break; sleep 0.3; done
wrk -t1 -c4 -d3s -s "$work/cc.lua" "http://127.0.0.1:$port/oauth2/token" >/dev/null
callgrind_control -i on "$vg" >/dev/null 2>&1
n=$(wrk -t1 -c4 -d"${DURATION:-10s}" -s "$work/cc.lua" "http://127.0.0.1:$port/oauth2/token" | awk '/requests in/{print $1}')
sleep 0.5; callgrind_control -i off "$vg" >/dev/null 2>&1; callgrind_control -d "$vg" >/dev/null 2>&1; sleep 1
kill "$vg"; wait "$vg" 2>/dev/null || true; vg=
total=$(cat "$work"/cg.out* | awk '/^(summary|totals):/{s += $2} END{print s}')
echo "$(basename "$bin"): tokens=$n instructions=$total per_token=$((total / n))"
