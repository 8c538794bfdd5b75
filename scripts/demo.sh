#!/usr/bin/env bash
# The demo: a SIMULATED gateway (fake AMD chain, made at start) serving the
# widget's demo page. Open the URL it prints; stop it with Ctrl-C.
#
#   ./scripts/demo.sh                          http://127.0.0.1:8443/ (redirects to /demo/)
#   ./scripts/demo.sh --listen 127.0.0.1:9000  any other gateway flag is passed on
#   ./scripts/demo.sh --vm [--listen 127.0.0.1:PORT]
#                                              the whole chain: the guest image
#
# --vm builds the guest image (scripts/build-guest.sh, as root; reused while
# the sources are unchanged), writes its release manifest and signs it with a
# SIMULATED Sigstore instance, then boots the image under QEMU without SEV
# (scripts/run-guest.sh --simulated) and serves the demo page from the
# gateway inside the VM: the page verifies the release, recomputes the launch
# digest of the image just built, and checks the VM's evidence; a capture is
# sealed to the VM's key and enrolled by the sandboxed matcher inside it. It
# also installs what the image needs (QEMU, mmdebstrap, bubblewrap).
#
# It first brings in what is missing (scripts/lib/setup.sh): the npm
# packages and the Go modules (Go and Node must be there already: one missing
# or too old is one line, before anything runs). The widget (web/dist/)
# and the gateway binary (build/demo/) are rebuilt only when their sources
# changed: a hash of the inputs is kept beside each output, so a second start
# takes seconds.
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

source scripts/lib/setup.sh
setup_for_demo

# inputs_hash FILE...: one hash of the Go version and the named files'
# contents, which is what decides whether an output is current.
go_version="$(go env GOVERSION)"
inputs_hash() {
  { echo "$go_version"; sha256sum "$@"; } | sha256sum | cut -d' ' -f1
}
# The Go files (and embedded files) a package is built from, for GOOS/GOARCH
# as set: only a change to these rebuilds it.
go_sources() {
  go list -deps -f '{{if not .Standard}}{{range .GoFiles}}{{$.Dir}}/{{.}}
{{end}}{{range .EmbedFiles}}{{$.Dir}}/{{.}}
{{end}}{{end}}' "$1" | LC_ALL=C sort
}

if [[ -x scripts/build-wasm.sh && -d wasm ]]; then
  mapfile -t webfiles < <(find web -maxdepth 2 -type f \( -name '*.js' -o -name '*.html' \) -not -path 'web/dist/*' | LC_ALL=C sort)
  mapfile -t gofiles < <(GOOS=js GOARCH=wasm go_sources ./wasm)
  want="$(inputs_hash go.mod go.sum "${gofiles[@]}" "${webfiles[@]}" scripts/build-wasm.sh scripts/build-pins.mjs scripts/build-modules.mjs scripts/pack-wasm-data.mjs package-lock.json)"
  stamp=web/dist/.inputs-sha256
  if [[ -f web/dist/build.json && -f web/dist/demo/index.html && "$(cat "$stamp" 2>/dev/null)" == "$want" ]]; then
    setup_say "widget up to date (web/dist/)"
  else
    BUILD_SIZES=0 setup_timed "building the widget (Go to WebAssembly)" \
      ./scripts/build-wasm.sh >/dev/null
    echo "$want" > "$stamp"
  fi
fi

bin=build/demo/cvmtrust
mapfile -t gofiles < <(go_sources ./cmd/cvmtrust)
want="$(inputs_hash go.mod go.sum "${gofiles[@]}")"
if [[ -x "$bin" && "$(cat "$bin.inputs-sha256" 2>/dev/null)" == "$want" ]]; then
  setup_say "gateway binary up to date ($bin)"
else
  mkdir -p "$(dirname "$bin")"
  # Built rather than `go run` so that Ctrl-C and SIGTERM reach the gateway
  # itself and it shuts down gracefully.
  setup_timed "building the gateway ($bin; minutes when Go's build cache is empty)" go build -o "$bin" ./cmd/cvmtrust
  echo "$want" > "$bin.inputs-sha256"
fi

if [[ "${1:-}" == --vm ]]; then
  shift
  listen=127.0.0.1:8443
  while (($#)); do
    case "$1" in
      --listen) listen="${2:?--listen needs an address}"; shift ;;
      *) setup_say "--vm takes only --listen, not $1"; exit 2 ;;
    esac
    shift
  done
  setup_debian_packages qemu-system-x86_64=qemu-system-x86 mmdebstrap=mmdebstrap bwrap=bubblewrap curl=curl
  image=build/guest release=build/guest-demo
  # The image is rebuilt when any file of the tree changed (its build reads
  # the whole tree, as git sees it).
  want="$(git ls-files -z --cached --others --exclude-standard | xargs -0 sha256sum 2>/dev/null | sha256sum | cut -d' ' -f1)"
  if [[ -f "$image/initrd.img" && "$(cat "$image/.source-sha256" 2>/dev/null)" == "$want" ]]; then
    setup_say "guest image up to date ($image)"
  else
    setup_timed "building the guest image ($image; about 10 minutes the first time, see docs/guest-image.md)" \
      scripts/build-guest.sh "$image"
    echo "$want" > "$image/.source-sha256"
  fi
  # shellcheck source=../guest/launch.env
  source guest/launch.env
  mkdir -p "$release"
  "$bin" measure --ovmf "$image/OVMF.fd" --kernel "$image/vmlinuz" --initrd "$image/initrd.img" \
    --append "$(cat "$image/cmdline")" --vcpus "$VCPUS" --vcpu-type "$VCPU_TYPE" --guest-features "$GUEST_FEATURES" \
    --release cvmtrust-demo-vm --source-commit "$(git rev-parse HEAD)" --write-manifest "$release/release.json" > /dev/null
  "$bin" release sign-simulated --manifest "$release/release.json" \
    --bundle "$release/release.sigstore.json" --trusted-root "$release/sigstore-trusted-root.json" >&2
  setup_say "booting the image SIMULATED (QEMU without SEV); the page will be at http://$listen/demo/ once the guest's gateway is up"
  CVMTRUST_BIN="$bin" exec scripts/run-guest.sh "$image" --simulated --listen "$listen" \
    --release-bundle "$release/release.sigstore.json" --sigstore-root "$release/sigstore-trusted-root.json"
fi

tmp="$(mktemp -d "${TMPDIR:-/tmp}/cvmtrust-demo.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
args=(gateway --simulated --listen 127.0.0.1:8443 --sim-chain "$tmp/chain.pem" --sim-ark "$tmp/ark.pem")
# The demo release, signed at start by a SIMULATED Sigstore instance: the page
# pins its signer and fetches the bundle and that instance's root from the gateway.
[[ -f web/demo/release.json ]] && args+=(--sim-release-manifest web/demo/release.json)
if [[ -d web ]]; then
  args+=(--static web)
else
  setup_say "no web/ directory yet: serving the API only"
fi
setup_say "fake chain and root in $tmp (removed on exit); making the fake AMD keys…"
"$bin" "${args[@]}" "$@" &
pid=$!
# Pass Ctrl-C or SIGTERM on to the gateway, then wait for its graceful exit.
trap 'kill -TERM "$pid" 2>/dev/null || true' INT TERM
status=0
wait "$pid" || status=$?
if kill -0 "$pid" 2>/dev/null; then wait "$pid" || status=$?; fi
exit "$status"
