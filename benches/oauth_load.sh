#!/usr/bin/env bash
# The OpenID Provider under load, with the peers' wrk harness (../shared/peers/lib/common.sh), from
# the project's root: `bash benches/oauth_load.sh`. Builds the release binary, starts it with an
# ES256 key on SQLite, registers a confidential client on the command line, then measures:
#   oauth-client-credentials  POST /oauth2/token grant_type=client_credentials (client_secret_basic)
#   oauth-code-exchange       POST /oauth2/token grant_type=authorization_code, codes pre-minted
#                             straight into the database (each used once), with an ID token
#   oauth-introspect          POST /oauth2/introspect of an access token (client_secret_basic)
#   apikey-token              POST /jwt/token with an API key: authify-api's machine credential, for comparison
# Compare with oidc-provider in the same sitting: `bash ../shared/peers/oidc-provider/run.sh`.
set -euo pipefail
PEERS="${AUTHIFY_PEERS:-$(cd "$(dirname "$0")/../.." && pwd)/shared/peers}"
source "$PEERS/lib/common.sh"

PEER=authify
SRC="$(cd "$(dirname "$0")/.." && pwd)"
WORK="${PEERS_WORK:-/var/tmp/peers}/authify-oauth"
PORT="${PORT:-8105}"
BASE="http://127.0.0.1:$PORT"
CODES="${CODES:-300000}"
CHUNK="${CHUNK:-70000}"   # codes one wrk run may use: more than it can exchange in WRK_DURATION
rm -rf "$WORK"; mkdir -p "$WORK"
need_apt wrk curl openssl jq
# AUTHIFY_BIN: an already built binary (say, the previous build, to compare side by side).
if [[ -z "${AUTHIFY_BIN:-}" ]]; then (cd "$SRC" && cargo build --release --quiet); fi
BIN="${AUTHIFY_BIN:-$SRC/target/release/authify}"
gen_es256_key "$WORK"
export AUTHIFY_DB_URL="sqlite://$WORK/authify.db?mode=rwc" AUTHIFY_LISTEN="127.0.0.1:$PORT" \
  AUTHIFY_PUBLIC_URL="$BASE" AUTHIFY_PRIVKEY_PATH="$WORK/es256-private.pem" \
  AUTHIFY_PUBKEY_PATH="$WORK/es256-public.pem" AUTHIFY_JWT_ALGORITHM=ES256 RUST_LOG=warn \
  AUTHIFY_RATE_LIMIT_PER_IP=0 AUTHIFY_RATE_LIMIT_PER_ACCOUNT=0 AUTHIFY_LOCKOUT_THRESHOLD=0

