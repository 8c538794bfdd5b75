// Helpers for the widget's browser tests: a headless Chromium with a fake
// camera, and a simulated gateway serving web/ on 127.0.0.1.
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The simulated gateway's default launch measurement (gateway/simulated). */
export const simulatedMeasurement =
  '329c8ce0972ae52343b64d34a434a86f245dfd74f5ed7aae15d22efc78fb9683632b9b50e4e1d7fa41179ef98a7ef198';

const chromiumPath = process.env.CHROMIUM ?? '/usr/bin/chromium';

/**
 * Launches headless Chromium with a fake camera and a fresh profile.
 * videoFile: a .y4m or .mjpeg the fake camera plays instead of its test pattern.
 */
export async function launchBrowser({ videoFile } = {}) {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'cvmtrust-chromium-'));
  const args = [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-component-update', '--no-first-run', `--user-data-dir=${profile}`,
    '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
  ];
  if (videoFile) args.push(`--use-file-for-fake-video-capture=${videoFile}`);
  // playwright-core's launch adds its own --user-data-dir handling; launchPersistentContext takes ours.
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    headless: true,
    args: args.filter((a) => !a.startsWith('--user-data-dir') && a !== '--headless'),
    viewport: { width: 800, height: 900 },
  });
  return {
    context,
    async close() {
      await context.close();
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

let builtBinary;
let binDir;
/** Builds a Go main package once per test process; returns the binary path. */
export function goBinary(pkg) {
  builtBinary ??= new Map();
  if (!binDir) {
    binDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cvmtrust-bin-'));
    process.once('exit', () => fs.rmSync(binDir, { recursive: true, force: true }));
  }
  if (!builtBinary.has(pkg)) {
    const out = path.join(binDir, path.basename(pkg));
    execFileSync('go', ['build', '-o', out, pkg], { cwd: repoRoot, stdio: ['ignore', 'inherit', 'inherit'] });
    builtBinary.set(pkg, out);
  }
  return builtBinary.get(pkg);
}

/**
 * Starts a process that prints "open http://..." on stdout and resolves with
 * { url, stop, stderr }. Bounded: gives up after timeoutMs.
 */
export function startServer(bin, args, { timeoutMs = 30000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${path.basename(bin)} did not print its URL in ${timeoutMs} ms:\n${err}`));
    }, timeoutMs);
    child.stderr.on('data', (d) => { err += d; });
    child.stdout.on('data', (d) => {
      out += d;
      const m = /open (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({
          url: m[1],
          stdout: () => out,
          stderr: () => err,
          stop: () => new Promise((res) => {
            if (child.exitCode !== null) return res();
            child.once('exit', () => res());
            child.kill('SIGTERM');
          }),
        });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${path.basename(bin)} exited with ${code}:\n${err}`));
    });
  });
}

/** Starts `cvmtrust gateway --simulated` serving web/ on a free loopback port. */
export async function startSimulatedGateway(extraArgs = []) {
  const bin = goBinary('./cmd/cvmtrust');
  return startServer(bin, ['gateway', '--simulated', '--listen', '127.0.0.1:0', '--static', path.join(repoRoot, 'web'), ...extraArgs]);
}

/** Records every request a page sends to the gateway's API. */
export function recordAPI(page, base) {
  const seen = [];
  page.on('request', (req) => {
    const u = new URL(req.url());
    if (u.origin === new URL(base).origin && (u.pathname === '/enroll' || u.pathname === '/attestation')) {
      seen.push({ method: req.method(), path: u.pathname });
    }
  });
  return seen;
}

/** Waits until the element's state attribute leaves "verifying"; returns it. */
export async function settledState(page, selector = 'cvm-attest', timeout = 20000) {
  await page.waitForFunction((sel) => {
    const el = document.querySelector(sel);
    return el && el.hasAttribute('state') && el.getAttribute('state') !== 'verifying';
  }, selector, { timeout });
  return page.$eval(selector, (el) => el.getAttribute('state'));
}

/**
 * Starts test/widgetgateway: the simulated gateway plus the fake camera's
 * picture (written to a Y4M file) and GET /test/templates.
 */
export async function startWidgetGateway() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cvmtrust-camera-'));
  const y4m = path.join(dir, 'camera.y4m');
  const bin = goBinary('./test/widgetgateway');
  const server = await startServer(bin, ['--listen', '127.0.0.1:0', '--static', path.join(repoRoot, 'web'), '--camera-y4m', y4m]);
  return {
    ...server,
    y4m,
    async stop() {
      await server.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Bits that differ between two templates given as hex. */
export function templateDistance(a, b) {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  if (x.length !== y.length || x.length === 0) throw new Error('templates of different sizes');
  let n = 0;
  for (let i = 0; i < x.length; i++) {
    let v = x[i] ^ y[i];
    while (v) { n += v & 1; v >>= 1; }
  }
  return n;
}

/**
 * Wraps getUserMedia in every page of context so a test can tell whether the
 * camera was ever asked for (window.__cameraRequests).
 */
export async function countCameraRequests(context) {
  await context.addInitScript(() => {
    window.__cameraRequests = 0;
    const md = navigator.mediaDevices;
    if (!md) return;
    const original = md.getUserMedia.bind(md);
    md.getUserMedia = (...args) => {
      window.__cameraRequests++;
      return original(...args);
    };
  });
}

const contentTypes = { '.js': 'text/javascript', '.wasm': 'application/wasm', '.json': 'application/json', '.html': 'text/html', '.pem': 'application/x-pem-file' };

/**
 * Serves web/ to page at origin (e.g. http://127.0.0.1:9, a secure context
 * with no server behind it) through request interception, plus an empty page
 * at /blank.html to run the JS API in.
 */
export async function servePackage(page, origin = 'http://127.0.0.1:9') {
  await page.route(`${origin}/**`, (route) => {
    const p = new URL(route.request().url()).pathname;
    if (p === '/blank.html') return route.fulfill({ status: 200, contentType: 'text/html', body: '<!doctype html><title>cvmtrust</title>' });
    const file = path.join(repoRoot, 'web', path.normalize(p));
    if (!file.startsWith(path.join(repoRoot, 'web') + path.sep) || !fs.existsSync(file)) return route.fulfill({ status: 404, body: 'not found' });
    return route.fulfill({ status: 200, contentType: contentTypes[path.extname(file)] ?? 'application/octet-stream', body: fs.readFileSync(file) });
  });
  await page.goto(`${origin}/blank.html`);
}

/**
 * Opens a page in browser with web/ served (servePackage) and the verifier
 * loaded as window.verifier, ready for page.evaluate.
 */
export async function openVerifierPage(browser) {
  const page = await browser.context.newPage();
  await servePackage(page);
  await page.evaluate(async () => {
    const { loadVerifier } = await import('/index.js');
    window.verifier = await loadVerifier();
  });
  return page;
}

/**
 * A Result without the verifier's clock: its reading appears as verifiedAt
 * and as the "got" of a failed validity check, and two runs may straddle a
 * second.
 */
export function withoutClock(result) {
  return JSON.parse(JSON.stringify(result).replaceAll(result.verifiedAt, '<verification time>'));
}
