#!/bin/sh
# A process that is not Node (here: a shell script with curl) reading secrets from `envmux serve`.
# Needs ENVMUX_URL (where serve listens) and ENVMUX_TOKEN_FILE (the reader token serve wrote, 0600).
# python3 only picks fields out of the JSON answers. Values are shown as length + hash prefix only.
set -eu

token=$(cat "$ENVMUX_TOKEN_FILE")
auth="Authorization: Bearer $token"
py() { python3 -c "import json, sys; d = json.load(sys.stdin); $1"; }
fingerprint() { printf '*** (%s chars, sha256 %s)' "$(printf %s "$1" | wc -c | tr -d ' ')" "$(printf %s "$1" | sha256sum | cut -c1-8)"; }

echo '# GET /v1/health'
curl -fsS -H "$auth" "$ENVMUX_URL/v1/health" | py 'print("ok=%s providers=%s" % (d["ok"], ",".join(p["provider"] for p in d["providers"])))'

echo '# GET /v1/secrets/db/password'
password=$(curl -fsS -H "$auth" "$ENVMUX_URL/v1/secrets/db/password" | py 'print(d["value"], end="")')
echo "db/password $(fingerprint "$password")"

echo '# POST /v1/resolve (a whole dotenv text; all or nothing)'
curl -fsS -H "$auth" --data-binary @- "$ENVMUX_URL/v1/resolve" <<'ENV' | py 'print("\n".join("%s resolved, %d chars" % (k, len(v)) for k, v in d["values"].items()))'
DATABASE_URL=postgres://app:$<secret:db/password>@db:5432/app
API_TOKEN=$<secret:api/token>
ENV

echo '# GET without the token'
curl -sS -o /dev/null -w 'HTTP %{http_code}\n' "$ENVMUX_URL/v1/secrets/db/password"
