#!/usr/bin/env bash
# HTTP load runs against a release build on loopback (wrk from Debian's packages: apt-get install wrk).
# Usage: benches/http_load.sh [ES256|ES384|ES512] [apikey|login]   (default ES256; `apikey` runs only the
# API-key token run, `login` only the password-login runs). Figures go to docs/benchmarks.md.
# Each run is bounded: wrk -d10s (or -d5s for the flood); the server is stopped at the end.
set -euo pipefail
algorithm=${1:-ES256}
only=${2:-all}
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${AUTHIFY_BIN:-$root/target/release/authify}
[ -x "$bin" ] || cargo build --release --manifest-path "$root/Cargo.toml"
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }
work=$(mktemp -d)
trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT
cd "$work"
export AUTHIFY_JWT_ALGORITHM=$algorithm AUTHIFY_LISTEN=127.0.0.1:0 RUST_LOG=warn,authify=info
# wrk is one client IP hammering one account: exactly what rate limits and the lockout's in-flight
# reservations exist to stop. Off by default here, to measure capacity; set them to measure their cost
# (see docs/benchmarks.md).
export AUTHIFY_RATE_LIMIT_PER_IP=${AUTHIFY_RATE_LIMIT_PER_IP:-0}
export AUTHIFY_RATE_LIMIT_PER_ACCOUNT=${AUTHIFY_RATE_LIMIT_PER_ACCOUNT:-0}
export AUTHIFY_LOCKOUT_THRESHOLD=${AUTHIFY_LOCKOUT_THRESHOLD:-0}

echo 'a long enough password' | "$bin" user create bench@example.com >/dev/null 2>&1
# There is no command to make API keys (they come from the {json:api} layer), so write one the way the
# service stores it: hex SHA-256 of an `authify_sk_` secret, the owner's scope.
read -r access_key secret_key < <(python3 - <<'PY'
import hashlib, secrets, sqlite3, time
access, secret = secrets.token_hex(10), "authify_sk_" + secrets.token_hex(32)
db = sqlite3.connect("authify.db")
(uid,) = db.execute("SELECT id FROM users WHERE email = 'bench@example.com'").fetchone()
db.execute("INSERT INTO api_keys (user_id, name, access_key, secret_hash, scopes, created_at) VALUES (?, ?, ?, ?, ?, ?)",
           (uid, "bench", access, hashlib.sha256(secret.encode()).hexdigest(), "user_access", int(time.time())))
db.commit()
print(access, secret)
PY
)

start_server() {
  "$bin" serve 2>"$work/server.log" & server=$!
  for _ in $(seq 1 200); do
    addr=$(grep -o 'authify is listening addr=[0-9.:]*' "$work/server.log" | head -n1 | cut -d= -f2) || true
    [ -n "$addr" ] && return 0
    sleep 0.05
  done
  echo "server did not start" >&2; cat "$work/server.log" >&2; exit 1
}
rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$server/status"; }
anon_kb() { awk '/RssAnon/ {print $2}' "/proc/$server/status"; }
hwm_kb() { awk '/VmHWM/ {print $2}' "/proc/$server/status"; }

cat > apikey.lua <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"access_key":"$access_key","secret_key":"$secret_key"}'
LUA

run() { echo; echo "== $*"; wrk --latency "$@" | grep -E 'Requests/sec|Latency  |  50%|  99%|Non-2xx|Socket errors|successful logins'; }

cat > login.lua <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"email":"bench@example.com","password":"a long enough password"}'
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) ok = 0; busy = 0 end
function response(status, headers, body)
  if status == 200 then ok = ok + 1 elseif status == 503 then busy = busy + 1 end
end
function done(summary, latency, requests)
  local ok, busy = 0, 0
  for _, t in ipairs(threads) do ok = ok + t:get("ok"); busy = busy + t:get("busy") end
  io.write(string.format("successful logins: %d (%.1f/s); 503 busy: %d\n", ok, ok / (summary.duration / 1e6), busy))
end
LUA

login_runs() {
  run -t2 -c32 -d10s -s login.lua "http://$addr/jwt/token"
  echo "peak RSS so far: $(hwm_kb) kB; RSS now: $(rss_kb) kB"
  run -t2 -c500 -d5s -s login.lua "http://$addr/jwt/token"
  echo "peak RSS after a 500-connection login flood: $(hwm_kb) kB; RSS now: $(rss_kb) kB"
  # The hashing threads free their memory after 2 s without a check (crypto::hash_workers::LINGER).
  sleep 4
  echo "RSS 4 s after the flood: $(rss_kb) kB ($(anon_kb) kB anonymous)"
}

if [ "$only" = login ]; then
  start_server
  sleep 3 # past the start-up dummy hash and its memory's 2 s linger
  echo "server $addr ($algorithm), idle RSS after start: $(rss_kb) kB ($(anon_kb) kB anonymous)"
  login_runs
  exit 0
fi

if [ "$only" = apikey ]; then
  start_server
  echo "server $addr ($algorithm)"
  curl -sf -H 'Content-Type: application/json' -d "{\"access_key\":\"$access_key\",\"secret_key\":\"$secret_key\"}" \
    "http://$addr/jwt/token" >/dev/null || { echo "API-key login failed" >&2; exit 1; }
  run -t2 -c32 -d10s -s apikey.lua "http://$addr/jwt/token"
  exit 0
fi

# Readiness on an existing database (keys and schema already there): time from exec to the first 200.
start_server; kill $server; wait $server 2>/dev/null || true
python3 - "$bin" <<'PY'
import os, socket, subprocess, sys, time
env = dict(os.environ, AUTHIFY_LISTEN="127.0.0.1:19292")
best = []
for _ in range(5):
    t0 = time.perf_counter()
    p = subprocess.Popen([sys.argv[1], "serve"], env=env, stderr=subprocess.DEVNULL)
    while True:
        try:
            s = socket.create_connection(("127.0.0.1", 19292), timeout=0.05)
            s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            if s.recv(64).startswith(b"HTTP/1.1 200"):
                break
        except OSError:
            time.sleep(0.001)
    best.append((time.perf_counter() - t0) * 1000)
    p.terminate(); p.wait()
print("ready after start (ms, 5 runs): " + ", ".join(f"{b:.1f}" for b in best))
PY

start_server
sleep 3 # past the start-up dummy hash and its memory's 2 s linger
echo "server $addr ($algorithm), idle RSS after start: $(rss_kb) kB ($(anon_kb) kB anonymous)"
token=$(curl -s -H 'Content-Type: application/json' \
  -d '{"email":"bench@example.com","password":"a long enough password"}' "http://$addr/jwt/token" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["jwt"])')

cat > verify.lua <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"token":"$token"}'
LUA

run -t2 -c32 -d10s -s verify.lua "http://$addr/jwt/verify"
run -t2 -c32 -d10s "http://$addr/.well-known/jwks.json"
run -t2 -c32 -d10s -s apikey.lua "http://$addr/jwt/token"
login_runs
