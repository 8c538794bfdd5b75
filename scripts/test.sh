#!/usr/bin/env bash
# Runs every test: Go (native), the browser build, and the browser and Worker
# tests in headless Chromium, Firefox ESR, WebKitGTK and workerd.
#
# It first brings in what is missing (scripts/lib/setup.sh): the npm packages,
# the Go modules, and the Debian packages of the browsers (chromium,
# firefox-esr, webkit2gtk-driver, libwebkit2gtk-4.1-0, xvfb), which it installs
# with apt when run as root and otherwise names the command for. Go and Node
# must be there already: one missing or too old is one line, before anything
# runs.
#
# It builds the guest image (scripts/build-guest.sh build/guest: as root, with
# QEMU, mmdebstrap and bubblewrap, which it installs), which the Go tests
# check and test/guest-vm.test.mjs boots under QEMU; the first build takes
# about 10 minutes, later ones reuse build/.guest-cache. CVMTRUST_SKIP_GUEST=1
# leaves it out, and says so.
#
# The Go tests run with -short: the verifier's tamper test flips every 8th bit
# of each real report (a different eighth per report) instead of every bit.
# FULL=1 runs them without -short (several more minutes), and builds the
# guest image twice from empty caches to compare (build-guest.sh --check).
# CVMTRUST_BROWSERS=chromium,firefox,webkit (the default) picks the engines.
set -euo pipefail
cd "$(dirname "$0")/.."

short=(-short)
[[ "${FULL:-}" == 1 ]] && short=()

echo "== set-up"
source scripts/lib/setup.sh
setup_for_tests
echo "== the guest image"
if [[ "${CVMTRUST_SKIP_GUEST:-}" == 1 ]]; then
  echo "!! SKIPPED: the guest image is neither built nor booted (CVMTRUST_SKIP_GUEST=1)"
else
  [[ $(id -u) == 0 ]] || { echo "test.sh: building the guest image needs root (mmdebstrap); run as root, or CVMTRUST_SKIP_GUEST=1 ./scripts/test.sh to leave it out" >&2; exit 1; }
  setup_debian_packages qemu-system-x86_64=qemu-system-x86 mmdebstrap=mmdebstrap bwrap=bubblewrap curl=curl
  check=()
  [[ "${FULL:-}" == 1 ]] && check=(--check)
  start=$SECONDS
  ./scripts/build-guest.sh "${check[@]}" build/guest
  echo "   guest image: $((SECONDS - start)) s"
  export CVMTRUST_GUEST_IMAGE="$PWD/build/guest"
fi
echo "== go vet"
go vet ./...
echo "== browser build of the libraries the widget links"
# Every package under these that has Go files for js/wasm; the native-only
# ones (the simulated Sigstore instance, its fixture writer) are left out.
mapfile -t js_pkgs < <(GOOS=js GOARCH=wasm go list -e -f '{{if .GoFiles}}{{.ImportPath}}{{end}}' \
  ./verifier/... ./sigstore/... ./release/... ./internal/... ./protocol/... ./measure/... ./wasm/...)
GOOS=js GOARCH=wasm go vet "${js_pkgs[@]}"
GOOS=js GOARCH=wasm go build "${js_pkgs[@]}"
# The browser build's own Go tests (its call context), run by Node through
# Go's js/wasm test runner; the rest of ./wasm is tested in the browsers.
PATH="$PATH:$(go env GOROOT)/lib/wasm" GOOS=js GOARCH=wasm go test -count=1 ./wasm
echo "== go test ${short[*]}"
go test "${short[@]}" -count=1 -timeout 10m ./...
if ls test/*.test.mjs >/dev/null 2>&1; then
  echo "== build the widget"
  ./scripts/build-wasm.sh >/dev/null
  echo "== browser and Worker tests (${CVMTRUST_BROWSERS:-chromium,firefox,webkit})"
  # Each file reports how long it took; the engines' own start-up is part of it.
  failed=()
  for f in test/*.test.mjs; do
    start=$SECONDS
    node --test --test-concurrency=1 --test-reporter=dot "$f" || failed+=("$f")
    echo "   $f: $((SECONDS - start)) s"
  done
  if ((${#failed[@]})); then
    echo "FAILED: ${failed[*]}"
    exit 1
  fi
fi
