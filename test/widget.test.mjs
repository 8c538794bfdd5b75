// The <cvm-attest> element in headless Chromium against the simulated
// gateway: the happy path down to the template the gateway stored, and every
// rejection leaving the camera closed and nothing sent.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  launchBrowser, startWidgetGateway, startSimulatedGateway, settledState, recordAPI,
  templateDistance, countCameraRequests, simulatedMeasurement, repoRoot,
} from './lib/browser.mjs';

let gw;      // test/widgetgateway: camera picture + template hook
let other;   // a second simulated gateway: another HPKE key, another fake root
let browser;

before(async () => {
  gw = await startWidgetGateway();
  other = await startSimulatedGateway();
  browser = await launchBrowser({ videoFile: gw.y4m });
  await countCameraRequests(browser.context);
});

after(async () => {
  await browser?.close();
  await gw?.stop();
  await other?.stop();
});

async function openDemo(query = '', page) {
  page ??= await browser.context.newPage();
  await page.addInitScript(() => {
    // Listen on document from the start: the events bubble and are composed.
    window.__events = [];
    for (const type of ['cvm-verified', 'cvm-failed', 'cvm-enrolled']) {
      document.addEventListener(type, (e) => {
        window.__events.push({ type, ctor: e.constructor.name, bubbles: e.bubbles, composed: e.composed });
      });
    }
  });
  const errors = [];
  page.on('pageerror', (e) => errors.push(e));
  const api = recordAPI(page, gw.url);
  const uploads = [];
  page.on('request', (req) => {
    if (req.method() === 'POST' && new URL(req.url()).pathname === '/enroll') uploads.push(req.postData());
  });
  await page.goto(new URL(`demo/${query}`, gw.url).href);
  return { page, api, uploads, errors };
}

const failedChecks = (page) => page.$eval('cvm-attest', (el) => el.result?.checks.filter((c) => c.outcome === 'fail').map((c) => c.name) ?? null);

/** Asserts the rejected state: failed badge, button disabled, camera never asked for, nothing uploaded. */
async function assertRejected({ page, api, uploads, errors }, wantFailed) {
  assert.equal(await settledState(page), 'failed');
  const failed = await failedChecks(page);
  assert.ok(failed, 'a Result is shown');
  for (const want of wantFailed) {
    assert.ok(failed.some((name) => (want instanceof RegExp ? want.test(name) : name === want)), `check ${want} failed (failed: ${failed.join(', ')})`);
  }
  assert.deepEqual(await page.evaluate(() => window.__events.map((e) => e.type)), ['cvm-failed']);
  const ui = await page.$eval('cvm-attest', (el) => ({
    disabled: el.shadowRoot.querySelector('[part~="capture"]').disabled,
    label: el.shadowRoot.querySelector('[part~="badge-label"]').textContent,
    message: el.shadowRoot.querySelector('[part~="message"]').textContent,
    live: el.shadowRoot.querySelector('[part~="preview"]').srcObject !== null,
  }));
  assert.equal(ui.disabled, true, 'capture button disabled');
  assert.equal(ui.live, false, 'no camera preview');
  assert.match(ui.label, /Not verified/);
  assert.match(ui.message, /Nothing was captured or sent/);
  // A click on the disabled button must not send anything either.
  await page.$eval('cvm-attest', (el) => el.shadowRoot.querySelector('[part~="capture"]').click());
  assert.equal(await page.evaluate(() => window.__cameraRequests), 0, 'camera never requested');
  await page.waitForTimeout(100);
  assert.deepEqual(uploads, []);
  assert.ok(!api.some((r) => r.path === '/enroll'), 'no request to /enroll');
  assert.deepEqual(errors, []);
  await page.close();
}

