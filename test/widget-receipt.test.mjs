// The authenticated receipt end to end in Chromium: the page seals with
// hpke-js, test/receiptgateway opens with Go's crypto/hpke and MACs its
// receipt with the exporter secret of that upload (the agreed algorithm,
// checked against testdata/protocol/receipt-vectors.json before it listens),
// and enroll() resolves only with a receipt whose MAC verifies. A replayed
// receipt (another upload's, with that upload's valid MAC) and a receipt
// whose status differs from what its MAC covers are refused. Both KEMs.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { launchBrowser, startServer, goBinary, repoRoot, simulatedMeasurement } from './lib/browser.mjs';

let browser;
after(() => browser?.close());

for (const kem of ['MLKEM768-X25519', 'DHKEM-X25519-HKDF-SHA256']) {
  test(`${kem}: a receipt whose MAC verifies is enrolled; a replayed or altered one is refused`, async () => {
    browser ??= await launchBrowser();
    const gw = await startServer(goBinary('./test/receiptgateway'), ['--kem', kem, '--static', path.join(repoRoot, 'web'),
      '--vectors', path.join(repoRoot, 'testdata/protocol/receipt-vectors.json')]);
    const page = await browser.context.newPage();
    try {
      await page.goto(new URL('blank.html', gw.url).href);
      const out = await page.evaluate(async (measurement) => {
        const { verifyGateway, enroll } = await import('/index.js');
        const result = await verifyGateway({ gateway: '/', measurements: [measurement], trustSimulatedRoot: '/simulated/ark.pem' });
        const canvas = new OffscreenCanvas(32, 24);
        canvas.getContext('2d').fillRect(4, 4, 8, 8);
        const image = new Uint8Array(await (await canvas.convertToBlob({ type: 'image/png' })).arrayBuffer());
        const answering = (mode) => (url, init) => fetch(mode ? `${url}?answer=${mode}` : url, init);
        const attempt = (mode) => enroll(result, { image, contentType: 'image/png' }, { fetch: answering(mode) })
          .then((r) => ({ status: r.status, mac: typeof r.mac }), (e) => ({ code: e.code, message: e.message }));
        return { verified: result.verified, ok: await attempt(''), replay: await attempt('replay'), altered: await attempt('status'), again: await attempt('') };
      }, simulatedMeasurement);
      assert.equal(out.verified, true);
      assert.deepEqual(out.ok, { status: 'enrolled', mac: 'string' });
      assert.equal(out.replay.code, 'receipt_invalid', JSON.stringify(out.replay));
      assert.match(out.replay.message, /MAC does not verify/);
      assert.equal(out.altered.code, 'receipt_invalid', JSON.stringify(out.altered));
      assert.deepEqual(out.again, { status: 'enrolled', mac: 'string' });
    } finally {
      await page.close();
      await gw.stop();
    }
  });
}
