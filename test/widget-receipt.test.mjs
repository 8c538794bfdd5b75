// The authenticated receipt end to end in Chromium, against the reference
// gateway (cvmtrust gateway --simulated): the page seals with hpke-js, the
// gateway opens with Go's crypto/hpke and MACs its receipt with the exporter
// secret of that upload, and enroll() resolves only with a receipt whose MAC
// verifies. Whoever sits between the page and /enroll (a redirected origin,
// a proxy) is played by the fetch the page hands to enroll(): a receipt
// replayed from another upload (with that upload's valid MAC), a receipt
// whose status differs from what its MAC covers, and one without a MAC are
// refused. Both KEMs.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, startSimulatedGateway, simulatedMeasurement } from './lib/browser.mjs';

let browser;
after(() => browser?.close());

for (const kem of ['MLKEM768-X25519', 'DHKEM-X25519-HKDF-SHA256']) {
  test(`${kem}: a receipt whose MAC verifies is enrolled; a replayed, altered or unsigned one is refused`, async () => {
    browser ??= await launchBrowser();
    const gw = await startSimulatedGateway(['--kem', kem]);
    const page = await browser.context.newPage();
    try {
      await page.goto(new URL('index.js', gw.url).href);
      const out = await page.evaluate(async (measurement) => {
        const { verifyGateway, enroll } = await import('/index.js');
        const result = await verifyGateway({ gateway: '/', measurements: [measurement], trustSimulatedRoot: '/simulated/ark.pem', kdsProxy: '/simulated/kds' });
        const image = async (shade) => {
          const canvas = new OffscreenCanvas(32, 24);
          const ctx = canvas.getContext('2d');
          ctx.fillStyle = `rgb(${shade},${255 - shade},40)`;
          ctx.fillRect(4, 4, 8 + shade % 9, 8);
          return new Uint8Array(await (await canvas.convertToBlob({ type: 'image/png' })).arrayBuffer());
        };
        let previous; // the last genuine receipt body the gateway sent
        const onPath = (mode) => async (url, init) => {
          const res = await fetch(url, init);
          const body = await res.json();
          let answer = body;
          if (mode === 'replay') answer = previous;
          if (mode === 'status') answer = { ...body, status: body.status === 'enrolled' ? 'already_enrolled' : 'enrolled' };
          if (mode === 'unsigned') { answer = { ...body }; delete answer.mac; }
          previous = body;
          return new Response(JSON.stringify(answer), { status: res.status, headers: { 'content-type': 'application/json' } });
        };
        const attempt = async (mode, shade) => enroll(result, { image: await image(shade), contentType: 'image/png' }, { fetch: onPath(mode) })
          .then((r) => ({ status: r.status, mac: typeof r.mac }), (e) => ({ code: e.code, message: e.message }));
        return {
          verified: result.verified,
          ok: await attempt('', 10),
          replay: await attempt('replay', 60),
          altered: await attempt('status', 110),
          unsigned: await attempt('unsigned', 160),
          again: await attempt('', 210),
        };
      }, simulatedMeasurement);
      assert.equal(out.verified, true);
      assert.deepEqual(out.ok, { status: 'enrolled', mac: 'string' });
      assert.equal(out.replay.code, 'receipt_invalid', JSON.stringify(out.replay));
      assert.match(out.replay.message, /MAC does not verify/);
      assert.equal(out.altered.code, 'receipt_invalid', JSON.stringify(out.altered));
      assert.equal(out.unsigned.code, 'receipt_invalid', JSON.stringify(out.unsigned));
      assert.equal(out.again.mac, 'string', JSON.stringify(out.again));
    } finally {
      await page.close();
      await gw.stop();
    }
  });
}