test('verified against the simulated root: capture, sealed upload, receipt, template from the camera', async (tc) => {
  const { page, api, uploads, errors } = await openDemo();
  assert.equal(await settledState(page), 'simulated');
  const badge = await page.$eval('cvm-attest', (el) => el.shadowRoot.querySelector('[part~="badge-label"]').textContent);
  assert.match(badge, /SIMULATED/);
  const result = await page.$eval('cvm-attest', (el) => el.result);
  assert.equal(result.verified, true);
  assert.equal(result.simulated, true);
  assert.equal(result.report.measurement, simulatedMeasurement);
  assert.ok(result.checks.find((c) => c.name === 'reportData').outcome === 'pass');

  // Details are one click away and list every check.
  await page.click('cvm-attest >> [part~="badge"]');
  const details = await page.$eval('cvm-attest', (el) => ({
    hidden: el.shadowRoot.querySelector('[part~="details"]').hidden,
    checks: el.shadowRoot.querySelectorAll('[part~="checks"] li').length,
    facts: el.shadowRoot.querySelector('[part~="facts"]').textContent,
  }));
  assert.equal(details.hidden, false);
  assert.equal(details.checks, result.checks.length);
  // The expected release came from the demo's signed release, its manifest recomputed in the page.
  assert.equal(result.release?.release, 'cvmtrust-demo-simulated');
  assert.equal(result.release.measurement, simulatedMeasurement);
  assert.equal(result.release.recomputed, true);
  assert.match(details.facts, /Release\s*cvmtrust-demo-simulated/, 'the matched release is named');
  assert.match(details.facts, /Launch digest\s*recomputed in this browser from the signed release manifest/);

  await page.waitForFunction(() => !document.querySelector('cvm-attest').shadowRoot.querySelector('[part~="capture"]').disabled);
  const answered = page.waitForResponse((r) => new URL(r.url()).pathname === '/enroll');
  await page.click('cvm-attest >> [part~="capture"]');
  const answer = await answered;
  assert.equal(answer.status(), 200, 'the gateway opened the upload the page sealed');
  // The receipt is shown as enrolled only when its MAC verifies: keyed by this
  // upload's HPKE exporter secret, which only the attested key's holder has.
  assert.equal(typeof (await answer.json()).mac, 'string', 'the gateway MACs its receipt');
  await page.waitForFunction(() => document.querySelector('cvm-attest').receipt !== null, null, { timeout: 20000 });
  const receipt = await page.$eval('cvm-attest', (el) => el.receipt);
  assert.equal(receipt.status, 'enrolled');
  assert.equal(Buffer.from(receipt.report_sha384, 'base64').toString('hex'), result.report.sha384);
  assert.match(await page.$eval('cvm-attest', (el) => el.shadowRoot.querySelector('[part~="receipt"]').textContent), /enrolled/);
  const seen = await page.evaluate(() => window.__events);
  assert.deepEqual(seen.map((e) => e.type), ['cvm-verified', 'cvm-enrolled']);
  for (const e of seen) assert.ok(e.bubbles && e.composed, `${e.type} bubbles and is composed`);
  assert.deepEqual(seen.map((e) => e.ctor), ['CvmVerifiedEvent', 'CvmEnrolledEvent']);

  // One sealed upload: the post-quantum hybrid KEM, sealed to this report,
  // no JPEG in sight.
  assert.equal(uploads.length, 1);
  const body = JSON.parse(uploads[0]);
  assert.equal(body.kem, 'MLKEM768-X25519');
  assert.equal(Buffer.from(body.report_sha384, 'base64').toString('hex'), result.report.sha384);
  const ct = Buffer.from(body.ciphertext, 'base64');
  assert.ok(ct.length > 1088 + 1000, `ciphertext of ${ct.length} bytes holds an image`);
  // The JFIF header Chromium's JPEG encoder writes, in binary and as the
  // base64 the plaintext carries: long enough that random ciphertext does not
  // contain it by chance (a 3-byte header or '/9j/' would, in about 1 run in 200).
  assert.equal(ct.indexOf(Buffer.from('ffd8ffe000104a4649460001', 'hex')), -1, 'no JPEG header in the upload');
  assert.ok(!uploads[0].includes('/9j/4AAQSkZJRgAB'), 'no base64 JPEG in the upload');
  assert.deepEqual(api.map((r) => r.path), ['/attestation', '/enroll']);

  // What the gateway stored is the template of the picture the camera showed,
  // and would not be mistaken for a different picture.
  const t = await (await fetch(new URL('test/templates', gw.url))).json();
  assert.equal(t.stored.length, 1);
  const d = templateDistance(t.stored[0], t.camera);
  assert.ok(d <= t.threshold, `stored template is ${d} bits from the camera picture's (threshold ${t.threshold})`);
  assert.ok(templateDistance(t.camera, t.other) > t.threshold, 'a different picture is told apart');

  // The same face again, after a fresh verification: already enrolled.
  await page.$eval('cvm-attest', (el) => el.verify());
  await page.waitForFunction(() => !document.querySelector('cvm-attest').shadowRoot.querySelector('[part~="capture"]').disabled);
  const again = await page.$eval('cvm-attest', (el) => el.capture().then((r) => r.status, (e) => e.code));
  assert.equal(again, 'already_enrolled');
  assert.equal((await (await fetch(new URL('test/templates', gw.url))).json()).stored.length, 1);
  assert.deepEqual(errors, []);
  await page.close();
});

