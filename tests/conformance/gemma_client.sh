#!/usr/bin/env bash
# The client command for `conformance client --command "bash gemma_client.sh"`: drives gemma-mcp
# as a user would. The suite appends the scenario's MCP URL and sets MCP_CONFORMANCE_SCENARIO (and
# MCP_CONFORMANCE_CONTEXT with credentials). GEMMA_MCP_BIN and FAKE_BROWSER are set by the test.
set -u
URL="${!#}"
SC="${MCP_CONFORMANCE_SCENARIO:?MCP_CONFORMANCE_SCENARIO not set}"
GEMMA="${GEMMA_MCP_BIN:?GEMMA_MCP_BIN not set}"
PY="${GEMMA_MCP_PY:-$(dirname "$GEMMA")/python}"
T=$(mktemp -d "${TMPDIR:-/tmp}/gemma-conf.XXXXXX")
trap 'rm -rf "$T"' EXIT
export HOME="$T/home" XDG_CONFIG_HOME="$T/home/.config" XDG_CACHE_HOME="$T/home/.cache" \
       XDG_STATE_HOME="$T/home/.local/state" GEMMA_MCP_STATE_DIR="$T/state" GEMMA_MCP_CACHE_DIR="$T/cache"
unset GEMMA_MCP_CONFIG GEMMA_MCP_SETTINGS
mkdir -p "$HOME"; cd "$T" || exit 1
export BROWSER="$PY ${FAKE_BROWSER:?FAKE_BROWSER not set} %s"
CFG="$T/servers.toml"

run() { echo "+ gemma-mcp $*" >&2; "$GEMMA" --config "$CFG" "$@"; local rc=$?; echo "[gemma-mcp exit $rc]" >&2; return $rc; }
ctx() { "$PY" -c 'import json,os,sys; print(json.loads(os.environ["MCP_CONFORMANCE_CONTEXT"])[sys.argv[1]])' "$1"; }
oauth_config() {  # extra [srv.auth] lines on stdin; secrets come from the environment
  { printf '[srv]\ntransport = "http"\nurl = "%s"\n\n[srv.auth]\ntype = "oauth"\n' "$URL"; cat; } > "$CFG"
}
login_and_call() {  # a step-up refusal (exit 9) is followed, as a user would, by a new login
  run auth login srv || return $?
  run call srv test-tool && return 0
  local rc=$?; [ $rc -eq 9 ] || return $rc
  run auth login srv && run call srv test-tool
}

case "$SC" in
  auth/client-credentials-basic)
    export SECRET; SECRET="$(ctx client_secret)"
    oauth_config <<<"grant = \"client_credentials\"
client_id = \"$(ctx client_id)\"
client_secret = \"\${SECRET}\""
    run tools list srv ;;
  auth/client-credentials-jwt)
    ctx private_key_pem > "$T/key.pem"; chmod 600 "$T/key.pem"
    oauth_config <<<"grant = \"client_credentials\"
client_id = \"$(ctx client_id)\"
private_key = \"$T/key.pem\""
    run tools list srv ;;
  auth/cross-app-access-complete-flow)
    export SECRET ID_TOKEN; SECRET="$(ctx client_secret)"; ID_TOKEN="$(ctx idp_id_token)"
    oauth_config <<<"grant = \"token_exchange\"
client_id = \"$(ctx client_id)\"
client_secret = \"\${SECRET}\"
subject_token = \"\${ID_TOKEN}\"
idp_token_endpoint = \"$(ctx idp_token_endpoint)\"
idp_client_id = \"$(ctx idp_client_id)\""
    run tools list srv ;;
  auth/pre-registration)
    export SECRET; SECRET="$(ctx client_secret)"
    oauth_config <<<"client_id = \"$(ctx client_id)\"
client_secret = \"\${SECRET}\""
    login_and_call ;;
  auth/basic-cimd)
    oauth_config <<<'client_metadata_url = "https://conformance-test.local/client-metadata.json"'
    login_and_call ;;
  auth/*)
    oauth_config </dev/null
    login_and_call ;;
  *) echo "gemma_client.sh: no recipe for scenario $SC" >&2; exit 2 ;;
esac
