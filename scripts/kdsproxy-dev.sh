#!/usr/bin/env bash
# Runs the KDS proxy Worker locally in workerd (wrangler dev --local, pinned in
# package.json), offline and with no Cloudflare account, on 127.0.0.1.
#
#   scripts/kdsproxy-dev.sh                      # in front of a local fake KDS (testdata/kds), port 8787
#   scripts/kdsproxy-dev.sh --upstream https://kdsintf.amd.com   # in front of AMD KDS (needs network)
#   scripts/kdsproxy-dev.sh --port 9000 --origins http://127.0.0.1:8443
#
# Needs Go and `npm ci`. Stop with Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
port=8787 upstream="" origins="*" timeout_ms=3000
while [ $# -gt 0 ]; do
  case "$1" in
    --port) port="$2"; shift 2 ;;
    --upstream) upstream="$2"; shift 2 ;;
    --origins) origins="$2"; shift 2 ;;
    --timeout-ms) timeout_ms="$2"; shift 2 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "kdsproxy-dev: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
if [ ! -x node_modules/.bin/wrangler ]; then
  echo "kdsproxy-dev: node_modules/.bin/wrangler missing: run npm ci" >&2; exit 2
fi
export KDSPROXY_PORT="$port" KDSPROXY_UPSTREAM="$upstream" KDSPROXY_ORIGINS="$origins" KDSPROXY_TIMEOUT_MS="$timeout_ms"
exec node --input-type=module - <<'JS'
import { startFakeKDS, startProxy } from './test/lib/kdsproxy.mjs';

const env = process.env;
let kds = null;
let upstream = env.KDSPROXY_UPSTREAM;
if (!upstream) {
  kds = await startFakeKDS();
  upstream = kds.url;
  console.log(`fake KDS (testdata/kds) on ${kds.url}`);
}
console.log('building the Worker and starting workerd...');
const proxy = await startProxy({
  upstream,
  allowedOrigins: env.KDSPROXY_ORIGINS.split(',').filter(Boolean),
  timeoutMs: Number(env.KDSPROXY_TIMEOUT_MS),
  port: Number(env.KDSPROXY_PORT),
});
console.log(`KDS proxy on ${proxy.url} -> ${upstream}, CORS for ${env.KDSPROXY_ORIGINS}`);
console.log(`try: curl -si ${proxy.url}/vcek/v1/Milan/cert_chain`);
const stop = async () => {
  await proxy.close();
  await kds?.close();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
JS