test('rejects evidence from a root the page did not choose to trust', async () => {
  // The same simulated gateway, without trust-simulated-root.
  await assertRejected(await openDemo('?trust-simulated-root='), [/^chain\./]);
});

test('rejects a simulated root other than the one that signed', async () => {
  // The page trusts a simulated root, but another gateway's.
  const otherRoot = await (await fetch(new URL('simulated/ark.pem', other.url))).text();
  const page = await browser.context.newPage();
  await page.route('**/simulated/ark.pem', (route) => route.fulfill({ status: 200, contentType: 'application/x-pem-file', body: otherRoot }));
  await assertRejected(await openDemo('', page), [/^chain\./]);
});

test('rejects a measurement the page does not expect', async () => {
  const wrong = 'ab'.repeat(48);
  await assertRejected(await openDemo(`?measurements=${wrong}`), ['measurement']);
});

test('rejects replayed evidence (stale nonce)', async () => {
  // Evidence the gateway really signed, for a nonce this page did not choose.
  const stale = await (await fetch(new URL(`attestation?nonce=${Buffer.alloc(32, 7).toString('base64url')}`, gw.url))).text();
  const page = await browser.context.newPage();
  await page.route('**/attestation?*', (route) => route.fulfill({ status: 200, contentType: 'application/json', body: stale }));
  await assertRejected(await openDemo('', page), ['reportData']);
});

test('rejects a report with one byte changed', async () => {
  const page = await browser.context.newPage();
  await page.route('**/attestation?*', async (route) => {
    const res = await route.fetch();
    const ev = await res.json();
    const report = Buffer.from(ev.report, 'base64');
    report[0x140] ^= 0x01; // REPORT_ID: covered by the signature only
    ev.report = report.toString('base64');
    await route.fulfill({ response: res, json: ev });
  });
  await assertRejected(await openDemo('', page), ['report.signature']);
});

test('rejects evidence whose HPKE key was swapped', async () => {
  // Another gateway's real public key, as an attacker in the middle would use.
  const theirs = await (await fetch(new URL(`attestation?nonce=${Buffer.alloc(32, 9).toString('base64url')}`, other.url))).json();
  const page = await browser.context.newPage();
  await page.route('**/attestation?*', async (route) => {
    const res = await route.fetch();
    const ev = await res.json();
    assert.notEqual(ev.hpke.public_key, theirs.hpke.public_key);
    ev.hpke.public_key = theirs.hpke.public_key;
    await route.fulfill({ response: res, json: ev });
  });
  await assertRejected(await openDemo('', page), ['reportData']);
});

test('an unreachable gateway fails in words, with no Result and nothing sent', async () => {
  const page = await browser.context.newPage();
  await page.route('**/attestation?*', (route) => route.abort('connectionrefused'));
  const s = await openDemo('', page);
  assert.equal(await settledState(page), 'failed');
  const msg = await page.$eval('cvm-attest', (el) => el.shadowRoot.querySelector('[part~="message"]').textContent);
  assert.match(msg, /Could not reach .* Nothing was captured or sent/);
  assert.equal(await page.evaluate(() => window.__cameraRequests), 0);
  assert.deepEqual(s.uploads, []);
  await page.close();
});

