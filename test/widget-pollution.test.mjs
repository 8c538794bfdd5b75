// A polluted Object.prototype changes nothing the widget decides, in every
// engine of CVMTRUST_BROWSERS: any library's bug (or a hostile script) that
// sets Object.prototype.policy = { allowDebug: true } must not make a debug
// guest pass, nor any other inherited property read as an option. Every
// option name of the JS API, of the wasm's arguments and of the evidence is
// set on Object.prototype with the value that would loosen a check or
// reroute a load, and the verdicts must be exactly those of the clean page.
import { describe, test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { launchEngine, selectedEngines, startWidgetGateway, readWidget, settled, repoRoot, withoutClock } from './lib/browser.mjs';
import { startTestSite } from './lib/testsite.mjs';

const debugDir = path.join(repoRoot, 'testdata/debug-guest');
const debugEvidence = fs.readFileSync(path.join(debugDir, 'evidence.json'), 'utf8');
const debugARK = fs.readFileSync(path.join(debugDir, 'ark.pem'), 'utf8');
const debugCase = JSON.parse(fs.readFileSync(path.join(debugDir, 'case.json'), 'utf8'));
const demoManifest = JSON.parse(fs.readFileSync(path.join(repoRoot, 'measure/testdata/demo-release.json'), 'utf8'));

// A signed release and its simulated trusted root, for verifyRelease.
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cvmtrust-pollution-'));
process.once('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));
execFileSync('go', ['run', './sigstore/simulated/cmd/release-fixtures', '--manifest', 'measure/testdata/demo-release.json', '--out', tmp],
  { cwd: repoRoot, stdio: ['ignore', 'ignore', 'inherit'] });
const fixtures = JSON.parse(fs.readFileSync(path.join(tmp, 'cases.json'), 'utf8'));
const sigstoreRoot = fs.readFileSync(path.join(tmp, fixtures.trustedRoot), 'utf8');
const releaseBundle = fs.readFileSync(path.join(tmp, fixtures.cases.find((c) => c.name === 'release').file), 'utf8');

/**
 * The script that pollutes Object.prototype with every option name, each
 * with a value that would loosen a check or send a load elsewhere. Run in
 * the page before anything else. ark: a root PEM an attacker would have
 * trusted; evil: where a rerouted load would go.
 */
function pollutionScript({ ark, reportData, measurement }) {
  const values = {
    // The wasm's expectation (wasm/decode.go) and its nested objects.
    measurements: [measurement], anyMeasurementUnsafe: true, nonce: 'AAAA', reportData, vmpl: null,
    minTcb: { bl: 0, tee: 0, snp: 0, ucode: 0, fmc: 0 }, minGuestSvn: 0,
    policy: { allowDebug: true, allowMigrationAgent: true, requireNoSmt: false, minAbiMajor: 0, minAbiMinor: 0 },
    allowDebug: true, allowMigrationAgent: true, requireNoSmt: false, minAbiMajor: 0, minAbiMinor: 0,
    bl: 0, tee: 0, snp: 0, ucode: 0, fmc: 0,
    hostData: '00', idKeyDigest: '00', requireRevocationCheck: false, simulatedRoot: ark, kdsProxy: '/__test/evil-kds',
    bulletinTcbFloor: false,
    // The evidence (protocol v1).
    version: 1, report: 'AAAA', certs: { chain: ark }, vcek: 'AAAA', vlek: 'AAAA', chain: ark,
    hpke: { kem: 'x', public_key: 'AAAA' }, kem: 'x', kdf: 'x', aead: 'x', public_key: 'AAAA',
    // The release policy (wasm/release.go).
    issuer: 'https://evil.example', identity: 'evil', identityRegexp: '.*', repository: 'evil/evil', refPattern: '*',
    workflow: 'evil.yml', maxAgeSeconds: 1, maxAgeUnsafe: true, simulatedTrustedRoot: '{}', artifact: 'AAAA', artifactDigest: '00', key: 'evil',
    minTag: 'v0', minSignedAt: 0,
    // The JS API's options (web/verifier.js, web/release.js).
    gateway: '/__test/evil/', manifests: ['/__test/evil-manifest.json'], manifest: '/__test/evil-manifest.json',
    signedReleases: { policy: {}, bundles: ['/__test/evil-bundle.json'] }, bundles: ['/__test/evil-bundle.json'],
    trustSimulatedRoot: '/__test/evil-ark.pem', releaseTrustSimulatedRoot: '/__test/evil-ark.pem', expectation: { anyMeasurementUnsafe: true },
    timeoutMs: 1, stallTimeoutMs: 1, wasmURL: '/__test/evil.wasm', wasmExecURL: '/__test/evil-exec.js', integrity: '', hpkeURL: '/__test/evil-hpke.js',
    uncheckedRevocationUnsafe: true, tcbBelowBulletinsUnsafe: true, releaseMaxAgeUnsafe: true, releaseMin: '',
    // The capture enroll() seals, and the receipt it checks.
    image: 'AAAA', contentType: 'text/plain', width: 1, height: 1,
    receipt_id: 'evil', status: 'enrolled', received_at: 'now', report_sha384: 'AAAA', mac: 'AAAA',
    // A release manifest (wasm/measure.go) and a Sigstore bundle's parts read in the page.
    format: 'evil', release: 'evil', source_commit: 'evil', ovmf: {}, kernel: {}, initrd: {}, cmdline: 'evil', cmdline_sha256: '00',
    vcpus: 1, vcpu_type: 'evil', vcpu_sig: 1, vmm_type: 'evil', guest_features: 1, measurement, sha256: '00', size: 1,
    snp_ovmf_hash: '00', sev_es_reset_eip: 1, sev_hashes_table_gpa: 1, sections: [], gpa: 1, type: 'evil',
    dsseEnvelope: { payload: 'e30=' }, payload: 'e30=', predicate: { measurement },
  };
  return `(() => {
    const values = ${JSON.stringify(values)};
    values.fetch = function (input, init) { window.__test.pwned.push('fetch ' + String(input)); return window.fetch(input, init); };
    for (const [k, v] of Object.entries(values)) Object.defineProperty(Object.prototype, k, { value: v, writable: true, configurable: true, enumerable: false });
    window.__test.polluted = Object.keys(values);
  })();`;
}

// Where a rerouted load would land: each records that it ran.
function serveEvil(site) {
  site.route('/__test/evil-exec.js', (req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/javascript' });
    res.end("window.__test.pwned.push('wasm_exec'); export { Go } from '/dist/wasm_exec.js';");
  });
  site.route('/__test/evil*', (req, res) => {
    site.evilRequests.push(req.url);
    res.writeHead(404);
    res.end();
  });
}

const pollutionReady = "window.__test = window.__test || {}; window.__test.pwned = [];";

let gw;
let site;
before(async () => {
  gw = await startWidgetGateway();
  site = await startTestSite(gw.url);
});
after(async () => {
  await site?.close();
  await gw?.stop();
});

for (const engine of selectedEngines()) {
  describe(engine, { timeout: 240000 }, () => {
    let browser;
    before(async () => { browser = await launchEngine(engine); });
    after(async () => { await browser?.close(); });
    beforeEach(() => {
      site.reset();
      site.evilRequests = [];
      serveEvil(site);
    });

    test('the wasm reads only its arguments\' own properties: verify, verifyRelease, measure', async () => {
      const page = await browser.newPage();
      await page.goto(new URL('blank.html', site.url).href);
      const args = { debugEvidence, debugARK, debugCase, releaseBundle, sigstoreRoot, demoManifest, fixturesPolicy: fixtures.policy };
      const runAll = async ({ debugEvidence, debugARK, debugCase, releaseBundle, sigstoreRoot, demoManifest, fixturesPolicy }) => {
        const ns = window.__ns ??= await (await import('/index.js')).loadVerifier();
        const call = async (fn) => {
          try { return await fn(); } catch (e) { return { error: `${e.constructor.name}: ${e.message}` }; }
        };
        const policy = {
          issuer: fixturesPolicy.issuer, repository: 'cvmtrust/cvmtrust', workflow: '.github/workflows/release.yml',
          refPattern: 'refs/tags/*', maxAgeSeconds: fixturesPolicy.maxAgeSeconds, simulatedTrustedRoot: sigstoreRoot,
        };
        return {
          verify: await call(() => ns.verify(debugEvidence, { measurements: [debugCase.measurement], reportData: debugCase.reportData, simulatedRoot: debugARK })),
          // Parsed by JSON.parse in the wasm: the evidence's own keys only, too.
          verifyObject: await call(() => ns.verify(JSON.parse(debugEvidence), { measurements: [debugCase.measurement], reportData: debugCase.reportData, simulatedRoot: debugARK })),
          verifyRelease: await call(() => ns.verifyRelease(releaseBundle, policy)),
          measure: await call(() => ns.measure(demoManifest)),
        };
      };
      const clean = await page.evaluate(runAll, args);
      assert.equal(clean.verify.verified, false);
      assert.deepEqual(clean.verify.checks.filter((c) => c.outcome === 'fail').map((c) => c.name), ['policy.debug'], 'the debug guest is refused for debugging alone');
      // The case as it would come from a library's bug: one inherited policy.
      const inherited = await page.evaluate(async (a) => {
        Object.prototype.policy = { allowDebug: true };
        try {
          return await window.__ns.verify(a.debugEvidence, { measurements: [a.debugCase.measurement], reportData: a.debugCase.reportData, simulatedRoot: a.debugARK });
        } finally {
          delete Object.prototype.policy;
        }
      }, args);
      assert.equal(inherited.verified, false, 'Object.prototype.policy = { allowDebug: true } let a debug guest pass');
      assert.deepEqual(inherited.checks.filter((c) => c.outcome === 'fail').map((c) => c.name), ['policy.debug']);
      assert.equal(clean.verifyRelease.verified, true, clean.verifyRelease.detail);
      assert.equal(clean.measure.measurement, demoManifest.measurement);
      await page.evaluate(new Function(`${pollutionReady} ${pollutionScript({ ark: debugARK, reportData: debugCase.reportData, measurement: debugCase.measurement })}`));
      const polluted = await page.evaluate(runAll, args);
      // The clock's readings (when verified, how long ago signed) differ between the two runs.
      const strip = (x) => JSON.parse(JSON.stringify(x, (k, v) => (k === 'verifiedAt' ? undefined
        : typeof v === 'string' ? v.replace(/^signed \S+ ago$/, 'signed … ago') : v)));
      for (const k of Object.keys(clean)) {
        assert.deepEqual(strip(polluted[k]), strip(clean[k]), `${k}: the polluted page's answer differs from the clean page's`);
      }
      await page.close();
    });

    /** Opens the demo with query (and, when pollute, the pollution first); resolves with what the element shows. */
    async function openDemo(query, pollute) {
      site.firstScript = pollute ? `${pollutionReady} ${pollutionScript(pollute)}` : pollutionReady;
      const page = await browser.newPage();
      await page.goto(new URL(`demo/${query}`, site.url).href);
      const state = await settled(page);
      const ui = await readWidget(page);
      const extra = await page.evaluate(() => ({ pwned: window.__test.pwned, polluted: window.__test.polluted ?? [] }));
      await page.close();
      return { state, ...ui, ...extra };
    }

    test('the element: a simulated root the page does not trust stays untrusted, and nothing is loaded from elsewhere', async () => {
      const ark = await (await fetch(new URL('simulated/ark.pem', gw.url))).text();
      // Without trust-simulated-root, the simulated gateway's fake root is refused.
      const clean = await openDemo('?trust-simulated-root=');
      assert.equal(clean.state, 'failed');
      const polluted = await openDemo('?trust-simulated-root=', { ark, reportData: '00', measurement: '00' });
      assert.ok(polluted.polluted.length > 60, `every option name set on Object.prototype (${polluted.polluted.length})`);
      assert.equal(polluted.state, 'failed', `polluted: ${polluted.label} (${polluted.message})`);
      assert.deepEqual(polluted.failed, clean.failed, `polluted: ${polluted.label} (${polluted.message}) ${polluted.facts}`);
      assert.equal(polluted.label, clean.label);
      assert.deepEqual(polluted.pwned, [], 'no load or fetch went through an inherited option');
      assert.deepEqual(site.evilRequests, []);
      assert.equal(polluted.cameraRequests, 0);
    });

    test('the element: a debug guest is refused for debugging whatever Object.prototype.policy says', async () => {
      site.route('/attestation', (req, res) => {
        res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
        res.end(debugEvidence);
      });
      site.route('/__test/debug-ark.pem', (req, res) => {
        res.writeHead(200, { 'Content-Type': 'application/x-pem-file' });
        res.end(debugARK);
      });
      // The page trusts the fixture's fake root and expects its measurement; the evidence cannot bind this
      // page's nonce (it is a file), so reportData fails too, and debugging must fail beside it.
      const query = `?trust-simulated-root=/__test/debug-ark.pem&measurements=${debugCase.measurement}`;
      const clean = await openDemo(query);
      assert.equal(clean.state, 'failed');
      assert.ok(clean.failed.includes('policy.debug'), `clean: ${clean.failed}`);
      const polluted = await openDemo(query, { ark: debugARK, reportData: debugCase.reportData, measurement: debugCase.measurement });
      assert.equal(polluted.state, 'failed');
      assert.deepEqual(polluted.failed, clean.failed, 'the polluted page fails the same checks');
      assert.ok(polluted.failed?.includes('policy.debug'), 'the debug guest is refused for debugging');
      assert.deepEqual(polluted.pwned, []);
      assert.deepEqual(site.evilRequests, []);
    });
  });
}
