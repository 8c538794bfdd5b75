#!/usr/bin/env bash
# Builds the KDS proxy Worker into a directory (default kdsproxy/build):
# app.wasm (Go, GOOS=js GOARCH=wasm) and the JavaScript glue of
# github.com/syumai/workers (worker.mjs, runtime.mjs, wasm_exec.js) at the
# version go.mod pins. The output is generated; never commit it.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-$root/kdsproxy/build}"
cd "$root"
go run github.com/syumai/workers/cmd/workers-assets-gen -mode=go -o "$out"
GOOS=js GOARCH=wasm go build -trimpath -ldflags=-s -o "$out/app.wasm" ./kdsproxy/worker
# One Go program per isolate instead of one per request (see worker.mjs).
cp kdsproxy/worker/worker.mjs "$out/worker.mjs"