test('sealFor refuses a Result that did not verify, or was not produced by verifyGateway', async () => {
  const page = await browser.context.newPage();
  await page.goto(new URL('demo/?measurements=' + 'ab'.repeat(48), gw.url).href);
  const out = await page.evaluate(async () => {
    const { verifyGateway, sealFor } = await import('../index.js');
    const bad = await verifyGateway({ gateway: '../', measurements: ['ab'.repeat(48)], trustSimulatedRoot: '../simulated/ark.pem' });
    const errs = [];
    for (const r of [bad, { ...bad, verified: true }]) {
      try { await sealFor(r, new Uint8Array([1])); errs.push(null); } catch (e) { errs.push(e.constructor.name); }
    }
    return { verified: bad.verified, errs };
  });
  assert.equal(out.verified, false);
  assert.deepEqual(out.errs, ['TypeError', 'TypeError']);
  await page.close();
});


test('sealFor: the verified key bytes, never the JSON read again; a swapped key is refused', async () => {
  const page = await browser.context.newPage();
  await page.goto(new URL('demo/?measurements=' + 'ab'.repeat(48), gw.url).href);
  const theirs = (await (await fetch(new URL(`attestation?nonce=${Buffer.alloc(32, 9).toString('base64url')}`, other.url))).json()).hpke.public_key;
  const out = await page.evaluate(async ([measurement, theirs]) => {
    const { verifyGateway, sealFor } = await import('../index.js');
    const opts = { gateway: '../', measurements: [measurement], trustSimulatedRoot: '../simulated/ark.pem' };
    const ok = await verifyGateway(opts);
    const sealed = await sealFor(ok, new Uint8Array([1, 2, 3]));
    // The same gateway, with the evidence's key swapped on its way in.
    const swapping = async (url, init) => {
      const res = await fetch(url, init);
      if (!String(url).includes('attestation?')) return res;
      const ev = await res.json();
      ev.hpke.public_key = theirs;
      return new Response(JSON.stringify(ev), { status: 200 });
    };
    const swapped = await verifyGateway({ ...opts, fetch: swapping });
    let refused;
    try { await sealFor(swapped, new Uint8Array([1])); } catch (e) { refused = e.constructor.name; }
    // The suite names are not in REPORT_DATA, the key bytes are: a KEM renamed
    // on the way verifies, and sealing to those bytes under it fails in words;
    // a KDF or AEAD the page does not use is refused.
    const renaming = (change) => async (url, init) => {
      const res = await fetch(url, init);
      if (!String(url).includes('attestation?')) return res;
      const ev = await res.json();
      change(ev.hpke);
      return new Response(JSON.stringify(ev), { status: 200 });
    };
    const suites = [];
    for (const change of [(h) => { h.kem = 'DHKEM-X25519-HKDF-SHA256'; }, (h) => { h.kdf = 'HKDF-SHA512'; }, (h) => { h.aead = 'ChaCha20Poly1305'; }]) {
      const r = await verifyGateway({ ...opts, fetch: renaming(change) });
      try { await sealFor(r, new Uint8Array([1])); suites.push([r.verified, 'sealed']); } catch (e) { suites.push([r.verified, e.message]); }
    }
    return {
      verified: ok.verified, keys: Object.keys(ok), sealedKeys: Object.keys(sealed), kem: sealed.kem,
      swappedVerified: swapped.verified, swappedReportData: swapped.checks.find((c) => c.name === 'reportData').outcome, refused, suites,
    };
  }, [simulatedMeasurement, theirs]);
  assert.equal(out.verified, true);
  assert.ok(!out.keys.includes('sealTo'), 'the key handed back by the wasm is not on the page\'s Result');
  assert.deepEqual(out.sealedKeys, ['version', 'report_sha384', 'kem', 'ciphertext']);
  assert.equal(out.kem, 'MLKEM768-X25519');
  assert.equal(out.swappedVerified, false);
  assert.equal(out.swappedReportData, 'fail');
  assert.equal(out.refused, 'TypeError');
  assert.deepEqual(out.suites.map(([v]) => v), [true, true, true]);
  assert.match(out.suites[0][1], /^Could not encrypt to the server’s key \(DHKEM-X25519-HKDF-SHA256\).*Nothing was sent\.$/);
  assert.match(out.suites[1][1], /^The server offers an encryption suite this page does not use \(MLKEM768-X25519, HKDF-SHA512, AES-256-GCM\)/);
  assert.match(out.suites[2][1], /^The server offers an encryption suite this page does not use .*ChaCha20Poly1305/);
  await page.close();
});

