// The widget in headless Chromium in front of the real KDS proxy: the Worker
// (kdsproxy/) in workerd, in front of a fake AMD KDS serving testdata/kds.
// Real reports of testdata/snp-reports are served as evidence without their
// certificates, so the page must fetch the VCEK through the proxy:
//
//   - it verifies, the fake KDS is asked once, the second verification is a
//     hit in the Worker's cache, and only the configured origin may read it;
//   - a proxy that serves a genuine VCEK of another chip is caught, by the JS
//     API and by <cvm-attest> (failed, capture disabled, camera never asked);
//   - with the proxy down, evidence without certificates fails fast with a
//     clear reason, and evidence with certificates still verifies, with
//     revocation reported as not checked.
//
// The reports are verified at the present time (the wasm verifier takes no
// clock); their VCEKs are valid 2025..2032. The fake KDS serves no CRL here
// (its CRLs are synthetic, see test/widget-reports.test.mjs for that case),
// so revocation is "not checked" throughout.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { launchBrowser, repoRoot, settledState, countCameraRequests, withoutClock } from './lib/browser.mjs';
import { startFakeKDS, startProxy } from './lib/kdsproxy.mjs';

// The pages come from a real server on loopback, like the proxy: Chromium
// lets a page fetch from the loopback address space only if it was loaded
// from there (or was granted the permission), as a public page may fetch a
// public proxy. The server is reached under two origins, both secure
// contexts; the proxy allows only the first.
let origin;      // http://127.0.0.1:port
let otherOrigin; // http://localhost:port
let site;

const reportsDir = path.join(repoRoot, 'testdata/snp-reports');
const kdsIndex = JSON.parse(fs.readFileSync(path.join(repoRoot, 'testdata/kds/index.json'), 'utf8'));

let kds;
let proxy;
let browser;

const contentTypes = { '.js': 'text/javascript', '.wasm': 'application/wasm', '.json': 'application/json' };

