// The <cvm-attest> element against the simulated gateway, in every engine of
// CVMTRUST_BROWSERS (Chromium, Firefox ESR, WebKitGTK): the happy path down
// to the template the gateway stored, and every rejection leaving the camera
// closed and nothing sent. What crosses the wire is changed by a test site in
// front of the gateway (test/lib/testsite.mjs), the same way for every engine.
import { describe, test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  launchEngine, selectedEngines, startWidgetGateway, startSimulatedGateway, readWidget, settled, clickPart,
  templateDistance, simulatedMeasurement, repoRoot,
} from './lib/browser.mjs';
import { startTestSite, y4mPicture } from './lib/testsite.mjs';

// The demo manifest with one change, as a compromised or mistaken web server might serve it.
const demoManifest = JSON.parse(fs.readFileSync(path.join(repoRoot, 'web/demo/release.json'), 'utf8'));
const flipHex = (h) => (h[0] === '0' ? '1' : '0') + h.slice(1);
const manifestTamperings = [
  // Claims another measurement than its contents give (here: one the gateway does not report).
  ['its measurement changed', (m) => { m.measurement = flipHex(m.measurement); }],
  // Claims the gateway's measurement for other artifacts: the recomputation gives another digest.
  ['its kernel digest changed', (m) => { m.kernel.sha256 = flipHex(m.kernel.sha256); }],
  ['its OVMF hash changed', (m) => { m.ovmf.snp_ovmf_hash = flipHex(m.ovmf.snp_ovmf_hash); }],
];

