#!/usr/bin/env bash
# The demo: a SIMULATED gateway (fake AMD chain, made at start) serving the
# widget's demo page. Open the URL it prints; stop it with Ctrl-C.
#
#   ./scripts/demo.sh                          http://127.0.0.1:8443/demo/
#   ./scripts/demo.sh --listen 127.0.0.1:9000  any other gateway flag is passed on
#
# The fake chain and root are written to a temporary directory (printed), so
# `cvmtrust verify --chain DIR/chain.pem --simulated-root DIR/ark.pem` can
# check what the gateway serves; the page gets the same root from
# /simulated/ark.pem. The demo release is signed by a simulated Sigstore
# instance made at start (bundle at /release/bundle.sigstore.json, root at
# /simulated/sigstore-trusted-root.json). Nothing here proves anything about
# real hardware or a published release.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ -x scripts/build-wasm.sh && -d wasm ]]; then
  echo "demo: building the widget (scripts/build-wasm.sh)" >&2
  ./scripts/build-wasm.sh >/dev/null
fi

tmp="$(mktemp -d "${TMPDIR:-/tmp}/cvmtrust-demo.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
# Built rather than `go run` so that Ctrl-C and SIGTERM reach the gateway
# itself and it shuts down gracefully.
go build -o "$tmp/cvmtrust" ./cmd/cvmtrust

args=(gateway --simulated --listen 127.0.0.1:8443 --sim-chain "$tmp/chain.pem" --sim-ark "$tmp/ark.pem")
# The demo release, signed at start by a SIMULATED Sigstore instance: the page
# pins its signer and fetches the bundle and that instance's root from the gateway.
[[ -f web/demo/release.json ]] && args+=(--sim-release-manifest web/demo/release.json)
page=""
if [[ -d web ]]; then
  args+=(--static web)
  [[ -f web/demo/index.html ]] && page="demo/"
else
  echo "demo: no web/ directory yet: serving the API only" >&2
fi
echo "demo: fake chain and root in $tmp (removed on exit)" >&2
# The gateway prints "open <its URL>"; point that at the demo page.
"$tmp/cvmtrust" "${args[@]}" "$@" > >(sed -u "s#^open \(.*\)\$#open \1$page#") &
pid=$!
# Pass Ctrl-C or SIGTERM on to the gateway, then wait for its graceful exit.
trap 'kill -TERM "$pid" 2>/dev/null || true' INT TERM
status=0
wait "$pid" || status=$?
if kill -0 "$pid" 2>/dev/null; then wait "$pid" || status=$?; fi
exit "$status"
