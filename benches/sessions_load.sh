#!/usr/bin/env bash
# Sessions under load, against a release build on loopback (wrk from Debian's packages).
# Usage: benches/sessions_load.sh [ES256|ES384|ES512] [revocations]   (defaults: ES256, 100000)
#   1. POST /jwt/verify with an empty revocation list, then with <revocations> live revoked token ids
#      (written to the database, loaded at start-up like any instance does), same token, same run;
#   2. POST /jwt/refresh: 32 connections, each exchanging its own session's refresh token for the
#      next one (every request is a real rotation: no grace-window hits).
# AUTHIFY_DB_URL may point at PostgreSQL or MariaDB (an empty database); default a fresh SQLite file.
# Each wrk run is bounded (-d10s); the server is stopped at the end. Figures go to docs/benchmarks.md.
set -euo pipefail
algorithm=${1:-ES256}
revocations=${2:-100000}
root=$(cd "$(dirname "$0")/.." && pwd)
bin=$root/target/release/authify
[ -x "$bin" ] || cargo build --release --manifest-path "$root/Cargo.toml"
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }
work=$(mktemp -d)
server=
trap '[ -n "$server" ] && kill $server 2>/dev/null; rm -rf "$work"' EXIT
cd "$work"
export AUTHIFY_JWT_ALGORITHM=$algorithm AUTHIFY_LISTEN=127.0.0.1:0 RUST_LOG=warn,authify=info
export AUTHIFY_RATE_LIMIT_PER_IP=0 AUTHIFY_RATE_LIMIT_PER_ACCOUNT=0 AUTHIFY_LOCKOUT_THRESHOLD=0
export AUTHIFY_DB_URL=${AUTHIFY_DB_URL:-sqlite://$work/authify.db?mode=rwc}

echo 'a long enough password' | "$bin" user create bench@example.com >/dev/null 2>&1

start_server() {
  : >"$work/server.log"
  "$bin" serve 2>"$work/server.log" & server=$!
  for _ in $(seq 1 600); do
    addr=$(grep -o 'authify is listening addr=[0-9.:]*' "$work/server.log" | head -n1 | cut -d= -f2) || true
    [ -n "$addr" ] && return 0
    sleep 0.05
  done
  echo "server did not start" >&2; cat "$work/server.log" >&2; exit 1
}
stop_server() { kill $server; wait $server 2>/dev/null || true; server=; }
login() {
  curl -sf -H 'Content-Type: application/json' \
    -d '{"email":"bench@example.com","password":"a long enough password"}' "http://$addr/jwt/token"
}
field() { python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }
run() { echo; echo "== $*"; wrk --latency "$@" | grep -E 'Requests/sec|Latency  |  50%|  99%|Non-2xx|Socket errors|refreshes'; }

start_server
token=$(login | field jwt)
cat > verify.lua <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"token":"$token"}'
LUA
echo "server $addr ($algorithm, ${AUTHIFY_DB_URL%%:*}); revocation list: empty"
run -t2 -c32 -d10s -s verify.lua "http://$addr/jwt/verify"
stop_server

# Live revocations, written as the service writes them (kind jti, random 22-character ids).
python3 - "$revocations" <<'PY'
import os, secrets, sys, time
n, url = int(sys.argv[1]), os.environ["AUTHIFY_DB_URL"]
now = int(time.time())
rows = [("jti", secrets.token_urlsafe(16), now, now + 3600) for _ in range(n)]
sql = "INSERT INTO revocations (kind, value, created_at, expires_at) VALUES ({0}, {0}, {0}, {0})"
if url.startswith("sqlite"):
    import sqlite3
    db = sqlite3.connect(url.split("://", 1)[1].split("?")[0]); db.executemany(sql.format("?"), rows)
elif url.startswith("postgres"):
    import subprocess
    data = "".join(f"{k}\t{v}\t{c}\t{e}\n" for k, v, c, e in rows)
    subprocess.run(["psql", "-q", url, "-c", "COPY revocations (kind, value, created_at, expires_at) FROM STDIN"],
                   input=data.encode(), check=True)
    db = None
else:
    raise SystemExit("seed the revocations table yourself for this database")
if db is not None:
    db.commit()
print(f"wrote {n} live revocations")
PY
start_server
# A token revoked through the API must be refused while the list is large.
revoked=$(login | field jwt)
curl -sf -X POST -H "Authorization: Bearer $revoked" "http://$addr/jwt/revoke" >/dev/null
curl -sf -H 'Content-Type: application/json' -d "{\"token\":\"$revoked\"}" "http://$addr/jwt/verify" |
  grep -q 'Token has been revoked' || { echo "a revoked token was not refused" >&2; exit 1; }
echo "server $addr; revocation list: $revocations live entries (+1 revoked through the API, refused)"
run -t2 -c32 -d10s -s verify.lua "http://$addr/jwt/verify"

# Refresh: 64 sessions (32 per wrk thread), each connection exchanging its own chain.
for _ in $(seq 1 64); do login | field refresh_token; done > refresh_tokens.txt
{
  echo "local all = {"; sed 's/.*/  "&",/' refresh_tokens.txt; echo "}"
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
} > refresh.lua
run -t2 -c32 -d10s -s refresh.lua "http://$addr/jwt/refresh"
