// Figures for the KDS proxy Worker, printed as JSON: wasm size against
// Cloudflare's free-plan limit, cold start in workerd, and loopback latency
// of cached, uncached and rejected requests. Run from the repository root:
//
//   node kdsproxy/bench.mjs            # KDSPROXY_BENCH_N=200 by default
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { buildWorker, startFakeKDS, startProxy, startWorkerd } from '../test/lib/kdsproxy.mjs';

const n = Number(process.env.KDSPROXY_BENCH_N ?? 200);
const freePlanLimit = 3 * 1024 * 1024; // compressed Worker size, free plan

const build = buildWorker();
const wasm = readFileSync(path.join(build, 'app.wasm'));
const gzip = zlib.gzipSync(wasm, { level: 9 }).length;
const glue = ['worker.mjs', 'runtime.mjs', 'wasm_exec.js'].reduce((a, f) => a + statSync(path.join(build, f)).size, 0);

const kds = await startFakeKDS();
const milanVCEK = [...kds.documents.keys()].find((p) => p.startsWith('/vcek/v1/Milan/') && p.includes('?'));
const vcekBody = kds.documents.get(milanVCEK).body;
const hwid = milanVCEK.split('/')[4].split('?')[0];
// Every Milan VCEK path is a distinct document for the proxy, so each of
// these is a cache miss that goes upstream.
kds.answer = (req, res) => {
  if (!req.url.startsWith(`/vcek/v1/Milan/${hwid}?`)) return false;
  res.writeHead(200, { 'Content-Type': 'application/pkix-cert' }).end(vcekBody);
  return true;
};

const t0 = performance.now();
const proxy = await startProxy({ upstream: kds.url, allowedOrigins: ['*'] });
const readyMs = performance.now() - t0;

async function time(p, wantStatus, wantCache, base = proxy.url) {
  const s = performance.now();
  const res = await fetch(base + p);
  await res.arrayBuffer();
  const ms = performance.now() - s;
  if (res.status !== wantStatus || (wantCache && res.headers.get('kds-proxy-cache') !== wantCache)) {
    throw new Error(`${p}: ${res.status} ${res.headers.get('kds-proxy-cache')}, want ${wantStatus} ${wantCache}`);
  }
  return ms;
}

// CPU seconds used so far by the workerd processes under wrangler (Linux
// /proc): the Worker's own CPU plus workerd's local Cache API service.
function workerdCPU(rootPid) {
  const procs = new Map();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      procs.set(Number(d), { comm: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')), ppid: Number(rest[1]),
        cpu: (Number(rest[11]) + Number(rest[12])) / 100 });
    } catch { /* gone */ }
  }
  const under = (pid) => { for (let p = pid; p > 1; p = procs.get(p)?.ppid ?? 0) if (p === rootPid) return true; return false; };
  let cpu = 0;
  for (const [pid, p] of procs) if (p.comm === 'workerd' && under(pid)) cpu += p.cpu;
  return cpu;
}

async function cpuPerRequest(fn, pid = proxy.pid) {
  const before = workerdCPU(pid);
  const xs = await fn();
  return { xs, cpu_ms_per_request: +(((workerdCPU(pid) - before) * 1000) / xs.length).toFixed(2) };
}

function stats(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const q = (f) => s[Math.min(s.length - 1, Math.ceil(f * s.length) - 1)];
  return { n: s.length, p50_ms: +q(0.5).toFixed(2), p99_ms: +q(0.99).toFixed(2), max_ms: +s[s.length - 1].toFixed(2) };
}

try {
  const loop = async (f) => { const xs = []; for (let i = 0; i < n; i++) xs.push(await f(i)); return xs; };
  const uncached = await cpuPerRequest(() => loop((i) =>
    time(`/vcek/v1/Milan/${hwid}?blSPL=${i % 256}&teeSPL=${i >> 8}&snpSPL=1&ucodeSPL=1`, 200, 'miss')));
  await time('/vcek/v1/Milan/cert_chain', 200, 'miss');
  const cached = await cpuPerRequest(() => loop(() => time('/vcek/v1/Milan/cert_chain', 200, 'hit')));
  const rejected = await cpuPerRequest(() => loop(() => time('/vcek/v1/Rome/cert_chain', 400)));
  await proxy.close();

  // The same loop against a one-line JavaScript Worker: what wrangler dev
  // and workerd cost per request before the Worker does anything.
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kdsproxy-baseline-'));
  writeFileSync(path.join(dir, 'baseline.mjs'),
    'export default { fetch: () => new Response("{}", { status: 400 }) };\n');
  const baselineWorker = await startWorkerd({ name: 'baseline', main: path.join(dir, 'baseline.mjs') });
  let baseline;
  try {
    baseline = await cpuPerRequest(() => loop(() => time('/', 400, undefined, baselineWorker.url)), baselineWorker.pid);
  } finally {
    await baselineWorker.close();
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(JSON.stringify({
    command: 'node kdsproxy/bench.mjs',
    machine: `${os.cpus().length} x ${os.cpus()[0].model}, node ${process.version}`,
    load_average_1m: +os.loadavg()[0].toFixed(1),
    wasm_bytes: wasm.length,
    wasm_gzip_bytes: gzip,
    glue_js_bytes: glue,
    free_plan_limit_gzip_bytes: freePlanLimit,
    free_plan_used: +((gzip + glue) / freePlanLimit).toFixed(3),
    cold_start: {
      wrangler_dev_ready_ms: +readyMs.toFixed(0),
      first_request_ms: +proxy.firstAnswerMs.toFixed(1),
    },
    loopback: {
      cached: { ...stats(cached.xs), workerd_cpu_ms_per_request: cached.cpu_ms_per_request },
      uncached_fake_kds: { ...stats(uncached.xs), workerd_cpu_ms_per_request: uncached.cpu_ms_per_request },
      rejected_400: { ...stats(rejected.xs), workerd_cpu_ms_per_request: rejected.cpu_ms_per_request },
      baseline_js_worker_400: { ...stats(baseline.xs), workerd_cpu_ms_per_request: baseline.cpu_ms_per_request },
    },
  }, null, 2));
} finally {
  await proxy.close();
  await kds.close();
}