test('JS-sealed uploads open in the Go gateway, for both KEMs; a changed ciphertext or forged receipt is refused', async (t) => {
  const x25519 = await startSimulatedGateway(['--kem', 'DHKEM-X25519-HKDF-SHA256']);
  try {
    for (const [g, kem, encSize] of [[other, 'MLKEM768-X25519', 1120], [x25519, 'DHKEM-X25519-HKDF-SHA256', 32]]) {
      const page = await browser.context.newPage();
      await page.goto(new URL('demo/?measurements=' + 'ab'.repeat(48), g.url).href);
      const out = await page.evaluate(async (measurement) => {
        const { verifyGateway, sealFor } = await import('../index.js');
        const result = await verifyGateway({ gateway: '../', measurements: [measurement], trustSimulatedRoot: '../simulated/ark.pem' });
        const canvas = new OffscreenCanvas(64, 48);
        const ctx = canvas.getContext('2d');
        for (let i = 0; i < 48; i++) { ctx.fillStyle = i % 3 ? '#222' : '#ddd'; ctx.fillRect((i * 7) % 64, (i * 5) % 48, 16, 12); }
        const png = new Uint8Array(await (await canvas.convertToBlob({ type: 'image/png' })).arrayBuffer());
        let bin = '';
        for (const b of png) bin += String.fromCharCode(b);
        const plaintext = new TextEncoder().encode(JSON.stringify({ content_type: 'image/png', image: btoa(bin), width: 64, height: 48 }));
        const post = (body) => fetch('../enroll', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
        // A ciphertext with one byte changed must not open.
        const tampered = await sealFor(result, plaintext);
        const ct = Uint8Array.from(atob(tampered.ciphertext), (c) => c.charCodeAt(0));
        ct[ct.length - 1] ^= 1;
        const bad = await post({ ...tampered, ciphertext: btoa(String.fromCharCode(...ct)) });
        const request = await sealFor(result, plaintext);
        const res = await post(request);
        const receipt = await res.json();
        const check = (r) => request.verifyReceipt(r).then((x) => x.status, (e) => e.code);
        const forged = { ...receipt, mac: btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32)))) };
        return {
          verified: result.verified, kem: request.kem, enc: Uint8Array.from(atob(request.ciphertext), (c) => c.charCodeAt(0)).length - plaintext.length - 16,
          badStatus: bad.status, status: res.status, receipt, checked: await check(receipt), forged: await check(forged),
        };
      }, simulatedMeasurement);
      assert.equal(out.verified, true);
      assert.equal(out.kem, kem);
      assert.equal(out.enc, encSize, `${kem}: the encapsulation is ${encSize} bytes`);
      assert.ok(out.badStatus >= 400 && out.badStatus < 500, `${kem}: a changed ciphertext is refused (HTTP ${out.badStatus})`);
      assert.equal(out.status, 200, `${kem}: the gateway opened the upload (${JSON.stringify(out.receipt)})`);
      assert.equal(out.receipt.status, 'enrolled');
      assert.equal(out.forged, 'receipt_invalid', `${kem}: a receipt with another MAC is refused`);
      assert.equal(typeof out.receipt.mac, 'string', `${kem}: the gateway MACs its receipt`);
      assert.equal(out.checked, 'enrolled', `${kem}: the gateway's receipt MAC verifies`);
      await page.close();
    }
  } finally {
    await x25519.stop();
  }
});

