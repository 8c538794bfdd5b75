// The real SEV-SNP reports of testdata/snp-reports verify in the browser
// (wasm verifier, WebCrypto signatures) exactly as they do natively
// (cvmtrust verify --json): the same Result, check by check, in every engine
// of CVMTRUST_BROWSERS.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { launchEngine, selectedEngines, goBinary, repoRoot, withoutClock } from './lib/browser.mjs';
import { startTestSite, endlessAnswer, endlessAnswerBytes } from './lib/testsite.mjs';

const reportsDir = path.join(repoRoot, 'testdata/snp-reports');
const cases = fs.readdirSync(reportsDir).filter((d) => fs.existsSync(path.join(reportsDir, d, 'report.bin'))).sort();


function load(name) {
  const dir = path.join(reportsDir, name);
  const c = JSON.parse(fs.readFileSync(path.join(dir, 'case.json'), 'utf8'));
  const signer = fs.existsSync(path.join(dir, 'vlek.der')) ? 'vlek' : 'vcek';
  return { dir, c, signer };
}

function nativeResult({ dir, c, signer }, more = []) {
  const args = ['verify', '--json', '--report', path.join(dir, 'report.bin'), `--${signer}`, path.join(dir, `${signer}.der`),
    '--chain', path.join(dir, 'chain.pem'), '--measurement', c.measurement, '--report-data', c.report_data, ...more];
  let out;
  try {
    out = execFileSync(goBinary('./cmd/cvmtrust'), args, { cwd: repoRoot });
  } catch (err) {
    // Exit status 1 is a rejection, still with a Result on stdout.
    if (err.status !== 1) throw err;
    out = err.stdout;
  }
  return JSON.parse(out);
}

test('there are real reports to check', () => {
  assert.ok(cases.length >= 8, `found ${cases.length} cases in ${reportsDir}`);
});