for (const engine of selectedEngines()) {
  describe(engine, { timeout: 240000 }, () => {
    let gw;      // test/widgetgateway: camera picture + template hook
    let other;   // a second simulated gateway: another HPKE key, another fake root
    let site;    // the test site in front of gw
    let browser;

    before(async () => {
      [gw, other] = await Promise.all([startWidgetGateway(), startSimulatedGateway()]);
      site = await startTestSite(gw.url);
      browser = await launchEngine(engine, { videoFile: gw.y4m });
      // Chromium films the picture from its file camera; Firefox's and WebKit's fake cameras show their own
      // pattern, so the page films the picture from a canvas stream after opening the engine's camera.
      picture = engine === 'chromium' ? null : y4mPicture(gw.y4m);
    });

    after(async () => {
      await browser?.close();
      await site?.close();
      await gw?.stop();
      await other?.stop();
    });

    let picture;
    beforeEach(() => {
      site.reset();
      site.cameraPicture = picture;
    });

    async function openDemo(query = '') {
      const page = await browser.newPage();
      await page.goto(new URL(`demo/${query}`, site.url).href);
      return page;
    }

    const uploads = () => site.requests.filter((r) => r.path === '/enroll');

    /** The rejected state: failed badge, no camera part, camera never asked for, nothing uploaded. */
    async function assertRejected(page, wantFailed) {
      assert.equal(await settled(page), 'failed');
      // A click on the (hidden) capture button and a capture() call send nothing either.
      await clickPart(page, 'capture');
      const thrown = await page.evaluate(() => document.querySelector('cvm-attest').capture().then(() => null, (e) => e.message));
      assert.match(thrown, /not been verified/);
      const ui = await readWidget(page);
      assert.ok(ui.failed, 'a Result is shown');
      for (const want of wantFailed) {
        assert.ok(ui.failed.some((name) => (want instanceof RegExp ? want.test(name) : name === want)), `check ${want} failed (failed: ${ui.failed.join(', ')})`);
      }
      assert.deepEqual(ui.events, ['cvm-failed']);
      assert.equal(ui.cameraHidden, true, 'no camera part');
      assert.equal(ui.live, false, 'no camera preview');
      assert.equal(ui.retryHidden, false, 'a way to check again');
      assert.match(ui.label, /^Not verified/);
      assert.doesNotMatch(ui.label, /Verified/);
      assert.match(ui.message, /Nothing was captured or sent\./);
      assert.ok(Object.values(ui.summary).includes('fail'), `the summary shows the failure: ${ui.summaryText}`);
      assert.equal(ui.cameraRequests, 0, 'camera never requested');
      assert.deepEqual(uploads(), [], 'no request to /enroll');
      assert.deepEqual(ui.errors, []);
      await page.close();
      return ui;
    }

    test('verified against the simulated root: summary, details by keyboard, capture, sealed upload, receipt, template from the camera', async () => {
      site.countSenderContexts = true;
      const page = await openDemo();
      assert.equal(await settled(page), 'simulated');
      let ui = await readWidget(page);
      assert.match(ui.label, /SIMULATED/);
      assert.match(ui.warning, /SIMULATED/);
      assert.deepEqual(ui.summary, { hardware: 'pass', code: 'pass', fresh: 'pass', settings: 'pass', revocation: 'pass' });
      assert.match(ui.summaryText, /Expected code\s*pass \(release cvmtrust-demo-simulated\)/);
      assert.match(ui.summaryText, /Security settings and firmware\s*pass/);
      assert.match(ui.summaryText, /Certificates not revoked\s*pass/);
      assert.doesNotMatch(ui.label, /not checked/);
      const result = await page.evaluate(() => document.querySelector('cvm-attest').result);
      assert.equal(result.verified, true);
      assert.equal(result.simulated, true);
      assert.equal(result.report.measurement, simulatedMeasurement);
      assert.equal(result.checks.find((c) => c.name === 'vmpl').outcome, 'pass', 'VMPL 0 is checked by default');
      assert.equal(result.release?.release, 'cvmtrust-demo-simulated');
      assert.equal(result.release.recomputed, true);

      // Details open from the keyboard: focus the badge, Enter.
      await page.evaluate(() => window.__test.root(document.querySelector('cvm-attest')).querySelector('.badge').focus());
      await page.press('Enter');
      ui = await readWidget(page);
      assert.equal(ui.detailsHidden, false);
      assert.equal(ui.expanded, 'true');
      assert.equal(ui.toggle, 'Hide details');
      assert.match(ui.facts, /Release\s*cvmtrust-demo-simulated/);
      // The demo's release is signed (through a simulated Sigstore instance) and its manifest recomputed here.
      assert.match(ui.facts, /Launch digest\s*recomputed in this browser from the signed release manifest/);
      assert.match(ui.facts, /Checked at\s*\d{4}-/);
      assert.doesNotMatch(ui.facts, /Verified at/);

      await page.waitFor(() => {
        const b = window.__test.root(document.querySelector('cvm-attest')).querySelector('.capture');
        return !b.disabled && window.__test.root(document.querySelector('cvm-attest')).querySelector('.preview').videoWidth > 0;
      });
      ui = await readWidget(page);
      assert.equal(ui.capture.text, 'Take photo and send securely');
      assert.equal(ui.capture.note, '');
      // The key encapsulation was done while the camera showed, once: the click only encrypts.
      assert.equal(await page.evaluate(() => window.__test.senderContextsHooked), true);
      assert.equal(await page.evaluate(() => window.__test.senderContexts), 1, 'one sender context set up before the click');
      await clickPart(page, 'capture');
      await page.waitFor(() => document.querySelector('cvm-attest').receipt !== null, null, { timeout: 20000 })
        .catch(async (err) => { throw new Error(`${err.message}; the element shows: ${JSON.stringify(await readWidget(page))}`); });
      const receipt = await page.evaluate(() => document.querySelector('cvm-attest').receipt);
      assert.equal(receipt.status, 'enrolled');
      assert.equal(await page.evaluate(() => window.__test.senderContexts), 1, 'the upload was sealed with the context set up before the click');
      // Shown as enrolled only because its MAC verified: keyed by this upload's HPKE exporter secret, which only
      // the attested key's holder has (forged, replayed and unsigned receipts: widget-receipt.test.mjs).
      assert.equal(typeof receipt.mac, 'string', 'the gateway MACs its receipt');
      assert.equal(Buffer.from(receipt.report_sha384, 'base64').toString('hex'), result.report.sha384);
      ui = await readWidget(page);
      assert.match(ui.receipt, /You are enrolled\.\s*Receipt \S+/);
      assert.match(ui.warning, /SIMULATED/, 'the SIMULATED warning stays after capture');
      assert.equal(ui.cameraHidden, true, 'no dead capture button above the receipt');
      assert.deepEqual(ui.events, ['cvm-verified', 'cvm-enrolled']);
      const seen = await page.evaluate(() => window.__test.events);
      for (const e of seen) assert.ok(e.bubbles && e.composed, `${e.type} bubbles and is composed`);
      assert.deepEqual(seen.map((e) => e.ctor), ['CvmVerifiedEvent', 'CvmEnrolledEvent']);

      // One sealed upload: the post-quantum hybrid KEM, sealed to this report, no JPEG in sight.
      assert.equal(uploads().length, 1);
      const sent = uploads()[0].body;
      const body = JSON.parse(sent);
      assert.equal(body.kem, 'MLKEM768-X25519');
      assert.equal(Buffer.from(body.report_sha384, 'base64').toString('hex'), result.report.sha384);
      const ct = Buffer.from(body.ciphertext, 'base64');
      assert.ok(ct.length > 1088 + 1000, `ciphertext of ${ct.length} bytes holds an image`);
      // A JPEG's start of image and JFIF/Exif markers, binary and as base64: long enough that random
      // ciphertext does not contain them by chance.
      assert.equal(ct.indexOf(Buffer.from('ffd8ffe000104a4649460001', 'hex')), -1, 'no JPEG header in the upload');
      assert.ok(!sent.includes('/9j/4AAQSkZJRgAB') && !sent.includes('/9j/4QA'), 'no base64 JPEG in the upload');
      assert.deepEqual(site.requests.filter((r) => ['/attestation', '/enroll'].includes(r.path)).map((r) => r.path), ['/attestation', '/enroll']);

      // What the gateway stored is the template of the picture the camera showed,
      // and would not be mistaken for a different picture.
      const t = await (await fetch(new URL('test/templates', gw.url))).json();
      assert.equal(t.stored.length, 1);
      const d = templateDistance(t.stored[0], t.camera);
      assert.ok(d <= t.threshold, `stored template is ${d} bits from the camera picture's (threshold ${t.threshold})`);
      assert.ok(templateDistance(t.camera, t.other) > t.threshold, 'a different picture is told apart');

      // The same face again, after a fresh verification: already enrolled.
      // (The Result itself stays in the page: WebKit's driver has failed to serialise it back.)
      await page.evaluate(() => document.querySelector('cvm-attest').verify().then(() => true));
      await page.waitFor(() => !window.__test.root(document.querySelector('cvm-attest')).querySelector('.capture').disabled
        && window.__test.root(document.querySelector('cvm-attest')).querySelector('.preview').videoWidth > 0);
      const again = await page.evaluate(() => document.querySelector('cvm-attest').capture());
      assert.equal(again.status, 'already_enrolled');
      assert.equal(await page.evaluate(() => window.__test.senderContexts), 2, 'the second upload, to the new Result, had its own context');
      assert.match((await readWidget(page)).receipt, /already enrolled/);
      assert.equal((await (await fetch(new URL('test/templates', gw.url))).json()).stored.length, 1);
      assert.deepEqual((await readWidget(page)).errors, []);
      await page.close();
    });

    test('rejects evidence from a root the page did not choose to trust', async () => {
      await assertRejected(await openDemo('?trust-simulated-root='), [/^chain\./]);
    });

    test('rejects a simulated root other than the one that signed', async () => {
      const otherRoot = await (await fetch(new URL('simulated/ark.pem', other.url))).text();
      site.route('/simulated/ark.pem', (req, res) => { res.writeHead(200, { 'Content-Type': 'application/x-pem-file' }); res.end(otherRoot); });
      await assertRejected(await openDemo(), [/^chain\./]);
    });

    test('rejects a measurement the page does not expect', async () => {
      const ui = await assertRejected(await openDemo(`?measurements=${'ab'.repeat(48)}`), ['measurement']);
      assert.equal(ui.summary.code, 'fail');
      assert.match(ui.message, /not running the software this page expects/);
    });

    test('rejects replayed evidence (stale nonce)', async () => {
      const stale = await (await fetch(new URL(`attestation?nonce=${Buffer.alloc(32, 7).toString('base64url')}`, gw.url))).text();
      site.route('/attestation', (req, res) => { res.writeHead(200, { 'Content-Type': 'application/json' }); res.end(stale); });
      const ui = await assertRejected(await openDemo(), ['reportData']);
      assert.equal(ui.summary.fresh, 'fail');
    });

    test('rejects a report with one byte changed', async () => {
      site.mutateJSON('/attestation', (ev) => {
        const report = Buffer.from(ev.report, 'base64');
        report[0x140] ^= 0x01; // REPORT_ID: covered by the signature only
        ev.report = report.toString('base64');
        return ev;
      });
      const ui = await assertRejected(await openDemo(), ['report.signature']);
      assert.equal(ui.summary.hardware, 'fail');
    });

    test('rejects evidence whose HPKE key was swapped', async () => {
      const theirs = await (await fetch(new URL(`attestation?nonce=${Buffer.alloc(32, 9).toString('base64url')}`, other.url))).json();
      site.mutateJSON('/attestation', (ev) => {
        assert.notEqual(ev.hpke.public_key, theirs.hpke.public_key);
        ev.hpke.public_key = theirs.hpke.public_key;
        return ev;
      });
      await assertRejected(await openDemo(), ['reportData']);
    });

    for (const [what, change] of manifestTamperings) {
      test(`refuses a release manifest with ${what}: failed, nothing captured or sent`, async () => {
        const m = structuredClone(demoManifest);
        change(m);
        site.route('/demo/release.json', (req, res) => { res.writeHead(200, { 'Content-Type': 'application/json' }); res.end(JSON.stringify(m)); });
        // The demo page expects a signed release; this asks it for the plain manifest instead.
        const page = await openDemo('?manifest=release.json');
        assert.equal(await settled(page), 'failed');
        await clickPart(page, 'capture');
        const ui = await readWidget(page);
        assert.equal(ui.failed, null, 'no Result: the evidence was not verified against a refused manifest');
        assert.equal(ui.cameraHidden, true);
        assert.match(ui.label, /release description refused/);
        assert.match(ui.message, /release manifest\) does not add up, so the server was not checked\. Nothing was captured or sent\./);
        assert.match(ui.facts, /The release manifest at http:\/\/127\.0\.0\.1:\d+\/demo\/release\.json was refused: .*launch digest mismatch: measurement: got [0-9a-f]{96}, want [0-9a-f]{96}/);
        assert.deepEqual(ui.events, ['cvm-failed']);
        assert.equal(ui.cameraRequests, 0);
        assert.deepEqual(uploads(), []);
        await page.close();
      });
    }

    test('an unreachable gateway fails in words, with no Result and nothing sent', async () => {
      site.route('/attestation', (req) => { req.socket.destroy(); });
      const page = await openDemo();
      assert.equal(await settled(page), 'failed');
      const ui = await readWidget(page);
      assert.match(ui.message, /^Could not reach http:\/\/127\.0\.0\.1:\d+ to fetch the server’s attestation\. Check your connection and try again\. Nothing was captured or sent\./);
      assert.equal(ui.label, 'Could not check the server');
      assert.deepEqual(ui.summary, { hardware: 'skipped', code: 'skipped', fresh: 'skipped', settings: 'skipped', revocation: 'skipped' });
      assert.equal(ui.retryHidden, false);
      assert.equal(ui.cameraRequests, 0);
      assert.deepEqual(uploads(), []);
      // Check again, with the gateway back: verified.
      site.reset();
      site.cameraPicture = picture;
      await clickPart(page, 'retry');
      // The retry button hides while checking; the focus is on the badge, not lost.
      assert.equal(await page.evaluate(() => window.__test.root(document.querySelector('cvm-attest')).activeElement?.className), 'badge');
      await page.waitFor(() => document.querySelector('cvm-attest').getAttribute('state') === 'simulated');
      await page.close();
    });

    test('sealFor refuses a Result that did not verify, or was not produced by verifyGateway', async () => {
      const page = await openDemo(`?measurements=${'ab'.repeat(48)}`);
      const out = await page.evaluate(async () => {
        const { verifyGateway, sealFor, prepareSeal } = await import('../index.js');
        const bad = await verifyGateway({ gateway: '../', measurements: ['ab'.repeat(48)], trustSimulatedRoot: '../simulated/ark.pem', kdsProxy: '../simulated/kds' });
        const errs = [];
        for (const r of [bad, { ...bad, verified: true }]) {
          try { await sealFor(r, new Uint8Array([1])); errs.push(null); } catch (e) { errs.push(e.constructor.name); }
          try { await prepareSeal(r); errs.push(null); } catch (e) { errs.push(e.constructor.name); }
        }
        return { verified: bad.verified, errs };
      });
      assert.equal(out.verified, false);
      assert.deepEqual(out.errs, ['TypeError', 'TypeError', 'TypeError', 'TypeError']);
      await page.close();
    });

    test('sealFor: the verified key bytes, never the JSON read again; a swapped key or another suite is refused', async () => {
      const theirs = (await (await fetch(new URL(`attestation?nonce=${Buffer.alloc(32, 9).toString('base64url')}`, other.url))).json()).hpke.public_key;
      const page = await openDemo(`?badge-only&measurements=${'ab'.repeat(48)}`);
      const out = await page.evaluate(async ([measurement, theirs]) => {
        const { verifyGateway, sealFor, prepareSeal } = await import('../index.js');
        const opts = { gateway: '../', measurements: [measurement], trustSimulatedRoot: '../simulated/ark.pem', kdsProxy: '../simulated/kds' };
        const ok = await verifyGateway(opts);
        const sealed = await sealFor(ok, new Uint8Array([1, 2, 3]));
        // The evidence changed on its way in, by whoever sits between the page and the gateway.
        const changing = (change) => async (url, init) => {
          const res = await fetch(url, init);
          if (!String(url).includes('attestation?')) return res;
          const ev = await res.json();
          change(ev.hpke);
          return new Response(JSON.stringify(ev), { status: 200 });
        };
        const swapped = await verifyGateway({ ...opts, fetch: changing((h) => { h.public_key = theirs; }) });
        let refused;
        try { await sealFor(swapped, new Uint8Array([1])); } catch (e) { refused = e.constructor.name; }
        let refusedPrepare;
        try { await prepareSeal(swapped); } catch (e) { refusedPrepare = e.constructor.name; }
        // The suite names are not in REPORT_DATA, the key bytes are: a KEM renamed on the way verifies, and
        // sealing to those bytes under it fails in words; a KDF or AEAD the page does not use is refused.
        const suites = [];
        for (const change of [(h) => { h.kem = 'DHKEM-X25519-HKDF-SHA256'; }, (h) => { h.kdf = 'HKDF-SHA512'; }, (h) => { h.aead = 'ChaCha20Poly1305'; }]) {
          const r = await verifyGateway({ ...opts, fetch: changing(change) });
          // Set up ahead of time, it fails the same way, and so does the seal that would take it.
          const prepared = await prepareSeal(r).then(() => 'prepared', (e) => e.message);
          try { await sealFor(r, new Uint8Array([1])); suites.push([r.verified, 'sealed', prepared]); } catch (e) { suites.push([r.verified, e.message, prepared]); }
        }
        return {
          verified: ok.verified, keys: Object.keys(ok), sealedKeys: Object.keys(sealed), kem: sealed.kem,
          swappedVerified: swapped.verified, swappedReportData: swapped.checks.find((c) => c.name === 'reportData').outcome, refused, refusedPrepare, suites,
        };
      }, [simulatedMeasurement, theirs]);
      assert.equal(out.verified, true);
      assert.ok(!out.keys.includes('sealTo'), 'the key handed back by the wasm is not on the page\'s Result');
      assert.deepEqual(out.sealedKeys, ['version', 'report_sha384', 'kem', 'ciphertext']);
      assert.equal(out.kem, 'MLKEM768-X25519');
      assert.equal(out.swappedVerified, false);
      assert.equal(out.swappedReportData, 'fail');
      assert.equal(out.refused, 'TypeError');
      assert.equal(out.refusedPrepare, 'TypeError', 'no context is set up to a key the report does not bind');
      assert.deepEqual(out.suites.map(([v]) => v), [true, true, true]);
      for (const [, sealed, prepared] of out.suites) assert.equal(prepared, sealed);
      assert.match(out.suites[0][1], /^Could not encrypt to the server’s key \(DHKEM-X25519-HKDF-SHA256\).*Nothing was sent\.$/);
      assert.match(out.suites[1][1], /^The server offers an encryption suite this page does not use \(MLKEM768-X25519, HKDF-SHA512, AES-256-GCM\)/);
      assert.match(out.suites[2][1], /^The server offers an encryption suite this page does not use .*ChaCha20Poly1305/);
      await page.close();
    });

    test('uploads sealed in the page open in the Go gateway, for both KEMs; a changed ciphertext or a forged receipt is refused', async () => {
      const x25519 = await startSimulatedGateway(['--kem', 'DHKEM-X25519-HKDF-SHA256']);
      try {
        for (const [g, kem, encSize] of [[other, 'MLKEM768-X25519', 1120], [x25519, 'DHKEM-X25519-HKDF-SHA256', 32]]) {
          const page = await browser.newPage();
          await page.goto(new URL(`demo/?badge-only&measurements=${'ab'.repeat(48)}`, g.url).href);
          const out = await page.evaluate(async (measurement) => {
            const { verifyGateway, sealFor, prepareSeal } = await import('../index.js');
            const { CipherSuite } = await import('../dist/hpke.js');
            const create = CipherSuite.prototype.createSenderContext;
            let contexts = 0;
            CipherSuite.prototype.createSenderContext = function (...args) {
              contexts++;
              return create.apply(this, args);
            };
            const result = await verifyGateway({ gateway: '../', measurements: [measurement], trustSimulatedRoot: '../simulated/ark.pem', kdsProxy: '../simulated/kds' });
            const canvas = document.createElement('canvas');
            canvas.width = 64;
            canvas.height = 48;
            const ctx = canvas.getContext('2d');
            for (let i = 0; i < 48; i++) { ctx.fillStyle = i % 3 ? '#222' : '#ddd'; ctx.fillRect((i * 7) % 64, (i * 5) % 48, 16, 12); }
            const png = new Uint8Array(await (await new Promise((resolve) => canvas.toBlob(resolve, 'image/png'))).arrayBuffer());
            let bin = '';
            for (const b of png) bin += String.fromCharCode(b);
            const plaintext = new TextEncoder().encode(JSON.stringify({ content_type: 'image/png', image: btoa(bin), width: 64, height: 48 }));
            const post = (body) => fetch('../enroll', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
            // The upload is sealed with a context set up ahead (asked for twice: the same one); the next seal,
            // the one tampered with below, sets up its own.
            await prepareSeal(result);
            await prepareSeal(result);
            const prepared = contexts;
            const request = await sealFor(result, plaintext);
            const afterPrepared = contexts;
            // A ciphertext with one byte changed must not open.
            const tampered = await sealFor(result, plaintext);
            const ct = Uint8Array.from(atob(tampered.ciphertext), (c) => c.charCodeAt(0));
            ct[ct.length - 1] ^= 1;
            const bad = await post({ ...tampered, ciphertext: btoa(String.fromCharCode(...ct)) });
            const encOf = (r) => r.ciphertext.slice(0, 64);
            const res = await post(request);
            const receipt = await res.json();
            const check = (r) => request.verifyReceipt(r).then((x) => x.status, (e) => e.code);
            const forged = { ...receipt, mac: btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32)))) };
            return {
              verified: result.verified, kem: request.kem, enc: Uint8Array.from(atob(request.ciphertext), (c) => c.charCodeAt(0)).length - plaintext.length - 16,
              badStatus: bad.status, status: res.status, receipt, checked: await check(receipt), forged: await check(forged),
              contexts: [prepared, afterPrepared, contexts], sameEnc: encOf(request) === encOf(tampered),
            };
          }, simulatedMeasurement);
          assert.equal(out.verified, true);
          assert.equal(out.kem, kem);
          assert.equal(out.enc, encSize, `${kem}: the encapsulation is ${encSize} bytes`);
          assert.deepEqual(out.contexts, [1, 1, 2], `${kem}: the prepared context sealed the first upload, a new one the second`);
          assert.equal(out.sameEnc, false, `${kem}: two seals never share an encapsulation`);
          assert.ok(out.badStatus >= 400 && out.badStatus < 500, `${kem}: a changed ciphertext is refused (HTTP ${out.badStatus})`);
          assert.equal(out.status, 200, `${kem}: the gateway opened the upload (${JSON.stringify(out.receipt)})`);
          assert.equal(out.receipt.status, 'enrolled');
          assert.equal(typeof out.receipt.mac, 'string', `${kem}: the gateway MACs its receipt`);
          assert.equal(out.checked, 'enrolled', `${kem}: the gateway's receipt MAC verifies`);
          assert.equal(out.forged, 'receipt_invalid', `${kem}: a receipt with another MAC is refused`);
          await page.close();
        }
      } finally {
        await x25519.stop();
      }
    });

    test('verifyGateway with manifests: the recomputed release, or a rejection for a tampered one', async () => {
      const page = await openDemo('?badge-only');
      const tampered = structuredClone(demoManifest);
      tampered.kernel.sha256 = flipHex(tampered.kernel.sha256);
      const out = await page.evaluate(async ([good, bad]) => {
        const { verifyGateway, loadManifest, sealFor } = await import('../index.js');
        const opts = { gateway: '../', trustSimulatedRoot: '../simulated/ark.pem', kdsProxy: '../simulated/kds' };
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

    test('element API: define under another tag, attributes reflect to typed properties, state is set by the element', async () => {
      const page = await browser.newPage();
      // An empty page on the site's origin; nothing registered yet.
      await page.goto(new URL('demo/missing.html', site.url).href);
      const out = await page.evaluate(async (measurement) => {
        const mod = await import('../index.js');
        const before = customElements.get('cvm-attest') ?? null;
        mod.CvmAttestElement.define('my-attest');
        mod.CvmAttestElement.define('my-attest'); // twice is harmless
        const el = document.createElement('my-attest');
        const defaults = { vmpl: el.vmpl, minTcb: el.minTcb, tcbBelowBulletinsUnsafe: el.tcbBelowBulletinsUnsafe, minGuestSvn: el.minGuestSvn, uncheckedRevocationUnsafe: el.uncheckedRevocationUnsafe, requireNoSmt: el.requireNoSmt, badgeOnly: el.badgeOnly, timeout: el.timeout };
        el.vmpl = null;
        const anyVmpl = [el.getAttribute('vmpl'), el.vmpl];
        el.vmpl = 2;
        el.minTcb = { bl: 3, tee: 0, snp: 14, ucode: 209 };
        const tcb = [el.getAttribute('min-tcb'), el.minTcb];
        el.minTcb = null;
        el.uncheckedRevocationUnsafe = true;
        el.tcbBelowBulletinsUnsafe = true;
        el.requireNoSmt = true;
        el.minGuestSvn = 4;
        el.timeout = 5;
        const set = ['vmpl', 'unchecked-revocation-unsafe', 'tcb-below-bulletins-unsafe', 'require-no-smt', 'min-guest-svn', 'timeout', 'min-tcb'].map((a) => el.getAttribute(a));
        // The simulated platform has old firmware and no CRL: the two unsafe attributes stay, on purpose.
        for (const a of ['vmpl', 'require-no-smt', 'min-guest-svn', 'timeout']) el.removeAttribute(a);
        el.badgeOnly = true;
        el.gateway = '../';
        el.measurements = `demo=${measurement}`;
        el.trustSimulatedRoot = '../simulated/ark.pem';
        const attrs = ['gateway', 'measurements', 'trust-simulated-root', 'badge-only'].map((a) => el.getAttribute(a));
        const verified = new Promise((resolve) => document.addEventListener('cvm-verified', (e) => resolve(e.target.localName)));
        document.body.append(el);
        const initial = el.getAttribute('state');
        const target = await verified;
        el.trustSimulatedRoot = '';
        const removed = el.hasAttribute('trust-simulated-root');
        return {
          before, defaults, anyVmpl, tcb, set, attrs, initial, target, state: el.state, removed,
          exports: Object.keys(mod).sort(),
          parsed: mod.parseMeasurements(' a=AB, 0xcd ,'),
        };
      }, simulatedMeasurement);
      assert.equal(out.before, null, 'index.js registers nothing');
      assert.deepEqual(out.defaults, { vmpl: 0, minTcb: null, tcbBelowBulletinsUnsafe: false, minGuestSvn: 0, uncheckedRevocationUnsafe: false, requireNoSmt: false, badgeOnly: false, timeout: 20 });
      assert.deepEqual(out.anyVmpl, ['any', null]);
      assert.deepEqual(out.tcb, ['bl=3,tee=0,snp=14,ucode=209', { bl: 3, tee: 0, snp: 14, ucode: 209 }]);
      assert.deepEqual(out.set, ['2', '', '', '', '4', '5', null]);
      assert.deepEqual(out.attrs, ['../', `demo=${simulatedMeasurement}`, '../simulated/ark.pem', '']);
      assert.equal(out.initial, 'verifying');
      assert.equal(out.target, 'my-attest');
      assert.ok(['simulated', 'verifying'].includes(out.state), out.state);
      assert.equal(out.removed, false);
      assert.deepEqual(out.exports, ['CvmAttestElement', 'CvmEnrolledEvent', 'CvmFailedEvent', 'CvmVerifiedEvent', 'enroll', 'loadManifest', 'loadRelease', 'loadVerifier', 'parseMeasurements', 'parseMinTCB', 'prepareSeal', 'releaseAttributes', 'sealFor', 'summarize', 'verifyGateway']);
      assert.deepEqual(out.parsed, [{ name: 'a', measurement: 'ab' }, { name: '', measurement: 'cd' }]);
      // Removing the simulated root re-verified, and now it fails.
      assert.equal(await settled(page, 'my-attest'), 'failed');
      await page.close();
    });
  });
}