"$BIN" migrate
CLIENT=$("$BIN" client add "Load test" --redirect-uri http://127.0.0.1:9/cb --scope api:read --scope introspection --json)
ID=$(jq -r .client_id <<<"$CLIENT"); SECRET=$(jq -r .client_secret <<<"$CLIENT")
BASIC=$(printf '%s:%s' "$ID" "$SECRET" | base64 -w0)
"$BIN" user create bench@example.com <<<"correct horse battery staple" >/dev/null
# Pre-minted codes: what /oauth2/authorize stores (SHA-256 of the code), valid for the whole run.
python3 - "$WORK/authify.db" "$WORK/codes.txt" "$ID" "$CODES" <<'PY'
import hashlib, secrets, sqlite3, sys, time
db, out, client, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
conn = sqlite3.connect(db)
user = conn.execute("SELECT id FROM users WHERE email = 'bench@example.com'").fetchone()[0]
now = int(time.time())
codes = [secrets.token_urlsafe(32) for _ in range(count)]
conn.executemany(
    "INSERT INTO oauth_codes (code_hash, client_id, user_id, redirect_uri, scope, nonce, code_challenge,"
    " auth_time, session_id, expires_at, used_at, created_at) VALUES (?, ?, ?, ?, 'openid email', 'n', NULL, ?, NULL, ?, NULL, ?)",
    [(hashlib.sha256(c.encode()).hexdigest(), client, user, "http://127.0.0.1:9/cb", now, now + 3600, now) for c in codes])
conn.commit()
open(out, "w").write("\n".join(codes) + "\n")
PY

RESULTS="$WORK/results.tsv"; echo "$TSV_HEADER" > "$RESULTS"
"$BIN" serve > "$WORK/server.log" 2>&1 &
SERVER_PID=$!
trap 'kill -TERM $SERVER_PID 2>/dev/null; wait $SERVER_PID 2>/dev/null || true' EXIT
wait_ready "$BASE/.well-known/jwks.json" 60

make_script "$WORK/cc.lua" POST "grant_type=client_credentials&scope=api%3Aread" \
  "Content-Type: application/x-www-form-urlencoded" "Authorization: Basic $BASIC"
bench "$PEER" oauth-client-credentials "$SERVER_PID" "$WORK/cc.lua" "$BASE/oauth2/token" "$RESULTS"

# The same machine credential through authify-api's route, for comparison in the same run.
JWT=$(curl -fsS -H 'Content-Type: application/json' \
  -d '{"email":"bench@example.com","password":"correct horse battery staple"}' "$BASE/jwt/token" | jq -r .jwt)
KEY=$(curl -fsS -H 'Content-Type: application/vnd.api+json' -H "Authorization: Bearer $JWT" \
  -d '{"data":{"type":"apikeys","attributes":{}}}' "$BASE/apikeys")
make_script "$WORK/apikey.lua" POST "{\"access_key\":\"$(jq -r '.data.attributes["access-key"]' <<<"$KEY")\",\"secret_key\":\"$(jq -r '.data.attributes["secret-key"]' <<<"$KEY")\"}" \
  "Content-Type: application/json"
bench "$PEER" apikey-token "$SERVER_PID" "$WORK/apikey.lua" "$BASE/jwt/token" "$RESULTS"

TOKEN=$(curl -fsS -H "Authorization: Basic $BASIC" -d grant_type=client_credentials "$BASE/oauth2/token" | jq -r .access_token)
make_script "$WORK/introspect.lua" POST "token=$TOKEN" \
  "Content-Type: application/x-www-form-urlencoded" "Authorization: Basic $BASIC"
bench "$PEER" oauth-introspect "$SERVER_PID" "$WORK/introspect.lua" "$BASE/oauth2/introspect" "$RESULTS"

# Each wrk thread takes every n-th code, from its own offset; a code is never sent twice.
{
  cat <<LUA
-- Every wrk run (warm-up included) starts where the previous one stopped: a cursor file moves on
-- by CHUNK codes per run.
local codes, counter, base = {}, 0, nil
for line in io.lines("$WORK/codes.txt") do codes[#codes + 1] = line end
function setup(thread)
  if base == nil then
    local f = io.open("$WORK/cursor", "r"); base = f and tonumber(f:read("*l")) or 0; if f then f:close() end
    f = io.open("$WORK/cursor", "w"); f:write(tostring(base + $CHUNK)); f:close()
  end
  thread:set("offset", base + counter); counter = counter + 1
end
function init(args) index = offset + 1 end
function request()
  local code = codes[index]; index = index + $WRK_THREADS
  return wrk.format("POST", nil, {["Content-Type"] = "application/x-www-form-urlencoded",
    ["Authorization"] = "Basic $BASIC"}, "grant_type=authorization_code&redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fcb&code=" .. code)
end
LUA
  cat "$PEERS_LIB/report.lua"
} > "$WORK/code.lua"
bench "$PEER" oauth-code-exchange "$SERVER_PID" "$WORK/code.lua" "$BASE/oauth2/token" "$RESULTS"

echo "== $PEER: OpenID Provider load (wrk -t$WRK_THREADS -c$WRK_CONNS -d$WRK_DURATION, medians of $REPEAT runs)"
print_results "$RESULTS"
