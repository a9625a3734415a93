#!/usr/bin/env bash
# Sessions under load, against a release build on loopback (wrk from Debian's packages).
# Usage: benches/sessions_load.sh [ES256|ES384|ES512] [revocations]   (defaults: ES256, 100000)
#   1. POST /jwt/verify on two servers side by side: one with an empty revocation list, one with
#      <revocations> live revoked token ids (written to its SQLite database and loaded at start-up,
#      as any instance does). wrk alternates between them, 5 runs of 6 s each, so drift of the
#      machine hits both alike. The listed server must still refuse a token revoked through the API.
#   2. POST /jwt/refresh: 32 connections, each exchanging its own session's refresh token for the
#      next one (every request is a real rotation, no grace-window hits), 10 s. On AUTHIFY_DB_URL
#      when set (an empty PostgreSQL or MariaDB database), else a fresh SQLite file.
# The servers are stopped at the end. Figures go to docs/benchmarks.md.
set -euo pipefail
algorithm=${1:-ES256}
revocations=${2:-100000}
root=$(cd "$(dirname "$0")/.." && pwd)
bin=$root/target/release/authify
[ -x "$bin" ] || cargo build --release --manifest-path "$root/Cargo.toml"
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }
work=$(mktemp -d)
stop_all() { for pid in "$work"/*/pid; do [ -f "$pid" ] && kill "$(cat "$pid")" 2>/dev/null; rm -f "$pid"; done; }
trap 'stop_all; rm -rf "$work"' EXIT
export AUTHIFY_JWT_ALGORITHM=$algorithm AUTHIFY_LISTEN=127.0.0.1:0 RUST_LOG=warn,authify=info
export AUTHIFY_RATE_LIMIT_PER_IP=0 AUTHIFY_RATE_LIMIT_PER_ACCOUNT=0 AUTHIFY_LOCKOUT_THRESHOLD=0
password='a long enough password'

# start DIR [DB_URL] [REVOCATIONS]: serves from DIR (its own SQLite file unless DB_URL is given),
# after seeding REVOCATIONS revoked ids; prints the address.
start() {
  local dir=$1 url=${2:-sqlite://$1/authify.db?mode=rwc}
  mkdir -p "$dir"
  (cd "$dir" && echo "$password" | AUTHIFY_DB_URL=$url "$bin" user create bench@example.com >/dev/null 2>&1)
  [ -n "${3:-}" ] && seed "$dir/authify.db" "$3"
  (cd "$dir" && AUTHIFY_DB_URL=$url exec "$bin" serve >/dev/null 2>server.log) &
  echo $! > "$dir/pid"
  for _ in $(seq 1 600); do
    addr=$(grep -o 'authify is listening addr=[0-9.:]*' "$dir/server.log" | head -n1 | cut -d= -f2) || true
    [ -n "$addr" ] && { echo "$addr"; return 0; }
    sleep 0.05
  done
  echo "server did not start" >&2; cat "$dir/server.log" >&2; exit 1
}
# seed FILE N: N live revocations, as the service writes them (kind jti, 22-character ids).
seed() {
  python3 - "$1" "$2" <<'PY'
import secrets, sqlite3, sys, time
now = int(time.time())
db = sqlite3.connect(sys.argv[1])
db.executemany("INSERT INTO revocations (kind, value, created_at, expires_at) VALUES (?, ?, ?, ?)",
               [("jti", secrets.token_urlsafe(16), now, now + 3600) for _ in range(int(sys.argv[2]))])
db.commit()
PY
}
login() {
  curl -sf -H 'Content-Type: application/json' \
    -d "{\"email\":\"bench@example.com\",\"password\":\"$password\"}" "http://$1/jwt/token"
}
field() { python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }
verify_script() {
  printf 'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nwrk.body = %s\n' \
    "'{\"token\":\"$(login "$1" | field jwt)\"}'" > "$2"
}
rate() { wrk -t2 -c32 -d6s -s "$2" "http://$1/jwt/verify" | awk '/Requests\/sec/ {print $2}'; }

# 1. Verification with and without a long revocation list.
empty=$(start "$work/empty")
listed=$(start "$work/listed" "" "$revocations")
verify_script "$empty" "$work/empty.lua"
verify_script "$listed" "$work/listed.lua"
revoked=$(login "$listed" | field jwt)
curl -sf -X POST -H "Authorization: Bearer $revoked" "http://$listed/jwt/revoke" >/dev/null
curl -sf -H 'Content-Type: application/json' -d "{\"token\":\"$revoked\"}" "http://$listed/jwt/verify" |
  grep -q 'Token has been revoked' || { echo "a revoked token was not refused" >&2; exit 1; }
echo "== POST /jwt/verify ($algorithm), wrk -t2 -c32 -d6s, alternating; req/s"
printf '%-8s %-12s %s\n' run empty "$revocations revoked (+1 through the API, refused)"
for i in 1 2 3 4 5; do printf '%-8s %-12s %s\n' "$i" "$(rate "$empty" "$work/empty.lua")" "$(rate "$listed" "$work/listed.lua")"; done
stop_all

# 2. Refresh: 64 sessions (32 per wrk thread), each connection exchanging its own chain.
addr=$(start "$work/refresh" "${AUTHIFY_DB_URL:-}")
for _ in $(seq 1 64); do login "$addr" | field refresh_token; done > "$work/refresh_tokens.txt"
{
  echo "local all = {"; sed 's/.*/  "&",/' "$work/refresh_tokens.txt"; echo "}"
  cat <<'LUA'
local threads, next_id = {}, 0
function setup(thread) thread:set("id", next_id); next_id = next_id + 1; table.insert(threads, thread) end
function init(args)
  queue = {}; ok = 0; bad = 0
  for i = id * 32 + 1, id * 32 + 32 do table.insert(queue, all[i]) end
end
function request()
  local token = table.remove(queue, 1)
  return wrk.format("POST", "/jwt/refresh", {["Content-Type"] = "application/json"},
    '{"refresh_token":"' .. token .. '"}')
end
function response(status, headers, body)
  local token = body:match('"refresh_token":"(authify_rt_%x+)"')
  if status == 200 and token then ok = ok + 1; table.insert(queue, token) else bad = bad + 1 end
end
function done(summary, latency, requests)
  local ok, bad = 0, 0
  for _, t in ipairs(threads) do ok = ok + t:get("ok"); bad = bad + t:get("bad") end
  io.write(string.format("refreshes: %d rotated (%.1f/s), %d failed\n", ok, ok / (summary.duration / 1e6), bad))
end
LUA
} > "$work/refresh.lua"
db=${AUTHIFY_DB_URL:-sqlite}
echo; echo "== POST /jwt/refresh ($algorithm, ${db%%:*}), wrk -t2 -c32 -d10s"
wrk --latency -t2 -c32 -d10s -s "$work/refresh.lua" "http://$addr/jwt/refresh" |
  grep -E 'Requests/sec|  50%|  99%|Non-2xx|Socket errors|refreshes'
