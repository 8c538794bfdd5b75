#!/usr/bin/env bash
# Runs every test: Go (native), the browser build, and the browser and Worker
# tests in headless Chromium and workerd. Needs Go, Node 20, `npm ci` done and
# /usr/bin/chromium.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== go vet"
go vet ./...
echo "== browser build of the libraries the widget links"
GOOS=js GOARCH=wasm go vet ./verifier/... ./sigstore/... ./internal/... ./protocol/... ./measure/... ./wasm/...
GOOS=js GOARCH=wasm go build ./verifier/... ./sigstore/... ./internal/... ./protocol/... ./measure/... ./wasm/...
# release writes statements natively only (its tests do), so it is built, not vetted, for the browser.
GOOS=js GOARCH=wasm go build ./release ./release/provenance
echo "== go test"
go test -count=1 -timeout 10m ./...
if ls test/*.test.mjs >/dev/null 2>&1; then
  echo "== build the widget"
  ./scripts/build-wasm.sh >/dev/null
  echo "== browser and Worker tests"
  node --test --test-concurrency=1 test/*.test.mjs
fi