/** Serves web/ on 127.0.0.1, plus an empty page at /blank.html. */
async function startSite() {
  const webDir = path.join(repoRoot, 'web');
  const server = http.createServer((req, res) => {
    const p = new URL(req.url, 'http://x').pathname;
    if (p === '/blank.html') {
      res.writeHead(200, { 'Content-Type': 'text/html' }).end('<!doctype html><title>cvmtrust</title>');
      return;
    }
    const file = path.join(webDir, path.normalize(p));
    if (!file.startsWith(webDir + path.sep) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'Content-Type': contentTypes[path.extname(file)] ?? 'application/octet-stream' }).end(fs.readFileSync(file));
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address();
  return {
    port,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

before(async () => {
  site = await startSite();
  origin = `http://127.0.0.1:${site.port}`;
  otherOrigin = `http://localhost:${site.port}`;
  kds = await startFakeKDS({ crls: false });
  proxy = await startProxy({ upstream: kds.url, allowedOrigins: [origin] });
  browser = await launchBrowser();
  await countCameraRequests(browser.context);
});

after(async () => {
  await browser?.close();
  await proxy?.close();
  await kds?.close();
  await site?.close();
});

/** A case of testdata/snp-reports with the KDS path of its VCEK (from testdata/kds, not from the verifier). */
function load(name) {
  const dir = path.join(reportsDir, name);
  const c = JSON.parse(fs.readFileSync(path.join(dir, 'case.json'), 'utf8'));
  const vcekPath = Object.keys(kdsIndex).find((p) => kdsIndex[p].file === `vcek/${c.product}/${name}.der`);
  assert.ok(vcekPath, `testdata/kds has the VCEK of ${name}`);
  return { name, dir, c, vcekPath };
}

/** Protocol v1 evidence of a real report, with or without its VCEK and chain. */
function evidenceOf({ dir }, { certs = false } = {}) {
  return {
    version: 1,
    report: fs.readFileSync(path.join(dir, 'report.bin')).toString('base64'),
    certs: certs
      ? { vcek: fs.readFileSync(path.join(dir, 'vcek.der')).toString('base64'), chain: fs.readFileSync(path.join(dir, 'chain.pem'), 'utf8') }
      : {},
    // Real reports bind their own REPORT_DATA, not protocol v1's: the key is unused.
    hpke: { kem: 'MLKEM768-X25519', kdf: 'HKDF-SHA256', aead: 'AES-256-GCM', public_key: '' },
  };
}

/** Whether two KDS paths name one document: same path, same parameters in any order. */
function sameDocument(a, b) {
  const [x, y] = [new URL(a, 'http://kds'), new URL(b, 'http://kds')];
  const params = (u) => JSON.stringify([...u.searchParams].sort(([k1], [k2]) => k1.localeCompare(k2)));
  return x.pathname === y.pathname && params(x) === params(y);
}

const failedChecks = (res) => res.checks.filter((c) => c.outcome === 'fail').map((c) => c.name);
const check = (res, name) => res.checks.find((c) => c.name === name);

/** A loopback URL where nothing listens. */
async function closedPortURL() {
  const s = net.createServer();
  await new Promise((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address();
  await new Promise((resolve) => s.close(resolve));
  return `http://127.0.0.1:${port}`;
}

/**
 * A page at pageOrigin with the wasm verifier loaded and the browser's HTTP
 * cache off (so a second request reaches the Worker instead of the page's
 * cache). Records every response from the proxy.
 */
async function verifierPage(pageOrigin) {
  const page = await browser.context.newPage();
  const cdp = await browser.context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  const fromProxy = [];
  page.on('response', (res) => {
    if (res.url().startsWith(`${proxy.url}/`)) fromProxy.push({ path: res.url().slice(proxy.url.length), status: res.status(), headers: res.headers() });
  });
  const failedRequests = [];
  page.on('requestfailed', (req) => failedRequests.push({ url: req.url(), error: req.failure()?.errorText }));
  const consoleMessages = [];
  page.on('console', (m) => consoleMessages.push(m.text()));
  await page.goto(`${pageOrigin}/blank.html`);
  await page.evaluate(async () => { window.verifier = await (await import('/index.js')).loadVerifier(); });
  // Resolves with the Result and how long the verification took in the page.
  const verify = (evidence, expectation) => page.evaluate(async ([ev, exp]) => {
    const t0 = performance.now();
    const result = await window.verifier.verify(ev, exp);
    return { result, ms: performance.now() - t0 };
  }, [evidence, expectation]);
  return { page, verify, fromProxy, failedRequests, consoleMessages };
}

const expectationOf = ({ c }, kdsProxy) => ({ measurements: [c.measurement], reportData: c.report_data, ...(kdsProxy ? { kdsProxy } : {}) });

// 1. Evidence without certificates verifies through the real proxy.
// Milan (report v5), Genoa (report v3) and Turin (8-byte hwid, fmcSPL).
for (const name of ['teekit-gcp-milan-1', 'routex-genoa-v3', 'oak-turin']) {
  test(`${name}: evidence without certificates verifies through the KDS proxy; the second time from the Worker's cache`, async () => {
    const kase = load(name);
    const evidence = evidenceOf(kase);
    const { page, verify, fromProxy } = await verifierPage(origin);

    // Negative first: the same evidence without a proxy lacks its VCEK.
    const { result: alone } = await verify(evidence, expectationOf(kase));
    assert.equal(alone.verified, false);
    assert.deepEqual(failedChecks(alone), ['certificates']);
    assert.equal(kds.hits(kase.vcekPath), 0, 'KDS not asked before the test');

    const { result: first } = await verify(evidence, expectationOf(kase, proxy.url));
    assert.equal(first.verified, true, `failed: ${JSON.stringify(first.checks.filter((c) => c.outcome === 'fail'))}`);
    assert.deepEqual(failedChecks(first), []);
    assert.equal(first.simulated, false);
    assert.equal(first.product, kase.c.product);
    assert.equal(first.report.measurement, kase.c.measurement);
    assert.equal(first.report.signer, 'VCEK');
    for (const c of ['chain.endorsementKey', 'validity.vcek', 'report.signature', 'vcek.hwid', 'vcek.tcb', 'measurement', 'reportData']) {
      assert.equal(check(first, c)?.outcome, 'pass', `${c} passed`);
    }
    assert.match(first.revocation, /^not checked: CRL could not be fetched: KDS proxy answered HTTP 404/);
    assert.equal(kds.hits(kase.vcekPath), 1, 'the fake KDS served the VCEK once');

    // What the page got from the proxy: the VCEK by chip id and TCB, fetched
    // upstream (miss), with CORS for this page's origin.
    const vcek1 = fromProxy.filter((r) => sameDocument(r.path, kase.vcekPath));
    assert.equal(vcek1.length, 1, `one VCEK request: ${JSON.stringify(fromProxy.map((r) => r.path))}`);
    assert.equal(vcek1[0].status, 200);
    assert.equal(vcek1[0].headers['kds-proxy-cache'], 'miss');
    assert.equal(vcek1[0].headers['access-control-allow-origin'], origin);
    assert.match(vcek1[0].headers['access-control-expose-headers'] ?? '', /KDS-Proxy-Cache/i);
    assert.equal(Buffer.compare(Buffer.from(await (await fetch(`${proxy.url}${kase.vcekPath}`)).arrayBuffer()),
      fs.readFileSync(path.join(kase.dir, 'vcek.der'))), 0, 'the proxy serves the VCEK byte for byte');
    assert.equal(kds.hits(kase.vcekPath), 1, 'that fetch was a cache hit too');

    // Again, in the same page with the browser cache off: the Worker answers
    // from its cache and KDS is not asked again.
    const { result: second } = await verify(evidence, expectationOf(kase, proxy.url));
    assert.equal(second.verified, true);
    assert.deepEqual(withoutClock(second), withoutClock(first));
    const vcek2 = fromProxy.filter((r) => sameDocument(r.path, kase.vcekPath));
    assert.equal(vcek2.length, 2, 'the second verification asked the proxy again');
    assert.equal(vcek2[1].status, 200);
    assert.equal(vcek2[1].headers['kds-proxy-cache'], 'hit');
    assert.equal(kds.hits(kase.vcekPath), 1, 'the fake KDS was not asked again');

    // The exposed header is readable by the page itself (CORS from its origin).
    const seen = await page.evaluate(async (url) => {
      const res = await fetch(url, { cache: 'no-store' });
      return { status: res.status, cache: res.headers.get('KDS-Proxy-Cache'), bytes: (await res.arrayBuffer()).byteLength };
    }, `${proxy.url}${kase.vcekPath}`);
    assert.deepEqual(seen, { status: 200, cache: 'hit', bytes: fs.statSync(path.join(kase.dir, 'vcek.der')).size });
    await page.close();
  });
}

test('a page from an origin the proxy does not allow cannot read it: no VCEK, not verified', async () => {
  const kase = load('routex-genoa-v3'); // its VCEK is in the Worker's cache by now
  const { page, verify, failedRequests, consoleMessages } = await verifierPage(otherOrigin);
  const { result, ms } = await verify(evidenceOf(kase), expectationOf(kase, proxy.url));
  assert.equal(result.verified, false);
  assert.deepEqual(failedChecks(result), ['certificates']);
  assert.match(check(result, 'certificates').detail ?? '', /KDS proxy unreachable/);
  assert.ok(ms < 3000, `failed in ${ms} ms`);
  // The browser blocked the answer for want of CORS (not for the address space).
  assert.ok(failedRequests.some((r) => sameDocument(r.url.slice(proxy.url.length), kase.vcekPath)), `blocked: ${JSON.stringify(failedRequests)}`);
  assert.ok(consoleMessages.some((m) => /blocked by CORS policy: No 'Access-Control-Allow-Origin' header/.test(m)), `console: ${consoleMessages.join('\n')}`);
  // The Worker answers that origin without CORS headers, and the allowed one with them.
  const asked = async (o) => {
    const res = await fetch(`${proxy.url}${kase.vcekPath}`, { headers: { Origin: o } });
    await res.arrayBuffer();
    return { status: res.status, allow: res.headers.get('access-control-allow-origin') };
  };
  assert.deepEqual(await asked(otherOrigin), { status: 200, allow: null });
  assert.deepEqual(await asked(origin), { status: 200, allow: origin });
  await page.close();
});

// 2. A proxy that serves a genuine VCEK of another chip is caught.
test('a proxy serving the VCEK of another chip: rejected by vcek.hwid and report.signature', async (t) => {
  const kase = load('oak-genoa');
  const other = load('trustee-az-ev-genoa');
  assert.equal(other.c.product, kase.c.product);
  kds.serveInstead(kase.vcekPath, other.vcekPath);
  t.after(() => { kds.answer = null; });
  const { page, verify, fromProxy } = await verifierPage(origin);
  const { result } = await verify(evidenceOf(kase), expectationOf(kase, proxy.url));
  assert.equal(kds.hits(kase.vcekPath), 1, 'the VCEK came from the fake KDS through the proxy');
  const served = fromProxy.find((r) => sameDocument(r.path, kase.vcekPath));
  assert.equal(served?.status, 200);
  assert.equal(result.verified, false);
  const failed = failedChecks(result);
  assert.ok(failed.includes('vcek.hwid'), `vcek.hwid failed: ${failed}`);
  assert.ok(failed.includes('report.signature'), `report.signature failed: ${failed}`);
  for (const name of failed) assert.match(name, /^(vcek\.|report\.signature$)/, `only the VCEK's checks fail: ${failed}`);
  const hwid = check(result, 'vcek.hwid');
  assert.equal(hwid.field, 'CHIP_ID');
  assert.equal(hwid.got, kase.c.chip_id, "got: the report's CHIP_ID");
  assert.equal(hwid.want, other.c.chip_id, 'want: the chip the served VCEK names');
  // The chain of the other chip's VCEK is genuine: the proxy could not be caught there.
  assert.equal(check(result, 'chain.endorsementKey')?.outcome, 'pass');
  assert.equal(check(result, 'reportData')?.outcome, 'pass');
  await page.close();
});

/**
 * A page with <cvm-attest> whose gateway (intercepted) serves the given
 * evidence. A real report cannot bind the page's fresh nonce, so the
 * verifier is called with the report's own REPORT_DATA instead (as
 * scripts/widget-screenshots.mjs does for its real report); every other
 * check is the element's own.
 */
async function elementPage(kase, evidence, kdsProxy) {
  const page = await browser.context.newPage();
  const cdp = await browser.context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  await page.addInitScript((reportData) => {
    window.__swappedNonces = 0;
    Object.defineProperty(globalThis, 'cvmtrust', {
      configurable: true,
      set(ns) {
        const verify = ns.verify;
        ns.verify = (ev, { nonce, ...exp }) => {
          if (nonce) window.__swappedNonces++;
          return verify(ev, { ...exp, reportData });
        };
        Object.defineProperty(globalThis, 'cvmtrust', { value: ns, configurable: true, writable: true });
      },
    });
  }, kase.c.report_data);
  const errors = [];
  page.on('pageerror', (e) => errors.push(e));
  const enrolls = [];
  page.on('request', (req) => { if (new URL(req.url()).pathname.endsWith('/enroll')) enrolls.push(req.url()); });
  await page.goto(`${origin}/blank.html`);
  // The element refuses evidence without an HPKE key (protocol v1 requires one); the key is never used here,
  // since the report's own REPORT_DATA replaces the binding.
  const served = { ...evidence, hpke: { ...evidence.hpke, public_key: Buffer.alloc(1216, 1).toString('base64') } };
  await page.route(`${origin}/gw/attestation?*`, (route) => route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(served) }));
  await page.evaluate(async ([gw, measurements, kdsProxy]) => {
    await import('/define.js');
    const el = document.createElement('cvm-attest');
    el.setAttribute('gateway', gw);
    el.setAttribute('measurements', measurements);
    el.setAttribute('kds-proxy', kdsProxy);
    // Loose on purpose, and said so: the fake KDS serves no CRL (the test data has no real AMD CRL), and
    // routex-genoa-v3's firmware is below the floor of AMD-SB-3019 (web/README.md, "Defaults").
    el.setAttribute('unchecked-revocation-unsafe', '');
    el.setAttribute('tcb-below-bulletins-unsafe', '');
    document.body.append(el);
  }, [`${origin}/gw/`, `${kase.name}=${kase.c.measurement}`, kdsProxy]);
  const state = await settledState(page);
  // How long the verification took, from the evidence's arrival to the
  // Result (the marks of web/verifier.js; loading the wasm is not counted).
  const ms = await page.evaluate(() => {
    const at = (name) => performance.getEntriesByName(name).at(-1)?.startTime;
    return at('cvmtrust:verified') - at('cvmtrust:evidence');
  });
  const ui = () => page.$eval('cvm-attest', (el) => ({
    state: el.state,
    disabled: window.__test.root(el).querySelector('.capture').disabled,
    label: window.__test.root(el).querySelector('.badge-label').textContent,
    message: window.__test.root(el).querySelector('.message').textContent,
    failures: [...window.__test.root(el).querySelectorAll('.failures li')].map((li) => li.dataset.check),
    result: el.result,
    swapped: window.__swappedNonces,
    cameraRequests: window.__cameraRequests,
  }));
  return { page, state, ms, ui, errors, enrolls };
}

test('<cvm-attest kds-proxy>: evidence without certificates verifies through the proxy; the camera opens', async () => {
  const kase = load('routex-genoa-v3');
  // In the Worker's cache already (the tests above), or put there now.
  await (await fetch(`${proxy.url}${kase.vcekPath}`, { headers: { Origin: origin } })).arrayBuffer();
  const before = kds.hits(kase.vcekPath);
  assert.equal(before, 1);
  const { page, state, ui, errors } = await elementPage(kase, evidenceOf(kase), proxy.url);
  assert.equal(state, 'verified');
  await page.waitForFunction(() => !window.__test.root(document.querySelector('cvm-attest')).querySelector('.capture').disabled, null, { timeout: 10000 });
  const u = await ui();
  assert.equal(u.swapped, 1, 'the element verified once, with a nonce');
  assert.equal(u.result.verified, true);
  assert.deepEqual(u.failures, []);
  // What the page did not ask for, or could not be had, is named on the badge itself.
  const unchecked = ['firmware floor', ...(u.result.revocation === 'checked' ? [] : ['revocation'])].join(', ');
  assert.equal(u.label, `Verified: genuine AMD SEV-SNP (Genoa), expected code — not checked: ${unchecked}`);
  assert.equal(u.cameraRequests, 1);
  assert.equal(kds.hits(kase.vcekPath), before, 'served from the Worker cache');
  assert.deepEqual(errors, []);
  await page.close();
});

test('<cvm-attest kds-proxy>: a proxy serving the VCEK of another chip leaves it failed, capture disabled', async (t) => {
  const kase = load('oak-milan-oc-release');
  const other = load('trustee-snp-vcek-milan');
  kds.serveInstead(kase.vcekPath, other.vcekPath);
  t.after(() => { kds.answer = null; });
  const { page, state, ui, errors, enrolls } = await elementPage(kase, evidenceOf(kase), proxy.url);
  assert.equal(kds.hits(kase.vcekPath), 1);
  assert.equal(state, 'failed');
  const u = await ui();
  assert.equal(u.swapped, 1);
  assert.equal(u.disabled, true, 'capture button disabled');
  assert.match(u.label, /Not verified/);
  assert.match(u.message, /could not prove that it runs on genuine AMD SEV-SNP hardware.*Nothing was captured or sent/);
  assert.ok(u.failures.includes('vcek.hwid') && u.failures.includes('report.signature'), `failures shown: ${u.failures}`);
  assert.equal(u.result.checks.find((c) => c.name === 'reportData').outcome, 'pass', 'only the VCEK gives it away');
  // Clicking the disabled button does nothing.
  await page.$eval('cvm-attest', (el) => window.__test.root(el).querySelector('.capture').click());
  await page.waitForTimeout(100);
  assert.equal((await ui()).cameraRequests, 0, 'camera never requested');
  assert.deepEqual(enrolls, []);
  assert.deepEqual(errors, []);
  await page.close();
});

// 3. The proxy down.
test('proxy down: evidence without certificates fails fast with the reason; with certificates it verifies, revocation not checked', async () => {
  const dead = await closedPortURL();
  const kase = load('teekit-gcp-milan-1');
  const { page, verify } = await verifierPage(origin);

  const { result: bare, ms: bareMs } = await verify(evidenceOf(kase), expectationOf(kase, dead));
  assert.ok(bareMs < 3000, `failed in ${bareMs} ms`);
  assert.equal(bare.verified, false);
  assert.deepEqual(failedChecks(bare), ['certificates']);
  assert.match(check(bare, 'certificates').detail ?? '', /KDS proxy unreachable/);

  const { result: full, ms: fullMs } = await verify(evidenceOf(kase, { certs: true }), expectationOf(kase, dead));
  assert.ok(fullMs < 3000, `verified in ${fullMs} ms`);
  assert.equal(full.verified, true, `failed: ${failedChecks(full)}`);
  assert.match(full.revocation, /^not checked: CRL could not be fetched: KDS proxy unreachable/);
  assert.equal(check(full, 'revocation').outcome, 'skipped');

  // Revocation may be required: then the same evidence is rejected for it.
  const { result: strict } = await verify(evidenceOf(kase, { certs: true }), { ...expectationOf(kase, dead), requireRevocationCheck: true });
  assert.equal(strict.verified, false);
  assert.deepEqual(failedChecks(strict), ['revocation']);
  await page.close();
});

test('<cvm-attest kds-proxy> with the proxy down: failed quickly, capture disabled, the reason one click away', async () => {
  const dead = await closedPortURL();
  const kase = load('oak-turin');
  const { page, state, ms, ui, errors } = await elementPage(kase, evidenceOf(kase), dead);
  assert.equal(state, 'failed');
  assert.ok(ms >= 0 && ms < 3000, `verification took ${ms} ms`);
  const u = await ui();
  assert.equal(u.disabled, true);
  assert.deepEqual(u.failures, ['certificates']);
  assert.match(u.result.checks.find((c) => c.name === 'certificates').detail, /KDS proxy unreachable/);
  assert.match(u.message, /Nothing was captured or sent/);
  assert.equal(u.cameraRequests, 0);
  assert.deepEqual(errors, []);
  await page.close();
});

test('KDS not answering behind the proxy: evidence without certificates fails within the proxy timeout', async (t) => {
  const kase = load('trustee-az-ev-genoa'); // only ever served in place of oak-genoa's above
  kds.hang((url) => url === kase.vcekPath);
  t.after(() => { kds.answer = null; });
  const { page, verify, fromProxy } = await verifierPage(origin);
  const { result, ms } = await verify(evidenceOf(kase), expectationOf(kase, proxy.url));
  assert.equal(kds.hits(kase.vcekPath), 1, 'the proxy asked KDS');
  assert.equal(result.verified, false);
  assert.deepEqual(failedChecks(result), ['certificates']);
  assert.match(check(result, 'certificates').detail ?? '', /KDS proxy answered HTTP 504/);
  // startProxy's UPSTREAM_TIMEOUT_MS is 800.
  assert.ok(ms < 3000, `failed in ${ms} ms`);
  const answer = fromProxy.find((r) => sameDocument(r.path, kase.vcekPath));
  assert.equal(answer?.status, 504);
  assert.equal(answer.headers['retry-after'], '30');
  assert.equal(answer.headers['access-control-allow-origin'], origin, 'errors carry CORS too');
  await page.close();
});
