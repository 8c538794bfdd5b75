// Starts the KDS proxy Worker in workerd (through the pinned wrangler) in
// front of a local fake AMD KDS, both on 127.0.0.1, with no network and no
// Cloudflare account. Used by test/kdsproxy*.test.mjs, the benchmark and
// scripts/kdsproxy-dev.sh; other browser tests can import it too:
//
//   const kds = await startFakeKDS();
//   const proxy = await startProxy({ upstream: kds.url, allowedOrigins: ['http://127.0.0.1:8443'] });
//   ... fetch(`${proxy.url}/vcek/v1/Milan/cert_chain`) ...
//   await proxy.close(); await kds.close();

import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const kdsDir = path.join(root, 'testdata', 'kds');
const wranglerBin = path.join(root, 'node_modules', 'wrangler', 'bin', 'wrangler.js');

/**
 * The fake KDS documents: KDS path (with canonical query) -> {body, type, source}.
 * The certificates are real (testdata/kds/README.md); the CRLs are synthetic.
 */
export function kdsDocuments() {
  const index = JSON.parse(readFileSync(path.join(kdsDir, 'index.json'), 'utf8'));
  const docs = new Map();
  for (const [p, d] of Object.entries(index)) {
    docs.set(p, { body: readFileSync(path.join(kdsDir, d.file)), type: d.content_type, source: d.source });
  }
  return docs;
}

/**
 * A local fake of AMD KDS on 127.0.0.1: serves kdsDocuments() by exact path
 * and query, 404 otherwise, and counts requests by path.
 *
 * `fake.answer = (req, res) => boolean` replaces the normal answer while set
 * (return true when it answered). Helpers: fake.failWith(status, retryAfter),
 * fake.hang(match?) (never answer requests whose URL matches),
 * fake.serveInstead(path, otherPath) (e.g. a VCEK of another chip),
 * fake.reset().
 *
 * The CRLs of testdata/kds are synthetic, not signed by AMD: a verifier
 * rejects them. For a verification that should pass, start with
 * { crls: false }: KDS then has no CRL (404) and the verifier reports
 * revocation as not checked.
 */
