#!/usr/bin/env bash
# Builds the browser verifier reproducibly into web/dist/ (or $OUT_DIR):
#   cvmtrust.wasm  the js/wasm build of ./wasm (verification, launch digest),
#                  its data segments packed by pack-wasm-data.mjs
#   wasm_exec.js   Go's loader for it, from the same toolchain
#   *.js           the widget's modules minified (build-modules.mjs); what the
#                  import map names and a page loads
#   hpke.js        HPKE for sealing in the page: hpke-js bundled from the
#                  versions in package-lock.json (web/src/hpke.js; needs
#                  `npm ci` first)
#   build.json     Go version, flags, and for each shipped file its size raw,
#                  gzip and brotli and its SHA-384 Subresource Integrity hash
#                  (BUILD_SIZES=0 leaves out the slow compressed sizes)
#   integrity.js, importmap.json, demo/index.html: the pins, see build-pins.mjs
# Two builds from the same source and toolchain give the same bytes
# (test/widget-build.test.mjs checks it). Prints build.json.
set -euo pipefail
cd "$(dirname "$0")/.."

out="${OUT_DIR:-web/dist}"
mkdir -p "$out"

# Fixed flags: no paths, VCS stamps or build ids in the binary; the wasm
# features every current browser has.
export GOOS=js GOARCH=wasm CGO_ENABLED=0 GOWASM=satconv,signext
export GOFLAGS=-buildvcs=false
ldflags="-s -w -buildid="
# No inlining (all=-l): the wasm is 108 KB brotli smaller, and Chromium,
# which compiles each function on its first call, gets to the first verdict
# sooner (smaller functions, less compiled for code never run); warm
# verification stays within its budget (web/README.md, Build). GCFLAGS
# replaces it, e.g. GCFLAGS= for the compiler's default, to measure another
# build; build.json records what was used.
gcflags="${GCFLAGS-all=-l}"
# REBUILD_ALL=1 rebuilds every package instead of reusing the build cache
# (the reproducibility test's second build).
rebuild=()
[[ "${REBUILD_ALL:-}" == 1 ]] && rebuild=(-a)
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
go build "${rebuild[@]}" -trimpath -ldflags="$ldflags" ${gcflags:+"-gcflags=$gcflags"} -o "$tmp/cvmtrust.wasm" ./wasm
# The same module with its initial memory written as a few data segments
# instead of ~47,000: 56 KB less brotli, the memory image identical (the
# script checks it; see its header).
node scripts/pack-wasm-data.mjs "$tmp/cvmtrust.wasm" "$out/cvmtrust.wasm" 2>/dev/null
cp "$(go env GOROOT)/lib/wasm/wasm_exec.js" "$out/wasm_exec.js"

# HPKE: one minified ES module, no source map, no paths, legal comments kept.
esbuild=node_modules/.bin/esbuild
if [[ ! -x "$esbuild" ]]; then
  echo "build-wasm.sh: $esbuild is missing; run npm ci first" >&2
  exit 1
fi
"$esbuild" web/src/hpke.js --bundle --format=esm --platform=browser --target=es2022 \
  --minify --legal-comments=eof --charset=utf8 --log-level=warning --outfile="$out/hpke.js"
# The widget's modules, minified into dist/ beside the wasm (web/*.js stay the
# source), and Go's loader minified in place: see the script.
node scripts/build-modules.mjs "$out"
# integrity.js (the wasm's SRI, used by the loader), importmap.json (every
# module with its integrity) and the pinned demo page: see the script.
node scripts/build-pins.mjs "$out"

go_version="$(go env GOVERSION)"
node - "$out" "$go_version" "$ldflags" "$gcflags" <<'JS'
const fs = require('node:fs');
const path = require('node:path');
const { createHash } = require('node:crypto');
const { compress, writeCompressedCopies } = require('./scripts/compress.cjs');
{
  const [out, goVersion, ldflags, gcflags] = process.argv.slice(2);
  // The wasm, its loader and the widget's modules: everything a page loads.
  const files = [
    [path.join(out, 'cvmtrust.wasm'), 'dist/cvmtrust.wasm'],
    [path.join(out, 'wasm_exec.js'), 'dist/wasm_exec.js'],
    [path.join(out, 'integrity.js'), 'dist/integrity.js'],
    [path.join(out, 'hpke.js'), 'dist/hpke.js'],
    ...fs.readdirSync('web').filter((f) => f.endsWith('.js')).sort().map((f) => [path.join('web', f), f]),
    ...fs.readdirSync('web').filter((f) => f.endsWith('.js')).sort().map((f) => [path.join(out, f), `dist/${f}`]),
  ];
  const report = {
    go: goVersion,
    goos: 'js', goarch: 'wasm', gowasm: 'satconv,signext',
    flags: `-trimpath -ldflags="${ldflags}"${gcflags ? ` -gcflags="${gcflags}"` : ''} GOFLAGS=-buildvcs=false CGO_ENABLED=0`,
    gcflags,
    post: 'node scripts/pack-wasm-data.mjs (data segments joined across gaps of up to 256 zero bytes)',
    files: {},
  };
  const sizes = process.env.BUILD_SIZES !== '0';
  for (const [file, name] of files) {
    const b = fs.readFileSync(file);
    const integrity = 'sha384-' + createHash('sha384').update(b).digest('base64');
    // What a page loads (dist/) is also written compressed beside itself,
    // name.gz and name.br, which the gateway sends to a browser that accepts
    // them (gateway/static.go; scripts/compress.cjs). Without sizes there are
    // no such copies: any left from an earlier build are removed, so none is
    // stale.
    const inDist = name.startsWith('dist/');
    if (!sizes) {
      if (inDist) for (const c of [`${file}.gz`, `${file}.br`]) fs.rmSync(c, { force: true });
      report.files[name] = { bytes: b.length, integrity };
      continue;
    }
    const { gzip: gz, brotli: br } = inDist ? writeCompressedCopies(file, b) : compress(b);
    report.files[name] = { bytes: b.length, gzip: gz.length, brotli: br.length, integrity };
  }
  const text = JSON.stringify(report, null, 2) + '\n';
  fs.writeFileSync(path.join(out, 'build.json'), text);
  process.stdout.write(text);
}
JS