for (const engine of selectedEngines()) {
  describe(engine, { timeout: 180000 }, () => {
  let browser;
  let site;
  let page;

  before(async () => {
    site = await startTestSite(null);
    browser = await launchEngine(engine);
    page = await browser.newPage();
    await page.goto(new URL('blank.html', site.url).href);
    await page.evaluate(async () => {
      const { loadVerifier } = await import('/index.js');
      window.verifier = await loadVerifier();
    });
  });

  after(async () => {
    await browser?.close();
    await site?.close();
  });

  async function browserResult({ dir, c, signer }, more = {}) {
    const evidence = {
      version: 1,
      report: fs.readFileSync(path.join(dir, 'report.bin')).toString('base64'),
      certs: { [signer]: fs.readFileSync(path.join(dir, `${signer}.der`)).toString('base64'), chain: fs.readFileSync(path.join(dir, 'chain.pem'), 'utf8') },
      // Real reports bind their own REPORT_DATA, not protocol v1's: the key is unused.
      hpke: { kem: 'MLKEM768-X25519', kdf: 'HKDF-SHA256', aead: 'AES-256-GCM', public_key: '' },
    };
    return page.evaluate(([ev, exp]) => window.verifier.verify(ev, exp), [JSON.stringify(evidence), { measurements: [c.measurement], reportData: c.report_data, ...more }]);
  }


  test('a VMPL 1 report is rejected when the page asks for VMPL 0, and passes the VMPL check at 1', async () => {
    const kase = load('trustee-snp-vlek-milan-aws');
    assert.equal(kase.c.vmpl, 1);
    const evidence = JSON.stringify({
      version: 1,
      report: fs.readFileSync(path.join(kase.dir, 'report.bin')).toString('base64'),
      certs: { vlek: fs.readFileSync(path.join(kase.dir, 'vlek.der')).toString('base64'), chain: fs.readFileSync(path.join(kase.dir, 'chain.pem'), 'utf8') },
      hpke: { kem: 'MLKEM768-X25519', kdf: 'HKDF-SHA256', aead: 'AES-256-GCM', public_key: '' },
    });
    const exp = { measurements: [kase.c.measurement], reportData: kase.c.report_data };
    const [at0, at1] = await page.evaluate(async ([ev, x]) => [await window.verifier.verify(ev, { ...x, vmpl: 0 }), await window.verifier.verify(ev, { ...x, vmpl: 1 })], [evidence, exp]);
    const vmpl = (r) => r.checks.find((c) => c.name === 'vmpl');
    assert.equal(at0.verified, false);
    assert.deepEqual([vmpl(at0).outcome, vmpl(at0).got, vmpl(at0).want], ['fail', '1', '0']);
    assert.equal(vmpl(at1).outcome, 'pass');
  });

  for (const name of cases) {
    test(`${name}: same Result in the browser as natively`, async () => {
      const kase = load(name);
      const [native, inBrowser] = [nativeResult(kase), await browserResult(kase)];
      assert.deepEqual(withoutClock(inBrowser), withoutClock(native));
      assert.equal(inBrowser.report.measurement, kase.c.measurement);
      assert.equal(inBrowser.product, kase.c.product);
      // Every report here is genuine; only a certificate past its validity may
      // make one fail today (the README names the AWS VLEK).
      const failed = inBrowser.checks.filter((c) => c.outcome === 'fail').map((c) => c.name);
      assert.ok(failed.every((n) => n.startsWith('validity.')), `unexpected failures: ${failed}`);
      assert.equal(inBrowser.verified, failed.length === 0);
      assert.equal(inBrowser.simulated, false);
    });
  }

  // The widget's default floor: the TCB AMD's security bulletins require for the report's processor line. A real
  // report below it is a finding (web/README.md, "Defaults"), not a failure of this test: the Result must be the
  // native one, and only the TCB checks (and an expired certificate) may fail.
  for (const name of cases) {
    test(`${name}: the bulletins' TCB floor, the same in the browser as natively`, async () => {
      const kase = load(name);
      const [native, inBrowser] = [nativeResult(kase, ['--bulletin-tcb-floor']), await browserResult(kase, { bulletinTcbFloor: true })];
      assert.deepEqual(withoutClock(inBrowser), withoutClock(native));
      assert.ok(inBrowser.tcbFloor?.bulletins?.length > 0, `a floor from the bulletins: ${JSON.stringify(inBrowser.tcbFloor)}`);
      const failed = inBrowser.checks.filter((c) => c.outcome === 'fail').map((c) => c.name);
      assert.ok(failed.every((n) => n.startsWith('validity.') || n.startsWith('tcb.')), `unexpected failures: ${failed}`);
    });
  }

  test('a flipped signature byte fails report.signature in the browser as natively', async () => {
    const kase = load('oak-genoa');
    const evidence = {
      version: 1,
      report: (() => { const r = fs.readFileSync(path.join(kase.dir, 'report.bin')); r[0x2a0 + 5] ^= 1; return r.toString('base64'); })(),
      certs: { vcek: fs.readFileSync(path.join(kase.dir, 'vcek.der')).toString('base64'), chain: fs.readFileSync(path.join(kase.dir, 'chain.pem'), 'utf8') },
      hpke: { kem: 'MLKEM768-X25519', kdf: 'HKDF-SHA256', aead: 'AES-256-GCM', public_key: '' },
    };
    const res = await page.evaluate(([ev, exp]) => window.verifier.verify(ev, exp), [evidence, { measurements: [kase.c.measurement], reportData: kase.c.report_data }]);
    assert.equal(res.verified, false);
    assert.deepEqual(res.checks.filter((c) => c.outcome === 'fail').map((c) => c.name), ['report.signature']);
  });

  test('the wasm API rejects unusable arguments with Errors, never a crash', async () => {
    const out = await page.evaluate(async () => {
      const v = window.verifier;
      const calls = [
        () => v.verify(),
        () => v.verify('not json', {}),
        () => v.verify('{"version":2}', {}),
        () => v.verify('{"version":1}', { measurement: ['00'] }),
        () => v.verify('{"version":1}', { measurements: ['zz'] }),
        () => v.verify(42, {}),
        () => v.verify('{"version":1}', { measurements: 'ab' }),
        () => v.verify('{"version":1}', { vmpl: 7 }),
        () => v.verify('{"version":1}', { minTcb: { snp: 1.5 } }),
        () => v.verify('{"version":1,"report":"%%%"}', { anyMeasurementUnsafe: true }),
      ];
      const results = [];
      for (const call of calls) {
        try { await call(); results.push('resolved'); } catch (e) { results.push(e instanceof Error ? e.message : `non-Error ${e}`); }
      }
      // Sealing is in the page (web/verifier.js), not in the wasm.
      results.push(typeof v.seal);
      // Still alive afterwards.
      results.push(typeof (await v.verify('{"version":1}', { anyMeasurementUnsafe: true })).verified);
      return results;
    });
    const last = out.pop();
    assert.equal(out.pop(), 'undefined', 'the wasm has no seal export');
    for (const msg of out) assert.match(msg, /^cvmtrust\.verify: /);
    assert.match(out[3], /unknown key "measurement"/);
    assert.match(out[6], /expectation\.measurements must be an array of strings/);
    assert.match(out[7], /expectation\.vmpl must be a whole number from 0 to 3/);
    assert.match(out[8], /expectation\.minTcb\.snp must be a whole number/);
    assert.match(out[9], /evidence\.report is not base64/);
    assert.equal(last, 'boolean');
  });

  /** Serves testdata/kds as a KDS proxy at the site's /kds/; crl: whether to serve the (synthetic) CRLs. */
  function fakeKDSProxy(site, { crl }) {
    const dir = path.join(repoRoot, 'testdata/kds');
    const index = JSON.parse(fs.readFileSync(path.join(dir, 'index.json'), 'utf8'));
    const asked = [];
    site.route('/kds/*', (req, res) => {
      const u = new URL(req.url, 'http://x');
      const kdsPath = u.pathname.slice('/kds'.length) + u.search;
      asked.push(kdsPath);
      const entry = index[kdsPath];
      if (!entry || (!crl && kdsPath.endsWith('/crl'))) {
        res.writeHead(404, { 'Content-Type': 'application/json' });
        return res.end('{"error":"not found","code":"not_found"}');
      }
      res.writeHead(200, { 'Content-Type': entry.content_type });
      return res.end(fs.readFileSync(path.join(dir, entry.file)));
    });
    return asked;
  }

  test('a KDS proxy that stalls or answers without end fails the certificates check within its bounds, nothing else', async () => {
    const kase = load('oak-genoa');
    const evidence = JSON.stringify({
      version: 1,
      report: fs.readFileSync(path.join(kase.dir, 'report.bin')).toString('base64'),
      certs: {},
      hpke: { kem: 'MLKEM768-X25519', kdf: 'HKDF-SHA256', aead: 'AES-256-GCM', public_key: '' },
    });
    const exp = { measurements: [kase.c.measurement], reportData: kase.c.report_data, kdsProxy: new URL('kds/', site.url).href };
    const verify = () => page.evaluate(async ([ev, x]) => {
      const start = performance.now();
      const r = await window.verifier.verify(ev, x);
      return { ms: performance.now() - start, verified: r.verified, failed: r.checks.filter((c) => c.outcome === 'fail').map((c) => [c.name, c.detail ?? '']) };
    }, [evidence, exp]);

    // The page stops reading at the cap and cancels.
    const written = {};
    site.route('/kds/*', (req, res) => endlessAnswer(res, 'application/octet-stream', written));
    const big = await verify();
    assert.equal(big.verified, false);
    assert.deepEqual(big.failed.map(([n]) => n), ['certificates']);
    assert.match(big.failed[0][1], /more than any KDS document/);
    // The page cancelled the answer: the connection closes before the 200 MB are all written (loopback socket
    // buffers take some tens of MB, and the server sees the close a moment after the page gave up).
    for (const until = Date.now() + 5000; !written.closed && Date.now() < until;) await new Promise((r) => setTimeout(r, 50));
    assert.ok(written.closed && written.bytes < endlessAnswerBytes, `the page stopped reading early (${written.bytes} bytes sent, closed: ${written.closed})`);

    // Stalled: headers never come. The fetch is given up after the KDS timeout.
    site.reset();
    site.route('/kds/*', () => {});
    const stalled = await verify();
    assert.equal(stalled.verified, false);
    assert.deepEqual(stalled.failed.map(([n]) => n), ['certificates']);
    assert.match(stalled.failed[0][1], /KDS proxy did not answer/);
    assert.ok(stalled.ms < 15000, `gave up in ${Math.round(stalled.ms)} ms`);
    site.reset();
  });

  test('evidence without certificates verifies through a KDS proxy; its CRL is checked and a bad one rejected', async () => {
    const kase = load('oak-genoa');
    const evidence = JSON.stringify({
      version: 1,
      report: fs.readFileSync(path.join(kase.dir, 'report.bin')).toString('base64'),
      certs: {},
      hpke: { kem: 'MLKEM768-X25519', kdf: 'HKDF-SHA256', aead: 'AES-256-GCM', public_key: '' },
    });
    const exp = { measurements: [kase.c.measurement], reportData: kase.c.report_data };
    const p = page;
    const verify = (e) => p.evaluate(([ev, x]) => window.verifier.verify(ev, x), [evidence, e]);

    // Without a proxy the VCEK is missing.
    const none = await verify(exp);
    assert.equal(none.verified, false);
    assert.deepEqual(none.checks.filter((c) => c.outcome === 'fail').map((c) => c.name), ['certificates']);

    // With one (no CRL there): verified, and revocation says why it was not checked.
    let asked = fakeKDSProxy(site, { crl: false });
    const viaProxy = await verify({ ...exp, kdsProxy: new URL('kds/', site.url).href });
    assert.equal(viaProxy.verified, true, JSON.stringify(viaProxy.checks.filter((c) => c.outcome === 'fail')));
    assert.ok(asked.some((a) => a.startsWith('/vcek/v1/Genoa/d2421d97')), `the VCEK was fetched by chip id and TCB: ${asked}`);
    assert.match(viaProxy.revocation, /CRL could not be fetched.*404/);
    assert.equal(viaProxy.report.sha384, (await browserResult(kase)).report.sha384);

    // The proxy's CRLs are synthetic (not signed by AMD): revocation fails.
    site.reset();
    asked = fakeKDSProxy(site, { crl: true });
    const badCRL = await verify({ ...exp, kdsProxy: new URL('kds', site.url).href });
    assert.ok(asked.includes('/vcek/v1/Genoa/crl'));
    assert.equal(badCRL.verified, false);
    assert.deepEqual(badCRL.checks.filter((c) => c.outcome === 'fail').map((c) => c.name), ['revocation']);
    site.reset();
  });
  });
}
