# Sourced by the client_credentials benches: `cc_setup BIN DIR PORT` gives BIN, in DIR, an ES256 key,
# a migrated SQLite database and a confidential client, exports the AUTHIFY_* settings of a server
# on 127.0.0.1:PORT (rate limits and lockout off), and writes DIR/cc.lua, the wrk script of
# `POST /oauth2/token grant_type=client_credentials` with that client's Basic credentials.
cc_setup() {
  local bin=$1 dir=$2 port=$3 client basic
  mkdir -p "$dir"
  openssl ecparam -name prime256v1 -genkey -noout 2>/dev/null | openssl pkcs8 -topk8 -nocrypt -out "$dir/private.pem"
  openssl ec -in "$dir/private.pem" -pubout -out "$dir/public.pem" 2>/dev/null
  export AUTHIFY_DB_URL="sqlite://$dir/authify.db?mode=rwc" AUTHIFY_LISTEN="127.0.0.1:$port" \
    AUTHIFY_PUBLIC_URL="http://127.0.0.1:$port" AUTHIFY_PRIVKEY_PATH="$dir/private.pem" \
    AUTHIFY_PUBKEY_PATH="$dir/public.pem" AUTHIFY_JWT_ALGORITHM=ES256 RUST_LOG=warn \
    AUTHIFY_RATE_LIMIT_PER_IP=0 AUTHIFY_RATE_LIMIT_PER_ACCOUNT=0 AUTHIFY_LOCKOUT_THRESHOLD=0
  "$bin" migrate >/dev/null 2>&1
  client=$("$bin" client add Load --redirect-uri http://127.0.0.1:9/cb --scope api:read --json)
  basic=$(printf '%s:%s' "$(jq -r .client_id <<<"$client")" "$(jq -r .client_secret <<<"$client")" | base64 -w0)
  printf 'wrk.method="POST"\nwrk.body="grant_type=client_credentials&scope=api%%3Aread"\n%s\n%s\n' \
    'wrk.headers["Content-Type"]="application/x-www-form-urlencoded"' \
    "wrk.headers[\"Authorization\"]=\"Basic $basic\"" > "$dir/cc.lua"
}

# wait_up PORT: until the server on PORT answers its JWKS (at most 60 s).
wait_up() {
  for _ in $(seq 1 200); do curl -fs "http://127.0.0.1:$1/.well-known/jwks.json" >/dev/null && return; sleep 0.3; done
  echo "the server on port $1 did not come up" >&2; return 1
}