test('element API: define under another tag, attributes reflect to properties, state is set by the element', async () => {
  const page = await browser.context.newPage();
  // An empty page on the gateway's origin; nothing registered yet.
  await page.goto(new URL('demo/missing.html', gw.url).href);
  const out = await page.evaluate(async (measurement) => {
    const mod = await import('../index.js');
    const before = customElements.get('cvm-attest') ?? null;
    mod.CvmAttestElement.define('my-attest');
    mod.CvmAttestElement.define('my-attest'); // twice is harmless
    const el = document.createElement('my-attest');
    el.gateway = '../';
    el.measurements = `demo=${measurement}`;
    el.trustSimulatedRoot = '../simulated/ark.pem';
    const attrs = ['gateway', 'measurements', 'trust-simulated-root'].map((a) => el.getAttribute(a));
    const verified = new Promise((resolve) => document.addEventListener('cvm-verified', (e) => resolve(e.target.localName)));
    document.body.append(el);
    const initial = el.getAttribute('state');
    const target = await verified;
    el.trustSimulatedRoot = '';
    const removed = el.hasAttribute('trust-simulated-root');
    return {
      before, attrs, initial, target, state: el.state, removed,
      exports: Object.keys(mod).sort(),
      parsed: mod.parseMeasurements(' a=AB, 0xcd ,'),
    };
  }, simulatedMeasurement);
  assert.equal(out.before, null, 'index.js registers nothing');
  assert.deepEqual(out.attrs, ['../', `demo=${simulatedMeasurement}`, '../simulated/ark.pem']);
  assert.equal(out.initial, 'verifying');
  assert.equal(out.target, 'my-attest');
  assert.ok(['simulated', 'verifying'].includes(out.state), out.state);
  assert.equal(out.removed, false);
  assert.deepEqual(out.exports, ['CvmAttestElement', 'CvmEnrolledEvent', 'CvmFailedEvent', 'CvmVerifiedEvent', 'enroll', 'loadManifest', 'loadRelease', 'loadVerifier', 'parseMeasurements', 'releaseAttributes', 'sealFor', 'verifyGateway']);
  assert.deepEqual(out.parsed, [{ name: 'a', measurement: 'ab' }, { name: '', measurement: 'cd' }]);
  // Removing the simulated root re-verified, and now it fails.
  assert.equal(await settledState(page, 'my-attest'), 'failed');
  await page.close();
});

// The demo manifest with one change, as a compromised or mistaken web server
// might serve it.
const demoManifest = JSON.parse(fs.readFileSync(path.join(repoRoot, 'web/demo/release.json'), 'utf8'));
const flipHex = (h) => (h[0] === '0' ? '1' : '0') + h.slice(1);
const manifestTamperings = [
  // Claims another measurement than its contents give (here: one the gateway does not report).
  ['its measurement changed', (m) => { m.measurement = flipHex(m.measurement); }],
  // Claims the gateway's measurement for other artifacts: the recomputation gives another digest.
  ['its kernel digest changed', (m) => { m.kernel.sha256 = flipHex(m.kernel.sha256); }],
  ['its OVMF hash changed', (m) => { m.ovmf.snp_ovmf_hash = flipHex(m.ovmf.snp_ovmf_hash); }],
];

for (const [what, change] of manifestTamperings) {
  test(`refuses a release manifest with ${what}: failed, nothing captured or sent`, async () => {
    const m = structuredClone(demoManifest);
    change(m);
    const page = await browser.context.newPage();
    await page.route('**/demo/release.json', (route) => route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(m) }));
    // The demo page expects a signed release; this asks it for the plain manifest instead.
    const { api, uploads, errors } = await openDemo('?manifest=release.json', page);
    assert.equal(await settledState(page), 'failed');
    const ui = await page.$eval('cvm-attest', (el) => ({
      result: el.result,
      disabled: el.shadowRoot.querySelector('[part~="capture"]').disabled,
      label: el.shadowRoot.querySelector('[part~="badge-label"]').textContent,
      message: el.shadowRoot.querySelector('[part~="message"]').textContent,
      facts: el.shadowRoot.querySelector('[part~="facts"]').textContent,
      live: el.shadowRoot.querySelector('[part~="preview"]').srcObject !== null,
    }));
    assert.equal(ui.result, null, 'no Result: the evidence was not verified against a refused manifest');
    assert.equal(ui.disabled, true);
    assert.equal(ui.live, false);
    assert.match(ui.label, /release manifest refused/);
    assert.match(ui.message, /release manifest\) does not add up, so the server was not checked\. Nothing was captured or sent\./);
    // The details say which manifest and what did not add up.
    assert.match(ui.facts, /The release manifest at http:\/\/127\.0\.0\.1:\d+\/demo\/release\.json was refused: .*launch digest mismatch: measurement: got [0-9a-f]{96}, want [0-9a-f]{96}/);
    assert.deepEqual(await page.evaluate(() => window.__events.map((e) => e.type)), ['cvm-failed']);
    await page.$eval('cvm-attest', (el) => el.shadowRoot.querySelector('[part~="capture"]').click());
    await assert.rejects(page.$eval('cvm-attest', (el) => el.capture()), /not been verified/);
    await page.waitForTimeout(100);
    assert.equal(await page.evaluate(() => window.__cameraRequests), 0, 'camera never requested');
    assert.deepEqual(uploads, []);
    assert.ok(!api.some((r) => r.path === '/enroll'), 'no request to /enroll');
    assert.deepEqual(errors, []);
    await page.close();
  });
}

