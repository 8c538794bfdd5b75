// <cvm-attest> with a signed release, in every engine of CVMTRUST_BROWSERS
// (Chromium, Firefox ESR, WebKitGTK): the demo page pins the release signer
// (this repository's release workflow), fetches the bundle the simulated
// gateway serves, verifies it in the wasm and expects the launch digest of
// the signed manifest. A wrong identity, another repository, a tampered
// manifest, a bundle for another release's artifacts and a too-old release
// each leave capture disabled, the camera untouched and nothing sent, with
// the reason in words. The bundle and the simulated trusted root are
// replaced by a test site in front of the gateway, the same way for every
// engine.
import { describe, test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { launchEngine, selectedEngines, startWidgetGateway, readWidget, settled, repoRoot } from './lib/browser.mjs';
import { startTestSite } from './lib/testsite.mjs';

// The simulated release cases, written once for every engine.
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cvmtrust-release-el-'));
process.once('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));
execFileSync('go', ['run', './sigstore/simulated/cmd/release-fixtures', '--manifest', 'measure/testdata/demo-release.json', '--out', tmp],
  { cwd: repoRoot, stdio: ['ignore', 'ignore', 'inherit'] });
const fixtures = JSON.parse(fs.readFileSync(path.join(tmp, 'cases.json'), 'utf8'));

// The earlier release of the old-release case: the manifest inside its signed statement.
const oldRelease = fixtures.cases.find((c) => c.name === 'old-release');
const oldManifestFile = path.join(tmp, 'old-release.json');
fs.writeFileSync(oldManifestFile, JSON.stringify(JSON.parse(Buffer.from(
  JSON.parse(fs.readFileSync(path.join(tmp, oldRelease.file), 'utf8')).dsseEnvelope.payload, 'base64').toString('utf8')).predicate));

let gw;      // test/widgetgateway: the simulated gateway with its signed demo release
let site;    // the test site in front of gw, for every engine
let oldGw;   // a gateway rolled back to the earlier release, signed 600 days ago
let oldSite; // the test site in front of oldGw
before(async () => {
  gw = await startWidgetGateway();
  site = await startTestSite(gw.url);
  oldGw = await startWidgetGateway({ releaseManifest: oldManifestFile });
  oldSite = await startTestSite(oldGw.url);
});
after(async () => {
  await site?.close();
  await gw?.stop();
  await oldSite?.close();
  await oldGw?.stop();
});

/** Serves path with a file of the fixtures instead of the gateway's answer (on the test site on). */
function serveFixture(pathname, file, on = site) {
  const body = fs.readFileSync(path.join(tmp, file));
  on.route(pathname, (req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
    res.end(body);
  });
}

// What each refusal must say; the words are the wasm's plain reasons, or
// the attestation's for a release whose measurement the server does not run.
const refusals = [
  ['wrong-issuer', 'a wrong identity (another OIDC issuer)', /another sign-in provider/],
  ['other-workflow', 'a wrong identity (another workflow)', /someone other than the signer|another workflow/],
  ['other-repository', 'another repository', /someone other than the signer|another repository/],
  ['tampered-manifest', 'a tampered manifest inside the statement', /does not add up/],
  ['other-release', "a bundle for another release's artifacts", /not running the software this page expects/],
  ['too-old', 'a too-old release', /longer ago than this page accepts/, { 'release-max-age': '30d' }],
  ['misnamed', 'a release signed from another tag than its name', /name is not the tag it was built from/],
];

for (const engine of selectedEngines()) {
  describe(engine, { timeout: 180000 }, () => {
    let browser;

    before(async () => { browser = await launchEngine(engine); });
    after(async () => {
      await closeRefusalPage().catch(() => {});
      await browser?.close();
    });
    beforeEach(() => site.reset());

    /** Opens the demo page with query; resolves when the element settled. */
    async function openDemo(query = '') {
      const page = await browser.newPage();
      await page.goto(new URL(`demo/${query}`, site.url).href);
      const state = await settled(page);
      const ui = await readWidget(page);
      const more = await page.evaluate(() => {
        const el = document.querySelector('cvm-attest');
        return {
          checks: window.__test.root(el).querySelector('.checks').textContent,
          release: el.result?.release ?? null,
          reflected: { repository: el.releaseRepository, ref: el.releaseRef },
        };
      });
      return { page, state, ui: { ...ui, ...more } };
    }

    const uploads = () => site.requests.filter((r) => r.path === '/enroll');

    test('the demo verifies its signed release and says what it is, and that Sigstore is SIMULATED', async () => {
      const { page, state, ui } = await openDemo();
      assert.equal(state, 'simulated');
      // The gateway's own bundle was fetched and checked, not a fixture's.
      assert.ok(site.requests.some((r) => r.path === '/release/bundle.sigstore.json'), 'the page fetched the release bundle');
      // Capture is enabled once the server and its release verified and the camera started.
      await page.waitFor(() => !window.__test.root(document.querySelector('cvm-attest')).querySelector('.capture').disabled, null, { timeout: 20000 });
      assert.match(ui.label, /SIMULATED/);
      assert.match(ui.warning, /SIMULATED Sigstore instance/);
      assert.deepEqual(ui.reflected, { repository: 'cvmtrust/cvmtrust', ref: 'refs/tags/*' });
      for (const want of ['Repository', 'https://github.com/cvmtrust/cvmtrust', 'Commit', 'Workflow', '.github/workflows/release.yml',
        'Tag', 'cvmtrust-demo-simulated', 'Transparency log', 'entry ', 'recomputed in this browser', 'SIMULATED Sigstore instance']) {
        assert.ok(ui.facts.includes(want), `details show ${want}: ${ui.facts}`);
      }
      assert.equal(ui.release.measurement, fixtures.cases.find((c) => c.name === 'release').measurement);
      assert.equal(ui.release.simulated, true);
      assert.equal(ui.release.recomputed, true);
      assert.deepEqual(ui.events, ['cvm-verified']);
      assert.deepEqual(ui.errors, []);
      assert.deepEqual(uploads(), []);
      await page.close();
    });

    // The refusals share one page: the first opens the demo with its case,
    // each later one serves its case and has the element check again
    // (a retry, or a changed attribute), so the wasm is loaded once. Each
    // must leave the element failed in its own words, not the last case's.
    let refusalPage = null;
    let refusalAttrs = {};
    async function closeRefusalPage() {
      await refusalPage?.close();
      refusalPage = null;
    }

    /** Serves fixture and checks again in the refusal page with attrs; resolves with what the element shows after. */
    async function refuse(fixture, attrs) {
      serveFixture('/release/bundle.sigstore.json', fixtures.cases.find((c) => c.name === fixture).file);
      serveFixture('/simulated/sigstore-trusted-root.json', fixtures.trustedRoot);
      let eventsBefore = 0;
      if (!refusalPage) {
        refusalPage = await browser.newPage();
        await refusalPage.goto(new URL(`demo/?${new URLSearchParams(attrs)}`, site.url).href);
        await settled(refusalPage);
      } else {
        eventsBefore = (await readWidget(refusalPage)).events.length;
        const outcome = await refusalPage.evaluate(async ({ attrs, previous }) => {
          const el = document.querySelector('cvm-attest');
          const done = new Promise((resolve) => {
            for (const type of ['cvm-failed', 'cvm-verified']) el.addEventListener(type, () => resolve(type), { once: true });
            setTimeout(() => resolve('timed out'), 30000);
          });
          let changed = false;
          for (const name of Object.keys(previous)) if (!(name in attrs)) { el.removeAttribute(name); changed = true; }
          for (const [name, value] of Object.entries(attrs)) if (el.getAttribute(name) !== value) { el.setAttribute(name, value); changed = true; }
          // A changed attribute checks again by itself; otherwise the retry button does.
          if (!changed) window.__test.root(el).querySelector('.retry').click();
          return done;
        }, { attrs, previous: refusalAttrs });
        assert.notEqual(outcome, 'timed out', `${fixture}: the element did not finish checking again`);
      }
      refusalAttrs = attrs;
      const ui = await readWidget(refusalPage);
      const checks = await refusalPage.evaluate(() => window.__test.root(document.querySelector('cvm-attest')).querySelector('.checks').textContent);
      return { state: ui.state, ui: { ...ui, checks, events: ui.events.slice(eventsBefore) } };
    }

    for (const [fixture, what, words, attrs = {}] of refusals) {
      test(`${what}: capture disabled, nothing asked or sent, the reason in words`, async () => {
        const { state, ui } = await refuse(fixture, attrs);
        assert.equal(state, 'failed');
        assert.ok(site.requests.some((r) => r.path === '/release/bundle.sigstore.json'), 'the page fetched the release bundle');
        assert.equal(ui.capture.disabled, true);
        assert.equal(ui.cameraHidden, true, 'no camera part');
        assert.equal(ui.live, false, 'no camera preview');
        assert.match(ui.message, words, `message: ${ui.message}`);
        assert.match(ui.message, /nothing was captured or sent/i);
        assert.doesNotMatch(ui.message, /cvmtrust\.|Err[A-Z]|undefined/);
        assert.equal(ui.cameraRequests, 0, 'camera never requested');
        assert.deepEqual(uploads(), [], 'no request to /enroll');
        assert.deepEqual(ui.events, ['cvm-failed']);
        assert.deepEqual(ui.errors, []);
        if (fixture !== 'other-release') {
          assert.match(ui.label, /release not proven/);
          assert.ok(ui.checks.length > 0, 'the Sigstore checks are listed in the details');
        }
      });
    }

    // A rollback: the server runs an earlier release, validly signed by the release workflow 600 days ago
    // (its measurement is not the current release's). A page that says nothing about age refuses it.
    test('a 600-day-old signed release is refused by default; accepted only with release-max-age-unsafe, and release-min refuses it again', async () => {
      await closeRefusalPage();
      oldSite.reset();
      serveFixture('/release/bundle.sigstore.json', oldRelease.file, oldSite);
      serveFixture('/simulated/sigstore-trusted-root.json', fixtures.trustedRoot, oldSite);
      const open = async (query) => {
        const page = await browser.newPage();
        await page.goto(new URL(`demo/${query}`, oldSite.url).href);
        const state = await settled(page);
        const ui = await readWidget(page);
        await page.close();
        return { state, ui };
      };
      const byDefault = await open('');
      assert.equal(byDefault.state, 'failed');
      assert.match(byDefault.ui.message, /longer ago than this page accepts/);
      assert.equal(byDefault.ui.cameraRequests, 0, 'camera never requested');
      assert.match(byDefault.ui.facts, /maxAge/);

      const anyAge = await open('?release-max-age-unsafe=none');
      assert.equal(anyAge.state, 'simulated', `with release-max-age-unsafe=none: ${anyAge.ui.message}`);
      assert.match(anyAge.ui.facts, /Release age limit.*none: a release of any age is accepted/);
      assert.match(anyAge.ui.facts, new RegExp(`Tag${JSON.parse(fs.readFileSync(oldManifestFile, 'utf8')).release}`));

      const min = new Date(Date.now() - 86400 * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
      const withMin = await open(`?release-max-age-unsafe=none&release-min=${min}`);
      assert.equal(withMin.state, 'failed');
      assert.match(withMin.ui.message, /older than the lowest release this page accepts/);

      const tooLong = await open('?release-max-age=400d');
      assert.equal(tooLong.state, 'failed');
      assert.match(tooLong.ui.message, /^This page is set up wrong: release-max-age \(maxAgeSeconds\) of 400 days is longer than 90 days/);
      assert.deepEqual(oldSite.requests.filter((r) => r.path === '/enroll'), []);
    });

    test('without the simulated Sigstore root the demo release is refused', async () => {
      await closeRefusalPage();
      const { page, state, ui } = await openDemo('?release-repository=cvmtrust/cvmtrust&release-ref=refs/tags/*');
      assert.equal(state, 'failed');
      assert.equal(ui.capture.disabled, true);
      assert.equal(ui.cameraRequests, 0, 'camera never requested');
      assert.match(ui.message, /certificate authority|transparency log/);
      await page.close();
    });
  });
}
