#!/usr/bin/env node
// Takes a screenshot of each <cvm-attest> state for web/README.md, into
// docs/widget-*.png, and the demo page at a phone's size (390×844 CSS
// pixels) into docs/phone-*.png. Run after ./scripts/build-wasm.sh:
//   node scripts/widget-screenshots.mjs
//
// verifying, simulated, enrolled, failed, could-not-check, camera-refused
// and badge-only come from the demo page against the simulated gateway. "verified" needs a genuine AMD report, which no
// gateway here can produce for a fresh nonce: that shot shows the real
// oak-genoa report of testdata/snp-reports verified in the page against the
// pinned AMD roots, with its own REPORT_DATA standing in for the nonce
// binding (the only check that differs from a live gateway).
import fs from 'node:fs';
import path from 'node:path';
import { launchBrowser, startSimulatedGateway, settledState, repoRoot } from '../test/lib/browser.mjs';

const outDir = path.join(repoRoot, 'docs');
fs.mkdirSync(outDir, { recursive: true });
const gw = await startSimulatedGateway();
const browser = await launchBrowser();

async function shoot(name, page) {
  const file = path.join(outDir, `widget-${name}.png`);
  await page.locator('cvm-attest').screenshot({ path: file });
  console.log(file, fs.statSync(file).size, 'bytes');
}

async function shootPhone(name, page) {
  const file = path.join(outDir, `phone-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  console.log(file, fs.statSync(file).size, 'bytes');
}

// The phone shots enroll the same picture again: a gateway of their own says "enrolled", not "already".
const phoneGateway = await startSimulatedGateway();

async function demo(query = '', setup, { phone = false } = {}) {
  const page = await browser.context.newPage();
  await page.setViewportSize(phone ? { width: 390, height: 844 } : { width: 720, height: 900 });
  if (setup) await setup(page);
  await page.goto(new URL(`demo/${query}`, (phone ? phoneGateway : gw).url).href);
  return page;
}

// The element's shadow root is closed; launchBrowser's pages record it (window.__test.root).
const clickIn = (page, name) => page.evaluate((n) => window.__test.root(document.querySelector('cvm-attest')).querySelector(`.${n}`).click(), name);
const expand = (page) => clickIn(page, 'badge');
const cameraLive = (page) => page.waitForFunction(() => !window.__test.root(document.querySelector('cvm-attest')).querySelector('.capture').disabled);

try {
  // verifying: hold the evidence back.
  let release;
  const held = new Promise((r) => { release = r; });
  let page = await demo('', (p) => p.route('**/attestation?*', async (route) => { await held; await route.continue(); }));
  await page.waitForTimeout(300);
  await shoot('verifying', page);
  release();
  await page.close();

  // simulated, details open.
  page = await demo();
  await settledState(page);
  await cameraLive(page);
  await expand(page);
  await shoot('simulated', page);
  // enrolled: capture and receipt.
  await expand(page);
  await clickIn(page, 'capture');
  await page.waitForFunction(() => document.querySelector('cvm-attest').receipt);
  await shoot('enrolled', page);
  await page.close();

  // failed: a measurement the page does not expect, details open.
  page = await demo(`?measurements=expected-release=${'ab'.repeat(48)}`);
  await settledState(page);
  await expand(page);
  await shoot('failed', page);
  await page.close();

  // could not check: the gateway does not answer.
  page = await demo('', (p) => p.route('**/attestation?*', (route) => route.abort('connectionrefused')));
  await settledState(page);
  await shoot('could-not-check', page);
  await page.close();

  // camera refused: the person said no.
  const refuseCamera = (p) => p.addInitScript(() => {
    MediaDevices.prototype.getUserMedia = async () => { throw new DOMException('Permission denied', 'NotAllowedError'); };
  });
  page = await demo('', refuseCamera);
  await settledState(page);
  await page.waitForFunction(() => window.__test.root(document.querySelector('cvm-attest')).querySelector('.capture').textContent === 'Try the camera again');
  await shoot('camera-refused', page);
  await page.close();

  // badge only: no camera at all.
  page = await demo('?badge-only');
  await settledState(page);
  await shoot('badge-only', page);
  await page.close();

  // A phone: the demo page as a whole, verified and after capture, and rejected.
  page = await demo('', null, { phone: true });
  await settledState(page);
  await cameraLive(page);
  await shootPhone('simulated', page);
  await clickIn(page, 'capture');
  await page.waitForFunction(() => document.querySelector('cvm-attest').receipt);
  await shootPhone('enrolled', page);
  await page.close();
  page = await demo(`?measurements=expected-release=${'ab'.repeat(48)}`, null, { phone: true });
  await settledState(page);
  await shootPhone('failed', page);
  await page.close();

  // verified: a real AMD report (see the comment at the top).
  const dir = path.join(repoRoot, 'testdata/snp-reports/oak-genoa');
  const kase = JSON.parse(fs.readFileSync(path.join(dir, 'case.json'), 'utf8'));
  const evidence = JSON.stringify({
    version: 1,
    report: fs.readFileSync(path.join(dir, 'report.bin')).toString('base64'),
    certs: { vcek: fs.readFileSync(path.join(dir, 'vcek.der')).toString('base64'), chain: fs.readFileSync(path.join(dir, 'chain.pem'), 'utf8') },
    // A placeholder: protocol v1 evidence carries a key, and this one is never sealed to.
    hpke: { kem: 'MLKEM768-X25519', kdf: 'HKDF-SHA256', aead: 'AES-256-GCM', public_key: Buffer.alloc(1216, 1).toString('base64') },
  });
  page = await demo(`?measurements=oak-genoa=${kase.measurement}&trust-simulated-root=`, async (p) => {
    await p.route('**/attestation?*', (route) => route.fulfill({ status: 200, contentType: 'application/json', body: evidence }));
    await p.addInitScript((reportData) => {
      // Swap the nonce binding for the report's own REPORT_DATA.
      Object.defineProperty(globalThis, 'cvmtrust', {
        configurable: true,
        set(ns) {
          const verify = ns.verify;
          ns.verify = (ev, { nonce, ...exp }) => verify(ev, { ...exp, reportData });
          Object.defineProperty(globalThis, 'cvmtrust', { value: ns, configurable: true, writable: true });
        },
      });
    }, kase.report_data);
  });
  const state = await settledState(page);
  if (state !== 'verified') throw new Error(`oak-genoa did not verify: ${state}`);
  await cameraLive(page);
  await expand(page);
  await shoot('verified', page);
  await page.close();
} finally {
  await browser.close();
  await gw.stop();
  await phoneGateway.stop();
}
