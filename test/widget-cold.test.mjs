// The widget's cold start, in every engine of CVMTRUST_BROWSERS, on the demo
// page as the gateway serves it (pinned by the build): the evidence and the
// release bundle are on their way before the wasm is ready, the release and
// the evidence are verified together, and a wasm whose bytes are not the
// pinned ones never runs, however it is served.
// Run after ./scripts/build-wasm.sh.
import { describe, test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { launchEngine, selectedEngines, startSimulatedGateway, readWidget, settled, repoRoot } from './lib/browser.mjs';
import { startTestSite } from './lib/testsite.mjs';

/**
 * The wasm with a custom section appended: a valid module that runs exactly
 * as the original does, so only the integrity check can keep it from running.
 */
function withCustomSection(wasm) {
  const name = Buffer.from('not-this-build');
  const payload = Buffer.concat([Buffer.from([name.length]), name, Buffer.from('x')]);
  return Buffer.concat([wasm, Buffer.from([0, payload.length]), payload]);
}

// What the page's performance timeline says, ms after navigation start.
function timeline() {
  const at = (name) => performance.getEntriesByName(name)[0]?.startTime ?? null;
  const requested = (suffix) => performance.getEntriesByType('resource').find((r) => new URL(r.name).pathname.endsWith(suffix))?.startTime ?? null;
  return {
    evidenceRequested: requested('/attestation'),
    bundleRequested: requested('/release/bundle.sigstore.json'),
    compiled: at('cvmtrust:compiled'),
    ready: at('cvmtrust:ready'),
    release: at('cvmtrust:release'),
    verified: at('cvmtrust:verified'),
    verdict: at('cvmtrust:verdict'),
  };
}

for (const engine of selectedEngines()) {
  describe(engine, { timeout: 300000 }, () => {
    let gw;
    let site;
    let browser;

    before(async () => {
      // As scripts/demo.sh runs it: the page verifies the gateway's signed release first.
      gw = await startSimulatedGateway(['--sim-release-manifest', path.join(repoRoot, 'web/demo/release.json')]);
      site = await startTestSite(gw.url);
      browser = await launchEngine(engine);
    });

    after(async () => {
      await browser?.close();
      await site?.close();
      await gw?.stop();
    });

    beforeEach(() => site.reset());

    async function openDemo() {
      const page = await browser.newPage();
      await page.goto(new URL('demo/', site.url).href);
      return page;
    }

    test('the evidence and the release bundle are requested before the wasm is ready; one verdict after both verified', async () => {
      const page = await openDemo();
      assert.equal(await settled(page), 'simulated');
      const t = await page.evaluate(timeline);
      for (const k of Object.keys(t)) assert.equal(typeof t[k], 'number', `${k} in ${JSON.stringify(t)}`);
      assert.ok(t.evidenceRequested < t.ready, `evidence requested at ${t.evidenceRequested} ms, the wasm ready at ${t.ready} ms`);
      assert.ok(t.bundleRequested < t.ready, `release bundle requested at ${t.bundleRequested} ms, the wasm ready at ${t.ready} ms`);
      assert.ok(t.compiled <= t.ready && t.ready <= t.release && t.release <= t.verdict && t.verified <= t.verdict, JSON.stringify(t));
      const ui = await readWidget(page);
      assert.match(ui.facts, /SIMULATED Sigstore instance/);
      assert.equal(site.requests.filter((r) => r.path === '/attestation').length, 1);
      await page.close();
    });

    // The loader streams the wasm into the compiler and hashes it meanwhile:
    // served other bytes, it must not instantiate what it compiled.
    const served = {
      'as application/wasm (streaming compilation)': 'application/wasm',
      'as application/octet-stream (the loader streams it all the same)': 'application/octet-stream',
    };
    for (const [how, contentType] of Object.entries(served)) {
      test(`a wasm that is not the pinned build, served ${how}, never runs and nothing is verified`, async () => {
        site.route('/dist/cvmtrust.wasm', async (req, res, { forward }) => {
          const up = await forward();
          res.writeHead(200, { 'Content-Type': contentType, 'Cache-Control': 'no-store' });
          res.end(withCustomSection(up.body));
        });
        const page = await openDemo();
        assert.equal(await settled(page), 'failed');
        const ui = await readWidget(page);
        const t = await page.evaluate(timeline);
        assert.equal(t.compiled, null, 'the wasm was not compiled');
        assert.equal(t.ready, null, 'the Go program never started');
        assert.equal(t.verified, null);
        assert.equal(ui.failed, null, 'no Result');
        assert.equal(ui.cameraHidden, true);
        assert.equal(ui.capture.disabled, true);
        assert.equal(ui.cameraRequests, 0);
        assert.match(ui.message, /not the build the page pins, so it was not run/);
        assert.ok(site.requests.some((r) => r.path === '/dist/cvmtrust.wasm'), 'the page asked for the wasm');
        assert.deepEqual(site.requests.filter((r) => r.path === '/enroll'), []);
        // The bytes served are a valid module: only their integrity kept them from running.
        assert.equal(await page.evaluate(async () => WebAssembly.validate(await (await fetch('../dist/cvmtrust.wasm', { cache: 'no-store' })).arrayBuffer())), true);
        await page.close();
      });
    }

    test('the same wasm bytes with the pinned integrity run (the check above refuses the change, not the route)', async () => {
      site.route('/dist/cvmtrust.wasm', async (req, res, { forward }) => {
        const up = await forward();
        res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Cache-Control': 'no-store' });
        res.end(up.body);
      });
      const page = await openDemo();
      assert.equal(await settled(page), 'simulated');
      assert.equal(typeof (await page.evaluate(timeline)).ready, 'number');
      await page.close();
    });
  });
}
