// The widget's cold start, in every engine of CVMTRUST_BROWSERS, on the demo
// page as the gateway serves it (pinned by the build): the evidence and the
// release bundle are on their way before the wasm is ready, the release and
// the evidence are verified together, and a wasm whose bytes are not the
// pinned ones never runs, however it is served.
// Run after ./scripts/build-wasm.sh.
import { describe, test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import fs from 'node:fs';
import os from 'node:os';
import { execFileSync } from 'node:child_process';
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

/** Builds a Go program (main.go's text) for js/wasm; resolves with its bytes. */
function buildGoWasm(mainGo) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cvmtrust-notverifier-'));
  try {
    fs.writeFileSync(path.join(dir, 'go.mod'), 'module notverifier\ngo 1.26\n');
    fs.writeFileSync(path.join(dir, 'main.go'), mainGo);
    execFileSync('go', ['build', '-o', 'program.wasm', '.'], { cwd: dir, env: { ...process.env, GOOS: 'js', GOARCH: 'wasm', GOFLAGS: '-buildvcs=false' }, timeout: 120000 });
    return fs.readFileSync(path.join(dir, 'program.wasm'));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

// Go programs that never hand the page a verifier: one returns at once, one
// waits first (for a timer, as one waiting for anything would).
const notVerifiers = {
  'returns at once': 'package main\n\nfunc main() {}\n',
  'waits before anything else': 'package main\n\nimport "time"\n\nfunc main() { time.Sleep(time.Hour) }\n',
};

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

    /** A page of the site with nothing on it: the widget's modules are imported by the test. */
    async function openBlank() {
      site.route('/blank.html', async (req, res) => {
        res.writeHead(200, { 'Content-Type': 'text/html' });
        res.end('<!doctype html><html lang="en"><head><title>blank</title></head><body></body></html>');
      });
      const page = await browser.newPage();
      await page.goto(new URL('blank.html', site.url).href);
      return page;
    }

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

    // Two copies of the widget's modules in one page (two versions of it, or
    // one under two URLs) start two verifiers. Here both are held just before
    // their instance runs, then run: with one ready hook for the page, the
    // first to run took the one the other had set, and the other's load never
    // ended (a CI run saw verifyGateway hang so, in WebKit under load).
    test('two copies of the widget in one page, starting at the same time, each get their own verifier', async () => {
      const page = await openBlank();
      const out = await page.evaluate(async () => {
        const instantiate = WebAssembly.instantiate;
        let held = 0;
        let releaseAll;
        const allHeld = new Promise((resolve) => { releaseAll = resolve; });
        WebAssembly.instantiate = (...args) => {
          if (++held === 2) releaseAll();
          return allHeld.then(() => instantiate(...args));
        };
        let timer;
        const timeout = new Promise((resolve) => { timer = setTimeout(() => resolve('timeout'), 30000); });
        try {
          const copies = await Promise.all([import('/verifier.js?copy=a'), import('/verifier.js?copy=b')]);
          const loads = Promise.all(copies.map((c) => c.loadVerifier()));
          const got = await Promise.race([loads, timeout]);
          if (got === 'timeout') return { held, error: 'a copy’s verifier was not ready within 30 s' };
          const [a, b] = got;
          return {
            held,
            distinct: a !== b,
            versions: [a.version, b.version],
            verifies: [typeof a.verify, typeof b.verify],
            hooksLeft: Object.keys(globalThis).filter((k) => k.startsWith('__cvmtrustReady')),
          };
        } catch (e) {
          return { held, error: e.message };
        } finally {
          clearTimeout(timer);
          WebAssembly.instantiate = instantiate;
        }
      });
      assert.equal(out.error, undefined, out.error);
      assert.equal(out.held, 2, 'both copies were held before either ran');
      assert.equal(out.distinct, true, 'each copy has its own verifier');
      assert.deepEqual(out.verifies, ['function', 'function']);
      assert.equal(out.versions[0], out.versions[1]);
      assert.deepEqual(out.hooksLeft, [], 'each ready hook is removed once used');
      await page.close();
    });

    // A page may run another Go program, built with another Go version, whose
    // loader set globalThis.Go: its imports need not match our wasm's. The
    // widget uses its own loader and leaves the page's alone.
    test('a page whose own Go loader is set: the widget uses its own, and leaves the page\'s globalThis.Go as it was', async () => {
      const page = await openBlank();
      const out = await page.evaluate(async () => {
        class OtherGo {
          constructor() { throw new Error('the page’s own Go loader was used'); }
        }
        globalThis.Go = OtherGo;
        const { loadVerifier } = await import('/dist/verifier.js');
        let timer;
        const timeout = new Promise((resolve) => { timer = setTimeout(() => resolve('no answer within 30 s'), 30000); });
        const got = await Promise.race([loadVerifier().then((ns) => typeof ns.verify, (e) => e.message), timeout]);
        clearTimeout(timer);
        return { got, kept: globalThis.Go === OtherGo };
      });
      assert.equal(out.got, 'function', 'the verifier loaded with the widget’s own loader');
      assert.equal(out.kept, true, 'the page’s globalThis.Go is untouched');
      await page.close();
    });

    // A wasm download that stops (headers that never come, or a body that
    // stops part-way) is given up once nothing has come for the load's stall
    // time: the load rejects in plain words, and a retry loads. Before, the
    // widget stayed at "verifying" for as long as the page was open.
    const stalls = {
      'its headers never come': () => {},
      'its body stops after 64 KB': (res, wasm) => {
        res.writeHead(200, { 'Content-Type': 'application/wasm', 'Content-Length': String(wasm.length) });
        res.write(wasm.subarray(0, 65536));
      },
    };
    for (const [how, stall] of Object.entries(stalls)) {
      test(`a wasm download that stalls (${how}) is given up after the stall time; a retry loads`, async () => {
        const wasm = fs.readFileSync(path.join(repoRoot, 'web/dist/cvmtrust.wasm'));
        const held = [];
        site.route('/stalling.wasm', async (req, res) => {
          held.push(res);
          stall(res, wasm);
        });
        try {
          const page = await openBlank();
          const out = await page.evaluate(async () => {
            const { loadVerifier } = await import('/verifier.js');
            let timer;
            const timeout = new Promise((resolve) => { timer = setTimeout(() => resolve({ error: 'no answer within 30 s' }), 30000); });
            const start = performance.now();
            const first = await Promise.race([
              loadVerifier({ wasmURL: '/stalling.wasm', stallTimeoutMs: 1500 }).then(() => ({ loaded: true }), (e) => ({ error: e.message, code: e.code })),
              timeout,
            ]);
            clearTimeout(timer);
            const ms = performance.now() - start;
            const retry = await loadVerifier().then((ns) => typeof ns.verify, (e) => e.message);
            return { first, ms, retry };
          });
          assert.equal(out.first.code, 'timeout', JSON.stringify(out.first));
          assert.match(out.first.error, /^The verifier’s download from http:\/\/127\.0\.0\.1:\d+ stopped: nothing came for 2 seconds\. Check your connection and try again\.$/);
          assert.ok(out.ms >= 1400 && out.ms < 15000, `given up after ${Math.round(out.ms)} ms, for a stall time of 1.5 s`);
          assert.equal(out.retry, 'function', 'a retry loads the verifier');
          await page.close();
        } finally {
          for (const res of held) res.destroy();
        }
      });
    }

    for (const [how, mainGo] of Object.entries(notVerifiers)) {
      test(`a Go program that ${how}, handing over no verifier: the load rejects at once in plain words, and a retry may load`, async () => {
        const program = buildGoWasm(mainGo);
        site.route('/not-verifier.wasm', async (req, res) => {
          res.writeHead(200, { 'Content-Type': 'application/wasm' });
          res.end(program);
        });
        const page = await openBlank();
        const out = await page.evaluate(async () => {
          const { loadVerifier } = await import('/verifier.js');
          let timer;
          const timeout = new Promise((resolve) => { timer = setTimeout(() => resolve({ error: 'no answer within 30 s' }), 30000); });
          const first = await Promise.race([loadVerifier({ wasmURL: '/not-verifier.wasm', integrity: '' }).then(() => ({ loaded: true }), (e) => ({ error: e.message })), timeout]);
          clearTimeout(timer);
          const retry = await loadVerifier().then((ns) => typeof ns.verify, (e) => e.message);
          return { first, retry, hook: '__cvmtrustReady' in globalThis };
        });
        assert.match(out.first.error ?? '', /the verifier did not start/);
        assert.equal(out.retry, 'function', 'a failed load is not cached: the next one loads the verifier');
        assert.equal(out.hook, false, 'the ready hook is taken down');
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