export async function startFakeKDS({ documents = kdsDocuments(), crls = true } = {}) {
  if (!crls) documents = new Map([...documents].filter(([p]) => !p.endsWith('/crl')));
  const hits = new Map();
  const hanging = new Set();
  const fake = {
    documents,
    answer: null,
    hits: (p) => hits.get(p) ?? 0,
    totalHits: () => [...hits.values()].reduce((a, b) => a + b, 0),
    failWith(status, retryAfter) {
      fake.answer = (req, res) => {
        res.writeHead(status, retryAfter === undefined ? {} : { 'Retry-After': String(retryAfter) });
        res.end(`fake KDS: ${status}\n`);
        return true;
      };
    },
    hang(match = () => true) {
      fake.answer = (req, res) => {
        if (!match(req.url)) return false;
        hanging.add(res);
        res.on('close', () => hanging.delete(res));
        return true;
      };
    },
    serveInstead(p, other) {
      const doc = documents.get(other);
      if (!doc) throw new Error(`no fake KDS document ${other}`);
      fake.answer = (req, res) => {
        if (req.url !== p) return false;
        res.writeHead(200, { 'Content-Type': doc.type });
        res.end(doc.body);
        return true;
      };
    },
    reset() {
      fake.answer = null;
      hits.clear();
      for (const res of hanging) res.destroy();
    },
  };
  const server = http.createServer((req, res) => {
    hits.set(req.url, (hits.get(req.url) ?? 0) + 1);
    if (req.method !== 'GET') {
      res.writeHead(405).end();
      return;
    }
    if (fake.answer && fake.answer(req, res)) return;
    const doc = documents.get(req.url);
    if (!doc) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('Not Found\n');
      return;
    }
    res.writeHead(200, { 'Content-Type': doc.type, 'Content-Length': doc.body.length });
    res.end(doc.body);
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  fake.url = `http://127.0.0.1:${server.address().port}`;
  fake.close = async () => {
    for (const res of hanging) res.destroy();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  };
  return fake;
}

let built;

/**
 * Builds the Worker (kdsproxy/build.sh) once per process into a temporary
 * directory and returns that directory.
 */
export function buildWorker() {
  if (built) return built;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kdsproxy-build-'));
  const r = spawnSync(path.join(root, 'kdsproxy', 'build.sh'), [dir], { cwd: root, encoding: 'utf8' });
  if (r.status !== 0) {
    throw new Error(`kdsproxy/build.sh failed (${r.status ?? r.signal}):\n${r.stdout}${r.stderr}`);
  }
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  built = dir;
  return dir;
}

async function freePort() {
  const s = net.createServer();
  await new Promise((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address();
  await new Promise((resolve) => s.close(resolve));
  return port;
}

function compatibilityDate() {
  const cfg = readFileSync(path.join(root, 'kdsproxy', 'wrangler.jsonc'), 'utf8');
  const m = cfg.match(/"compatibility_date":\s*"(\d{4}-\d{2}-\d{2})"/);
  if (!m) throw new Error('kdsproxy/wrangler.jsonc has no compatibility_date');
  return m[1];
}

/** The environment that keeps wrangler offline and out of the user's config. */
export function offlineEnv(stateDir) {
  return {
    ...process.env,
    WRANGLER_SEND_METRICS: 'false',
    CLOUDFLARE_CF_FETCH_ENABLED: 'false',
    XDG_CONFIG_HOME: path.join(stateDir, 'config'),
    WRANGLER_LOG_PATH: path.join(stateDir, 'logs'),
    WRANGLER_CACHE_DIR: path.join(stateDir, 'cache'),
    MINIFLARE_CACHE_DIR: path.join(stateDir, 'cache'),
    CI: '1',
  };
}

/**
 * Starts the Worker in workerd with `wrangler dev --local` on 127.0.0.1 and
 * a free port, configured by its vars (UPSTREAM, ALLOWED_ORIGINS,
 * UPSTREAM_TIMEOUT_MS), with its state (Cache API) in a fresh temporary
 * directory. Resolves when it answers HTTP; close() stops it.
 */
export async function startProxy({ upstream, allowedOrigins = [], timeoutMs = 800, port, readyTimeoutMs = 60000 } = {}) {
  if (!upstream) throw new Error('startProxy: upstream is required (e.g. startFakeKDS().url)');
  const build = buildWorker();
  return startWorkerd({
    name: 'cvmtrust-kdsproxy-dev',
    main: path.join(build, 'worker.mjs'),
    vars: { UPSTREAM: upstream, ALLOWED_ORIGINS: allowedOrigins.join(','), UPSTREAM_TIMEOUT_MS: String(timeoutMs) },
    port,
    readyTimeoutMs,
  });
}

/**
 * Runs the Worker module `main` under `wrangler dev --local` as startProxy
 * does. The Worker must answer GET / with 400: that is how readiness is told
 * from wrangler's own answers.
 */
export async function startWorkerd({ name, main, vars = {}, port, readyTimeoutMs = 60000 }) {
  const state = mkdtempSync(path.join(os.tmpdir(), 'kdsproxy-dev-'));
  mkdirSync(path.join(state, 'config'));
  const config = path.join(state, 'wrangler.jsonc');
  writeFileSync(config, JSON.stringify({ name, main, compatibility_date: compatibilityDate(), vars }, null, 2));
  port ??= await freePort();
  const inspector = await freePort();
  const child = spawn(process.execPath, [wranglerBin, 'dev', '--local', '--config', config,
    '--ip', '127.0.0.1', '--port', String(port), '--inspector-port', String(inspector),
    '--persist-to', path.join(state, 'persist'), '--show-interactive-dev-session=false', '--log-level', 'warn'], {
    cwd: state, env: offlineEnv(state), stdio: ['ignore', 'pipe', 'pipe'], detached: true,
  });
  let output = '';
  child.stdout.on('data', (d) => { output += d; });
  child.stderr.on('data', (d) => { output += d; });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  // If this process ends without close(), take wrangler and workerd along.
  const killOnExit = () => { try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ } };
  process.on('exit', killOnExit);
  let stopped = false;
  const close = async () => {
    if (stopped) return;
    stopped = true;
    process.off('exit', killOnExit);
    try { process.kill(-child.pid, 'SIGTERM'); } catch { /* already gone */ }
    const timer = setTimeout(() => { try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ } }, 5000);
    await exited;
    clearTimeout(timer);
    rmSync(state, { recursive: true, force: true });
  };
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + readyTimeoutMs;
  let gone = null;
  exited.then((e) => { gone = e; });
  let firstAnswerMs;
  for (;;) {
    if (gone) {
      await close();
      throw new Error(`wrangler dev exited (${gone.code ?? gone.signal}) before answering:\n${output}`);
    }
    try {
      // The Worker's own answer means it runs: "/" is not a KDS path (400).
      const t0 = performance.now();
      const res = await fetch(`${url}/`, { signal: AbortSignal.timeout(5000) });
      await res.arrayBuffer();
      if (res.status === 400) {
        firstAnswerMs = performance.now() - t0;
        break;
      }
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) {
      await close();
      throw new Error(`wrangler dev did not answer within ${readyTimeoutMs} ms:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  // firstAnswerMs: the first request the Worker answered, a cold start.
  return { url, close, firstAnswerMs, pid: child.pid, output: () => output };
}
