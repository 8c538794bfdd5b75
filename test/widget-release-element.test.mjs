// <cvm-attest> with a signed release: the demo page pins the release signer
// (this repository's release workflow), fetches the bundle the simulated
// gateway serves, verifies it in the wasm and expects the launch digest of
// the signed manifest. A wrong identity, another repository, a tampered
// manifest, a bundle for another release's artifacts and a too-old release
// each leave capture disabled, the camera untouched and nothing sent, with
// the reason in words.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { launchBrowser, startWidgetGateway, settledState, recordAPI, countCameraRequests, repoRoot } from './lib/browser.mjs';

let browser;
let gw;
let tmp;
let fixtures;

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cvmtrust-release-el-'));
  execFileSync('go', ['run', './sigstore/simulated/cmd/release-fixtures', '--manifest', 'measure/testdata/demo-release.json', '--out', tmp],
    { cwd: repoRoot, stdio: ['ignore', 'ignore', 'inherit'] });
  fixtures = JSON.parse(fs.readFileSync(path.join(tmp, 'cases.json'), 'utf8'));
  gw = await startWidgetGateway();
  browser = await launchBrowser({ videoFile: gw.y4m });
  await countCameraRequests(browser.context);
});

after(async () => {
  await browser?.close();
  await gw?.stop();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

/** Opens the demo page; with a fixture case, the gateway's bundle and root are replaced by the fixtures'. */
async function openDemo({ fixture, query = '' } = {}) {
  const page = await browser.context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e));
  if (fixture) {
    const file = fixtures.cases.find((c) => c.name === fixture).file;
    await page.route('**/release/bundle.sigstore.json', (route) => route.fulfill({ status: 200, contentType: 'application/json', body: fs.readFileSync(path.join(tmp, file)) }));
    await page.route('**/simulated/sigstore-trusted-root.json', (route) => route.fulfill({ status: 200, contentType: 'application/json', body: fs.readFileSync(path.join(tmp, fixtures.trustedRoot)) }));
  }
  const api = recordAPI(page, gw.url);
  await page.goto(new URL(`demo/${query}`, gw.url).href);
  const state = await settledState(page);
  const ui = await page.$eval('cvm-attest', (el) => ({
    disabled: el.shadowRoot.querySelector('[part~="capture"]').disabled,
    label: el.shadowRoot.querySelector('[part~="badge-label"]').textContent,
    message: el.shadowRoot.querySelector('[part~="message"]').textContent,
    warning: el.shadowRoot.querySelector('[part~="warning"]')?.textContent ?? '',
    facts: el.shadowRoot.querySelector('[part~="facts"]').textContent,
    checks: el.shadowRoot.querySelector('[part~="checks"]').textContent,
    release: el.result?.release ?? null,
    reflected: { repository: el.releaseRepository, ref: el.releaseRef },
  }));
  return { page, state, ui, api, errors };
}

test('the demo verifies its signed release and says what it is, and that Sigstore is SIMULATED', async () => {
  const { page, state, ui, errors } = await openDemo();
  assert.equal(state, 'simulated');
  // Capture is enabled once the server and its release verified and the camera started.
  await page.waitForFunction(() => !document.querySelector('cvm-attest').shadowRoot.querySelector('[part~="capture"]').disabled, null, { timeout: 10000 });
  assert.match(ui.label, /SIMULATED/);
  assert.match(ui.warning, /SIMULATED Sigstore instance/);
  assert.deepEqual(ui.reflected, { repository: 'cvmtrust/cvmtrust', ref: 'refs/tags/*' });
  for (const want of ['Repository', 'https://github.com/cvmtrust/cvmtrust', 'Commit', 'Workflow', '.github/workflows/release.yml',
    'Tag', 'cvmtrust-demo-simulated', 'Transparency log', 'entry ', 'recomputed in this browser', 'SIMULATED Sigstore instance']) {
    assert.ok(ui.facts.includes(want), `details show ${want}: ${ui.facts}`);
  }
  assert.equal(ui.release.measurement, fixtures.cases.find((c) => c.name === 'release').measurement);
  assert.equal(ui.release.simulated, true);
  assert.deepEqual(errors, []);
  await page.close();
});

// What each refusal must say; the words are the wasm's plain reasons, or
// the attestation's for a release whose measurement the server does not run.
const refusals = [
  ['wrong-issuer', 'a wrong identity (another OIDC issuer)', /another sign-in provider/],
  ['other-workflow', 'a wrong identity (another workflow)', /someone other than the signer|another workflow/],
  ['other-repository', 'another repository', /someone other than the signer|another repository/],
  ['tampered-manifest', 'a tampered manifest inside the statement', /does not add up/],
  ['other-release', "a bundle for another release's artifacts", /not running the software this page expects/],
  ['too-old', 'a too-old release', /longer ago than this page accepts/, '?release-max-age=90d'],
];

for (const [fixture, what, words, query] of refusals) {
  test(`${what}: capture disabled, nothing asked or sent, the reason in words`, async () => {
    const { page, state, ui, api } = await openDemo({ fixture, query });
    assert.equal(state, 'failed');
    assert.equal(ui.disabled, true);
    assert.match(ui.message, words, `message: ${ui.message}`);
    assert.match(ui.message, /nothing was captured or sent/i);
    assert.doesNotMatch(ui.message, /cvmtrust\.|Err[A-Z]|undefined/);
    assert.equal(await page.evaluate(() => window.__cameraRequests), 0);
    assert.deepEqual(api.filter((r) => r.path === '/enroll'), []);
    if (fixture !== 'other-release') {
      assert.match(ui.label, /release not proven/);
      assert.ok(ui.checks.length > 0, 'the Sigstore checks are listed in the details');
    }
    await page.close();
  });
}

test('without the simulated Sigstore root the demo release is refused', async () => {
  const { page, state, ui } = await openDemo({ query: '?release-repository=cvmtrust/cvmtrust&release-ref=refs/tags/*' });
  assert.equal(state, 'failed');
  assert.equal(ui.disabled, true);
  assert.match(ui.message, /certificate authority|transparency log/);
  await page.close();
});