test('verifyGateway with manifests: the recomputed release, or a rejection for a tampered one', async () => {
  const page = await browser.context.newPage();
  await page.goto(new URL('demo/missing.html', gw.url).href);
  const tampered = structuredClone(demoManifest);
  tampered.kernel.sha256 = flipHex(tampered.kernel.sha256);
  const out = await page.evaluate(async ([good, bad]) => {
    const { verifyGateway, loadManifest, sealFor } = await import('../index.js');
    const opts = { gateway: '../', trustSimulatedRoot: '../simulated/ark.pem' };
    const ok = await verifyGateway({ ...opts, manifests: ['release.json'] });
    const fromObject = await verifyGateway({ ...opts, manifests: [good] });
    const rejections = [];
    for (const manifests of [[bad], ['release.json', bad]]) {
      try {
        await verifyGateway({ ...opts, manifests });
        rejections.push(null);
      } catch (e) {
        rejections.push({ code: e.code, message: e.message });
      }
    }
    let sealed = null;
    try { sealed = (await sealFor(ok, new Uint8Array([1]))).kem; } catch (e) { sealed = e.message; }
    return {
      ok: { verified: ok.verified, release: ok.release },
      fromObject: { verified: fromObject.verified, release: fromObject.release?.release, url: fromObject.release?.manifestUrl ?? null },
      rejections,
      sealed,
      loaded: await loadManifest('release.json'),
    };
  }, [demoManifest, tampered]);
  assert.equal(out.ok.verified, true);
  assert.equal(out.ok.release.release, 'cvmtrust-demo-simulated');
  assert.equal(out.ok.release.measurement, simulatedMeasurement);
  assert.match(out.ok.release.manifestUrl, /\/demo\/release\.json$/);
  assert.deepEqual(out.fromObject, { verified: true, release: 'cvmtrust-demo-simulated', url: null });
  for (const r of out.rejections) {
    assert.equal(r?.code, 'manifest_refused');
    assert.match(r.message, /^The release manifest was refused: .*launch digest mismatch/);
  }
  assert.equal(out.sealed, 'MLKEM768-X25519');
  assert.deepEqual(out.loaded, out.ok.release);
  await page.close();
});

test('element: manifest and manifests reflect to properties; manifests takes a list', async () => {
  const page = await browser.context.newPage();
  await page.goto(new URL('demo/missing.html', gw.url).href);
  const out = await page.evaluate(async () => {
    const { CvmAttestElement } = await import('../index.js');
    CvmAttestElement.define();
    const el = document.createElement('cvm-attest');
    el.manifest = 'a.json';
    const one = el.getAttribute('manifest');
    el.manifest = '';
    const removed = !el.hasAttribute('manifest');
    el.gateway = '../';
    el.trustSimulatedRoot = '../simulated/ark.pem';
    el.manifests = ' release.json , ./release.json';
    const verified = new Promise((resolve) => el.addEventListener('cvm-verified', () => resolve(el.result.release)));
    document.body.append(el);
    return { one, removed, manifests: el.getAttribute('manifests'), release: await verified };
  });
  assert.equal(out.one, 'a.json');
  assert.equal(out.removed, true);
  assert.equal(out.manifests, ' release.json , ./release.json');
  assert.equal(out.release.release, 'cvmtrust-demo-simulated');
  await page.close();
});
