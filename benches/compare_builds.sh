#!/usr/bin/env bash
# Release builds side by side: each round starts every given binary in turn (A B A B ...), so drift of
# the machine (other builds, CPU steal) hits all of them alike. wrk from Debian's packages.
# Usage: benches/compare_builds.sh BIN BIN... [-- ROUNDS]   (3 rounds unless given; ES256, or
#        AUTHIFY_JWT_ALGORITHM). Each run, on a fresh server in its own temporary directory:
#   idle    VmRSS and RssAnon 3 s after start (past the start-up dummy hash and its 2 s linger)
#   verify  POST /jwt/verify, wrk -t2 -c32 -d10s          jwks  GET /.well-known/jwks.json, same
#   apikey  POST /jwt/token with an API key, same         login POST /jwt/token with a password, same
#   peak    VmHWM after all four (the 32-connection password logins set it: 2 argon2 memories)
#   anon    the highest RssAnon sampled every 0.2 s during the logins
# Rate limits and the lockout are off, as in benches/http_load.sh. Figures go to docs/benchmarks.md.
set -euo pipefail
bins=() rounds=3
while [ $# -gt 0 ]; do
  case $1 in --) rounds=$2; shift 2 ;; *) bins+=("$(realpath "$1")"); shift ;; esac
done
[ ${#bins[@]} -ge 1 ] || { echo "usage: $0 BIN BIN... [-- ROUNDS]" >&2; exit 2; }
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }
duration=${DURATION:-10s}
work=$(mktemp -d)
server=
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$work"' EXIT
export AUTHIFY_JWT_ALGORITHM=${AUTHIFY_JWT_ALGORITHM:-ES256} AUTHIFY_LISTEN=127.0.0.1:0 RUST_LOG=warn,authify=info
export AUTHIFY_RATE_LIMIT_PER_IP=0 AUTHIFY_RATE_LIMIT_PER_ACCOUNT=0 AUTHIFY_LOCKOUT_THRESHOLD=0
password='a long enough password'

# One directory per binary: its own database, keys, user and API key, made by that binary's CLI.
for i in "${!bins[@]}"; do
  mkdir -p "$work/$i"
  (cd "$work/$i" && echo "$password" | "${bins[$i]}" user create bench@example.com >/dev/null 2>&1)
  python3 - "$work/$i" <<'PY'
import hashlib, secrets, sqlite3, sys, time
access, secret = secrets.token_hex(10), "authify_sk_" + secrets.token_hex(32)
db = sqlite3.connect(sys.argv[1] + "/authify.db")
(uid,) = db.execute("SELECT id FROM users WHERE email = 'bench@example.com'").fetchone()
db.execute("INSERT INTO api_keys (user_id, name, access_key, secret_hash, scopes, created_at) VALUES (?, ?, ?, ?, ?, ?)",
           (uid, "bench", access, hashlib.sha256(secret.encode()).hexdigest(), "user_access", int(time.time())))
db.commit()
open(sys.argv[1] + "/apikey.lua", "w").write(f"""wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{{"access_key":"{access}","secret_key":"{secret}"}}'
""")
PY
done
cat > "$work/login.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"email":"bench@example.com","password":"$password"}'
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) ok = 0 end
function response(status, headers, body) if status == 200 then ok = ok + 1 end end
function done(summary, latency, requests)
  local ok = 0
  for _, t in ipairs(threads) do ok = ok + t:get("ok") end
  io.write(string.format("logins/s %.1f\n", ok / (summary.duration / 1e6)))
end
LUA

status_kb() { awk -v k="$1:" '$1 == k {print $2}' "/proc/$server/status"; }
mb() { awk -v kb="$1" 'BEGIN {printf "%.1f", kb / 1024}'; }
rate() { wrk -t2 -c32 -d"$duration" "$@" | awk '/Requests\/sec/ {printf "%d", $2}'; }

# run INDEX: one fresh server, the loads, one line of figures.
run() {
  local dir=$work/$1 addr='' token anon_max=0 anon logins
  (cd "$dir" && exec "${bins[$1]}" serve 2>server.log) & server=$!
  for _ in $(seq 1 200); do
    addr=$(grep -o 'authify is listening addr=[0-9.:]*' "$dir/server.log" | head -n1 | cut -d= -f2) || true
    [ -n "$addr" ] && break
    sleep 0.05
  done
  [ -n "$addr" ] || { echo "server did not start" >&2; cat "$dir/server.log" >&2; exit 1; }
  sleep 3
  local idle_rss idle_anon
  idle_rss=$(status_kb VmRSS) idle_anon=$(status_kb RssAnon)
  token=$(curl -sf -H 'Content-Type: application/json' -d "{\"email\":\"bench@example.com\",\"password\":\"$password\"}" \
    "http://$addr/jwt/token" | python3 -c 'import json,sys; print(json.load(sys.stdin)["jwt"])')
  printf 'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nwrk.body = %s\n' \
    "'{\"token\":\"$token\"}'" > "$dir/verify.lua"
  local verify jwks apikey
  verify=$(rate -s "$dir/verify.lua" "http://$addr/jwt/verify")
  jwks=$(rate "http://$addr/.well-known/jwks.json")
  apikey=$(rate -s "$dir/apikey.lua" "http://$addr/jwt/token")
  wrk -t2 -c32 -d"$duration" -s "$work/login.lua" "http://$addr/jwt/token" > "$dir/login.out" & local load=$!
  while kill -0 "$load" 2>/dev/null; do
    anon=$(status_kb RssAnon); [ "$anon" -gt "$anon_max" ] && anon_max=$anon
    sleep 0.2
  done
  wait "$load"
  logins=$(awk '/logins\/s/ {print $2}' "$dir/login.out")
  printf '%-5s %-28s %9s %9s %8s %8s %8s %7s %9s %9s\n' "$round" "$(basename "${bins[$1]}")" "$(mb "$idle_rss")" \
    "$(mb "$idle_anon")" "$verify" "$jwks" "$apikey" "$logins" "$(mb "$(status_kb VmHWM)")" "$(mb "$anon_max")" |
    tee -a "$work/results"
  kill "$server"; wait "$server" 2>/dev/null || true; server=
}

echo "# $(date -u +%FT%TZ), $AUTHIFY_JWT_ALGORITHM, wrk -t2 -c32 -d$duration; memory in MiB (/proc/PID/status)"
printf '%-5s %-28s %9s %9s %8s %8s %8s %7s %9s %9s\n' round binary idle_rss idle_anon verify jwks apikey logins peak_rss peak_anon
for round in $(seq 1 "$rounds"); do
  for i in "${!bins[@]}"; do run "$i"; done
done
echo "# medians"
python3 - "$work/results" <<'PY'
import statistics, sys
rows = [line.split() for line in open(sys.argv[1])]
for name in dict.fromkeys(row[1] for row in rows):
    mine = [row[2:] for row in rows if row[1] == name]
    medians = [statistics.median(float(row[c]) for row in mine) for c in range(8)]
    print(f"{'med':<5} {name:<28} " + " ".join(f"{m:>{w}g}" for m, w in zip(medians, (9, 9, 8, 8, 8, 7, 9, 9))))
PY
