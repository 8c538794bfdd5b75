// Helpers for the widget's browser tests: a headless Chromium with a fake
// camera, and a simulated gateway serving web/ on 127.0.0.1.
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { recordShadowRoots } from './testsite.mjs';

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
  // The element's shadow root is closed: every page records roots as they are attached (window.__test.root).
  await context.addInitScript(recordShadowRoots);
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
 * picture (written to a Y4M file) and GET /test/templates. It runs the
 * release releaseManifest describes (default: the demo's), on a platform
 * whose firmware meets the bulletins' floor unless oldFirmware.
 */
export async function startWidgetGateway({ releaseManifest, oldFirmware = false } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cvmtrust-camera-'));
  const y4m = path.join(dir, 'camera.y4m');
  const bin = goBinary('./test/widgetgateway');
  const server = await startServer(bin, ['--listen', '127.0.0.1:0', '--static', path.join(repoRoot, 'web'), '--camera-y4m', y4m,
    ...(releaseManifest ? ['--release-manifest', releaseManifest] : []), ...(oldFirmware ? ['--old-firmware'] : [])]);
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

// ---------------------------------------------------------------------------
// The same tests in Chromium, Firefox ESR and WebKitGTK.
//
// CVMTRUST_BROWSERS=chromium,firefox,webkit (the default) picks the engines.
// Chromium and Firefox are driven by puppeteer-core (CDP and WebDriver BiDi),
// WebKitGTK's MiniBrowser by WebKitWebDriver (W3C WebDriver) under Xvfb. A
// page offers only what all three can do: goto, evaluate (async functions
// too), waitFor, press (keyboard), screenshot, close. Anything a test needs
// to change on the wire goes through a test site (test/lib/testsite.mjs),
// not through browser-specific request interception. The element's shadow
// root is closed: Chromium and Firefox pages record shadow roots as they are
// attached (window.__test.root), as launchBrowser's do; WebKitGTK's
// WebDriver has no script to run before a page's own, so there a page reads
// the element only when it comes through a test site, whose instrument
// script records them.

/** Engines named in CVMTRUST_BROWSERS; all three when unset. */
export function selectedEngines() {
  const names = (process.env.CVMTRUST_BROWSERS ?? 'chromium,firefox,webkit').split(',').map((s) => s.trim()).filter(Boolean);
  for (const n of names) if (!['chromium', 'firefox', 'webkit'].includes(n)) throw new Error(`CVMTRUST_BROWSERS: unknown engine ${n}`);
  return names;
}

const firefoxPath = process.env.FIREFOX ?? '/usr/bin/firefox-esr';
const webkitDriverPath = process.env.WEBKIT_WEBDRIVER ?? '/usr/bin/WebKitWebDriver';
const miniBrowserPath = process.env.WEBKIT_MINIBROWSER ?? '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser';

/**
 * Launches engine (chromium | firefox | webkit) headless with a fake camera
 * and a fresh profile (chromiumArgs: more Chromium flags). Resolves with
 * { name, newPage({ width, height }), close() }.
 */
export async function launchEngine(name, { videoFile, chromiumArgs = [] } = {}) {
  if (name === 'webkit') return launchWebKit();
  const { default: puppeteer } = await import('puppeteer-core');
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), `cvmtrust-${name}-`));
  const browser = name === 'firefox'
    ? await puppeteer.launch({
      browser: 'firefox',
      executablePath: firefoxPath,
      headless: true,
      userDataDir: profile,
      extraPrefsFirefox: {
        'media.navigator.streams.fake': true,
        'media.navigator.permission.disabled': true,
      },
    })
    : await puppeteer.launch({
      browser: 'chrome',
      executablePath: chromiumPath,
      headless: true,
      userDataDir: profile,
      args: [
        '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run',
        '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
        ...(videoFile ? [`--use-file-for-fake-video-capture=${videoFile}`] : []),
        ...chromiumArgs,
      ],
    });
  return {
    name,
    async newPage({ width = 800, height = 900 } = {}) {
      const page = await browser.newPage();
      await page.evaluateOnNewDocument(recordShadowRoots);
      await page.setViewport({ width, height });
      const errors = [];
      page.on('pageerror', (e) => errors.push(e));
      return {
        errors,
        async goto(url) { await page.goto(url, { waitUntil: 'load' }); },
        evaluate: (fn, ...args) => page.evaluate(fn, ...args),
        waitFor: (fn, arg, { timeout = 20000 } = {}) => waitFor((a) => page.evaluate(fn, a), arg, timeout, fn),
        async press(key) { await page.keyboard.press(key); },
        async screenshot(file) { await page.screenshot({ path: file }); },
        close: () => page.close(),
      };
    },
    async close() {
      await browser.close();
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Polls probe(arg) until it resolves truthy; bounded by timeout. */
async function waitFor(probe, arg, timeout, what) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const v = await probe(arg);
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms waiting for ${String(what).slice(0, 200)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

const webdriverKeys = { Tab: '\uE004', Enter: '\uE007', Space: ' ', Escape: '\uE00C', Shift: '\uE008' };

async function launchWebKit() {
  const port = await freePort();
  // xvfb-run -a finds a free display; it runs the driver in its own process group.
  const driver = spawn('xvfb-run', ['-a', webkitDriverPath, `--port=${port}`, '--host=127.0.0.1'], { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  let stderr = '';
  driver.stderr.on('data', (d) => { stderr += d; });
  const base = `http://127.0.0.1:${port}`;
  const call = async (method, p, body) => {
    const res = await fetch(base + p, { method, headers: { 'Content-Type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    const json = await res.json();
    if (!res.ok) throw new Error(`WebDriver ${method} ${p}: ${json.value?.error}: ${json.value?.message}`);
    return json.value;
  };
  const kill = () => { try { process.kill(-driver.pid, 'SIGTERM'); } catch { /* gone */ } };
  const deadline = Date.now() + 20000;
  for (;;) {
    try {
      if ((await call('GET', '/status')).ready) break;
    } catch { /* not listening yet */ }
    if (driver.exitCode !== null || Date.now() > deadline) {
      kill();
      throw new Error(`WebKitWebDriver did not start:\n${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const session = await call('POST', '/session', {
    capabilities: {
      alwaysMatch: {
        'webkitgtk:browserOptions': {
          binary: miniBrowserPath,
          args: ['--automation', '--enable-media-stream=true', '--enable-mock-capture-devices=true'],
        },
      },
    },
  });
  const s = `/session/${session.sessionId}`;
  await call('POST', `${s}/timeouts`, { script: 60000, pageLoad: 30000 });
  const evaluate = async (fn, ...args) => {
    // The function's source runs in the page; its (awaited) value comes back as JSON.
    const script = `const done = arguments[arguments.length - 1];
      Promise.resolve().then(() => (${fn}).apply(null, Array.prototype.slice.call(arguments, 0, -1)))
        .then((v) => done({ value: v === undefined ? null : JSON.parse(JSON.stringify(v)) }),
              (e) => done({ error: String(e && e.stack ? e.message + '\\n' + e.stack : e) }));`;
    const out = await call('POST', `${s}/execute/async`, { script, args });
    if (out?.error) throw new Error(`in WebKit: ${out.error}`);
    return out?.value;
  };
  let open = false;
  return {
    name: 'webkit',
    async newPage({ width = 800, height = 900 } = {}) {
      // One window: a new page replaces the last one (tests use one page at a time).
      if (open) await call('POST', `${s}/url`, { url: 'about:blank' });
      open = true;
      await call('POST', `${s}/window/rect`, { width, height }).catch(() => {});
      return {
        errors: [],
        async goto(url) { await call('POST', `${s}/url`, { url }); },
        evaluate,
        waitFor: (fn, arg, { timeout = 20000 } = {}) => waitFor((a) => evaluate(fn, a), arg, timeout, fn),
        async press(key) {
          const k = webdriverKeys[key] ?? key;
          await call('POST', `${s}/actions`, { actions: [{ type: 'key', id: 'keyboard', actions: [{ type: 'keyDown', value: k }, { type: 'keyUp', value: k }] }] });
          await call('DELETE', `${s}/actions`);
        },
        async screenshot(file) { fs.writeFileSync(file, Buffer.from(await call('GET', `${s}/screenshot`), 'base64')); },
        async close() {
          open = false;
          await call('POST', `${s}/url`, { url: 'about:blank' });
        },
      };
    },
    async close() {
      await call('DELETE', s).catch(() => {});
      kill();
    },
  };
}

/**
 * What a <cvm-attest> shows, read from its shadow root: state, words, the
 * summary rows, the camera and what its button says, events and camera
 * requests recorded by the test site's instrument script.
 */
export function readWidget(page, selector = 'cvm-attest') {
  return page.evaluate((sel) => {
    const el = document.querySelector(sel);
    const q = (p) => window.__test.root(el).querySelector(`.${p}`);
    return {
      state: el.getAttribute('state'),
      label: q('badge-label').textContent,
      toggle: q('badge-toggle').textContent,
      expanded: q('badge').getAttribute('aria-expanded'),
      message: q('message').textContent,
      warning: q('warning').hidden ? null : q('warning').textContent,
      summary: Object.fromEntries([...window.__test.root(el).querySelectorAll('.summary li')].map((li) => [li.dataset.topic, li.querySelector('.summary-outcome').dataset.outcome])),
      summaryText: q('summary').hidden ? '' : q('summary').textContent,
      cameraHidden: q('camera').hidden,
      capture: { text: q('capture').textContent, disabled: q('capture').disabled, note: q('capture-note').textContent },
      live: q('preview').srcObject !== null,
      retryHidden: q('retry').hidden,
      detailsHidden: q('details').hidden,
      facts: q('facts').textContent,
      receipt: q('receipt').textContent,
      failed: el.result ? el.result.checks.filter((c) => c.outcome === 'fail').map((c) => c.name) : null,
      // null unless the test site's instrument script records them (a page recording shadow roots only has no events).
      events: window.__test?.events?.map((e) => e.type) ?? null,
      // null unless the test site's instrument script counts them (a 0 from an unhooked page means nothing).
      cameraRequests: window.__test?.cameraHooked ? window.__test.cameraRequests : null,
      csp: window.__test?.csp ?? null,
      errors: window.__test?.errors ?? null,
    };
  }, selector);
}

/** Waits until the element's state leaves "verifying"; returns it. */
export function settled(page, selector = 'cvm-attest', timeout = 30000) {
  return page.waitFor((sel) => {
    const s = document.querySelector(sel)?.getAttribute('state');
    return s && s !== 'verifying' ? s : null;
  }, selector, { timeout });
}

/** Clicks a part of the element's shadow root (a script click: no pointer needed). */
export function clickPart(page, part, selector = 'cvm-attest') {
  return page.evaluate(([sel, p]) => { window.__test.root(document.querySelector(sel)).querySelector(`.${p}`).click(); }, [selector, part]);
}
