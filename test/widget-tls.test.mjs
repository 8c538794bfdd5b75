// Evidence protocol v2 in the widget's JS API, in every engine of
// CVMTRUST_BROWSERS. A page cannot see the TLS certificate of its own
// connection, so what it can check is the key hash it is given
// (expectation.tlsSpkiSha256) against the one the report binds: a v2 report
// binding another key is refused, so is a v2 evidence whose stated key was
// swapped on the way (REPORT_DATA no longer matches), and so is v1 evidence
// when the page asks for a TLS key. The gateway here (test/widgetgateway)
// serves v2 over plain HTTP with a fixed key hash; the real gateway binds
// its ACME certificate's key (cmd/cvmtrust's TestGatewayACME).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import crypto from 'node:crypto';
import { launchEngine, selectedEngines, startServer, startSimulatedGateway, goBinary, simulatedMeasurement, repoRoot } from './lib/browser.mjs';

const boundKey = crypto.randomBytes(32).toString('hex');
const otherKey = crypto.randomBytes(32).toString('hex');

/** In the page: verifyGateway with these options; fetch may rewrite the evidence's tls key. */
async function verifyIn(page, { expectation = {}, swapTo } = {}) {
  return page.evaluate(async ({ measurement, expectation, swapTo }) => {
    const { verifyGateway, summarize } = await import('/index.js');
    const b64 = (hex) => btoa(String.fromCharCode(...hex.match(/../g).map((h) => parseInt(h, 16))));
    const fetchFn = swapTo ? async (url, init) => {
      const res = await fetch(url, init);
      if (!String(url).includes('attestation?')) return res;
      const ev = await res.json();
      ev.tls = { spki_sha256: b64(swapTo) };
      return new Response(JSON.stringify(ev), { status: 200 });
    } : undefined;
    try {
      const r = await verifyGateway({ gateway: '/', measurements: [measurement], trustSimulatedRoot: '/simulated/ark.pem', kdsProxy: '/simulated/kds', expectation, ...(fetchFn ? { fetch: fetchFn } : {}) });
      const failed = r.checks.filter((c) => c.outcome === 'fail').map((c) => c.name);
      const tlsKey = r.checks.find((c) => c.name === 'tlsKey');
      const fresh = summarize(r).find((row) => row.topic === 'fresh');
      return { verified: r.verified, binding: r.binding, tlsKeySha256: r.tlsKeySha256, failed, tlsKey: tlsKey?.outcome, tlsDetail: tlsKey?.detail, fresh: fresh.text };
    } catch (e) {
      return { error: e.message };
    }
  }, { measurement: simulatedMeasurement, expectation, swapTo });
}

for (const engine of selectedEngines()) {
  describe(engine, { timeout: 180000 }, () => {
    let v2; // serves evidence v2 binding boundKey
    let v1; // cvmtrust gateway --simulated: evidence v1
    let browser;
    before(async () => {
      [v2, v1] = await Promise.all([
        startServer(goBinary('./test/widgetgateway'), ['--listen', '127.0.0.1:0', '--static', path.join(repoRoot, 'web'), '--tls-key-sha256', boundKey]),
        startSimulatedGateway(),
      ]);
      browser = await launchEngine(engine);
    });
    after(async () => {
      await browser?.close();
      await v2?.stop();
      await v1?.stop();
    });

    async function pageOn(gw) {
      const page = await browser.newPage();
      await page.goto(new URL('index.js', gw.url).href);
      return page;
    }

    test('v2 evidence whose TLS key is not the one the page gives is refused', async () => {
      const page = await pageOn(v2);
      const out = await verifyIn(page, { expectation: { tlsSpkiSha256: otherKey } });
      assert.equal(out.verified, false, JSON.stringify(out));
      assert.deepEqual(out.failed, ['tlsKey']);
      assert.match(out.tlsDetail, /not the attested one/);
      assert.equal(out.binding, 'cvmtrust-evidence-v2');
      await page.close();
    });

    test('v2 evidence whose stated TLS key was swapped for the expected one is refused (REPORT_DATA)', async () => {
      const page = await pageOn(v2);
      const out = await verifyIn(page, { expectation: { tlsSpkiSha256: otherKey }, swapTo: otherKey });
      assert.equal(out.verified, false, JSON.stringify(out));
      assert.deepEqual(out.failed, ['reportData']);
      await page.close();
    });

    test('v1 evidence is refused when the page asks for a TLS key', async () => {
      const page = await pageOn(v1);
      const out = await verifyIn(page, { expectation: { tlsSpkiSha256: boundKey } });
      assert.equal(out.verified, false, JSON.stringify(out));
      assert.deepEqual(out.failed, ['tlsKey']);
      assert.match(out.tlsDetail, /binds no TLS key/);
      assert.equal(out.binding, 'cvmtrust-evidence-v1');
      await page.close();
    });

    test('a malformed expected TLS key is an error, not a verdict', async () => {
      const page = await pageOn(v2);
      const out = await verifyIn(page, { expectation: { tlsSpkiSha256: 'abcd' } });
      assert.ok(out.error, JSON.stringify(out));
      assert.match(out.error, /TLSKeySHA256|tlsSpkiSha256/);
      await page.close();
    });

    test('v2 evidence verifies with the bound key or none, and says which version it checked', async () => {
      const page = await pageOn(v2);
      const given = await verifyIn(page, { expectation: { tlsSpkiSha256: boundKey } });
      assert.deepEqual([given.verified, given.binding, given.tlsKeySha256, given.tlsKey], [true, 'cvmtrust-evidence-v2', boundKey, 'pass'], JSON.stringify(given));
      assert.equal(given.fresh, 'pass (protocol v2: includes the server’s TLS key)');
      const none = await verifyIn(page);
      assert.deepEqual([none.verified, none.binding, none.tlsKey], [true, 'cvmtrust-evidence-v2', 'skipped'], JSON.stringify(none));
      assert.equal(none.fresh, 'pass (protocol v2: includes the server’s TLS key)');
      await page.close();
      const p1 = await pageOn(v1);
      const old = await verifyIn(p1);
      assert.deepEqual([old.verified, old.binding, old.tlsKeySha256, old.fresh], [true, 'cvmtrust-evidence-v1', undefined, 'pass (protocol v1: no TLS key)'], JSON.stringify(old));
      await p1.close();
    });
  });
}
