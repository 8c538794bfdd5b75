#!/usr/bin/env node
// Measures a capture in the demo page, click → upload start, in each engine of
// CVMTRUST_BROWSERS (Chromium, Firefox ESR, WebKitGTK; all three by default),
// with each engine's own fake camera at its own resolution (640×480 asked
// for), against test/widgetgateway on loopback. Prints JSON.
//
//   click      the capture button's click → the page's fetch of /enroll
//              (test/lib/testsite.mjs's instrument script records it)
//   frame      click → the frame's pixels in the canvas (cvm-attest.js's
//              performance mark cvmtrust:frame)
//   encode     → the JPEG's bytes (cvmtrust:captured)
//   seal       the frame encoded → upload start: HPKE seal, base64, JSON
//
// Each run is a fresh page load of the demo: it verifies the simulated
// gateway, opens the camera, and the button is clicked `--settle` ms (default
// 1000) after the preview shows a picture and the button is enabled, as a
// person looks at the preview before taking the photo.
//
// --variants adds, once per engine, the in-page cost of each way to grab and
// encode the frame and of HPKE's parts (median of --variant-runs, default 7),
// so that the choice made in web/cvm-attest.js can be checked per engine.
//
// The machine's load average is printed before and after each engine: on a
// shared machine every figure moves with it.
//
// Run after ./scripts/build-wasm.sh:
//   node scripts/bench-capture.mjs [--runs N] [--settle MS] [--variants [--variant-runs N]]
import os from 'node:os';
import { launchEngine, selectedEngines, startWidgetGateway, settled } from '../test/lib/browser.mjs';
import { startTestSite } from '../test/lib/testsite.mjs';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const runs = arg('--runs', 5);
const settle = arg('--settle', 1000);
const variants = process.argv.includes('--variants');
const variantRuns = arg('--variant-runs', 7);

const round = (x) => Math.round(x * 10) / 10;
const median = (xs) => {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (!s.length) return null;
  const m = s.length >> 1;
  return round(s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2);
};
const load = () => os.loadavg().map((x) => round(x));

/** One capture in a freshly loaded demo page: { size, click, frame, encode, seal }. */
async function captureOnce(browser, site) {
  const page = await browser.newPage();
  try {
    await page.goto(new URL('demo/', site.url).href);
    const state = await settled(page);
    if (state !== 'simulated') throw new Error(`the demo did not verify: ${state}`);
    await page.waitFor(() => {
      const root = window.__test.root(document.querySelector('cvm-attest'));
      return !root.querySelector('.capture').disabled && root.querySelector('.preview').videoWidth > 0;
    }, null, { timeout: 30000 });
    await new Promise((r) => setTimeout(r, settle));
    const out = await page.evaluate(async () => {
      const el = document.querySelector('cvm-attest');
      const video = window.__test.root(el).querySelector('.preview');
      const size = `${video.videoWidth}×${video.videoHeight}`;
      const clickedAt = performance.now();
      window.__test.root(el).querySelector('.capture').click();
      const deadline = clickedAt + 20000;
      while (!window.__test.enrollStartedAt && performance.now() < deadline) await new Promise((r) => setTimeout(r, 2));
      const at = (name) => performance.getEntriesByName(name).at(-1)?.startTime;
      const upload = window.__test.enrollStartedAt;
      if (!upload) return { size, error: window.__test.root(el).querySelector('.message').textContent };
      return { size, click: upload - clickedAt, frame: at('cvmtrust:frame') - clickedAt, encode: at('cvmtrust:captured') - at('cvmtrust:frame'), seal: upload - at('cvmtrust:captured') };
    });
    if (out.error) throw new Error(`no upload: ${out.error}`);
    // The upload's answer is not part of the figure; let it land before the page goes.
    await page.waitFor(() => {
      const el = document.querySelector('cvm-attest');
      return el.receipt !== null || /refused|could not|did not/.test(window.__test.root(el).querySelector('.message').textContent);
    }, null, { timeout: 20000 }).catch(() => {});
    return out;
  } finally {
    await page.close();
  }
}

/** The in-page cost of each way to grab, encode and seal, in the page of a capture-ready demo. */
async function measureVariants(browser, site) {
  const page = await browser.newPage();
  try {
    await page.goto(new URL('demo/?badge-only', site.url).href);
    if (await settled(page) !== 'simulated') throw new Error('the demo did not verify');
    return await page.evaluate(async (n) => {
      const stream = await navigator.mediaDevices.getUserMedia({ video: { width: { ideal: 640 }, height: { ideal: 480 } }, audio: false });
      const video = document.createElement('video');
      video.muted = true;
      video.playsInline = true;
      video.srcObject = stream;
      document.body.append(video);
      await video.play();
      while (!video.videoWidth) await new Promise((r) => setTimeout(r, 10));
      await new Promise((r) => setTimeout(r, 500));
      const W = video.videoWidth;
      const H = video.videoHeight;
      const out = { size: `${W}×${H}` };
      const med = (xs) => { const s = [...xs].sort((a, b) => a - b); return Math.round(s[s.length >> 1] * 10) / 10; };
      // Each variant n times, a frame apart, after one untimed run (first-use set-up is measured apart).
      const time = async (name, fn) => {
        try {
          const t0 = performance.now();
          const info = await fn();
          const first = performance.now() - t0;
          const xs = [];
          for (let i = 0; i < n; i++) {
            await new Promise((r) => setTimeout(r, 40));
            const t1 = performance.now();
            await fn();
            xs.push(performance.now() - t1);
          }
          out[name] = { median: med(xs), first: Math.round(first), ...(info !== undefined ? { info } : {}) };
        } catch (e) {
          out[name] = { unavailable: (e instanceof Error ? `${e.name}: ${e.message}` : String(e)).slice(0, 160) };
        }
      };
      const canvas = (opts) => {
        const c = document.createElement('canvas');
        c.width = W;
        c.height = H;
        return [c, c.getContext('2d', opts)];
      };
      const toBlob = (c, type, q) => new Promise((resolve, reject) => c.toBlob((b) => (b ? resolve(b) : reject(new Error('no blob'))), type, q));
      // Grab: the frame's pixels where an encoder can take them.
      const [c1, x1] = canvas({ willReadFrequently: true });
      const [c2, x2] = canvas({});
      await time('grab drawImage(video), CPU canvas', () => { x1.drawImage(video, 0, 0); });
      await time('grab drawImage(video), default canvas', () => { x2.drawImage(video, 0, 0); });
      await time('grab createImageBitmap(video)', async () => { (await createImageBitmap(video)).close(); });
      await time('grab new VideoFrame(video) + drawImage', () => { const f = new VideoFrame(video); x1.drawImage(f, 0, 0); f.close(); });
      await time('grab new VideoFrame(video) + copyTo RGBA + putImageData', async () => {
        const f = new VideoFrame(video);
        try {
          const img = new ImageData(f.displayWidth, f.displayHeight);
          await f.copyTo(img.data, { format: 'RGBA', rect: { x: 0, y: 0, width: f.displayWidth, height: f.displayHeight } });
          x1.putImageData(img, 0, 0);
          return f.format;
        } finally {
          f.close();
        }
      });
      await time('grab ImageCapture.grabFrame', async () => {
        (await new ImageCapture(stream.getVideoTracks()[0]).grabFrame()).close();
      });
      // Encode: the same frame (drawn once) in each format and quality.
      x1.drawImage(video, 0, 0);
      x2.drawImage(video, 0, 0);
      for (const q of [0.92, 0.85]) {
        await time(`encode toBlob JPEG ${q}, CPU canvas`, async () => (await toBlob(c1, 'image/jpeg', q)).size);
        await time(`encode toBlob JPEG ${q}, default canvas`, async () => (await toBlob(c2, 'image/jpeg', q)).size);
      }
      await time('encode toDataURL JPEG 0.92, CPU canvas', () => c1.toDataURL('image/jpeg', 0.92).length);
      await time('encode toBlob PNG, CPU canvas', async () => (await toBlob(c1, 'image/png')).size);
      await time('encode OffscreenCanvas.convertToBlob JPEG 0.92', async () => {
        const oc = new OffscreenCanvas(W, H);
        oc.getContext('2d').drawImage(c1, 0, 0);
        return (await oc.convertToBlob({ type: 'image/jpeg', quality: 0.92 })).size;
      });
      // Off the main thread: the frame as an ImageBitmap, encoded in a worker.
      const worker = new Worker(URL.createObjectURL(new Blob([`onmessage = async (e) => {
        const oc = new OffscreenCanvas(e.data.width, e.data.height);
        oc.getContext('2d').drawImage(e.data, 0, 0);
        e.data.close();
        const b = await oc.convertToBlob({ type: 'image/jpeg', quality: 0.92 });
        postMessage(b.size);
      };`], { type: 'text/javascript' })));
      await time('grab+encode createImageBitmap(video) → worker OffscreenCanvas JPEG 0.92', async () => {
        const bitmap = await createImageBitmap(video);
        return new Promise((resolve) => { worker.onmessage = (e) => resolve(e.data); worker.postMessage(bitmap, [bitmap]); });
      });
      worker.terminate();
      // HPKE (X-Wing): the sender context (encapsulation + key schedule), then sealing a capture-sized message.
      const hpke = await import('../dist/hpke.js');
      const suite = new hpke.CipherSuite({ kem: new hpke.XWing(), kdf: new hpke.HkdfSha256(), aead: new hpke.Aes256Gcm() });
      const pk = new Uint8Array(await suite.kem.serializePublicKey((await suite.kem.generateKeyPair()).publicKey));
      const sender = async () => suite.createSenderContext({ recipientPublicKey: await suite.kem.deserializePublicKey(pk), info: new Uint8Array(66) });
      const message = new Uint8Array(64 << 10);
      await time('hpke X-Wing sender context', async () => { await sender(); });
      const contexts = [];
      for (let i = 0; i <= n; i++) contexts.push(await sender());
      await time('hpke AES-256-GCM seal of 64 KiB, context ready', async () => { await contexts.pop().seal(message); });
      stream.getTracks().forEach((t) => t.stop());
      return out;
    }, variantRuns);
  } finally {
    await page.close();
  }
}

const results = { runs, settleMs: settle, cpus: os.cpus().length, engines: {} };
const gw = await startWidgetGateway();
const site = await startTestSite(gw.url);
try {
  for (const engine of selectedEngines()) {
    const r = { loadBefore: load() };
    const browser = await launchEngine(engine, { videoFile: gw.y4m });
    try {
      const each = [];
      for (let i = 0; i < runs; i++) {
        site.reset();
        site.cameraPicture = null; // the engine's own camera
        each.push(await captureOnce(browser, site));
      }
      r.size = [...new Set(each.map((e) => e.size))].join(', ');
      r.median = Object.fromEntries(['click', 'frame', 'encode', 'seal'].map((k) => [k, median(each.map((e) => e[k]))]));
      r.click = each.map((e) => Math.round(e.click));
      if (variants) r.variants = await measureVariants(browser, site);
    } finally {
      await browser.close();
    }
    r.loadAfter = load();
    results.engines[engine] = r;
    process.stderr.write(`${engine}: click → upload start median ${r.median.click} ms (${r.click.join(', ')}), load ${r.loadBefore.join(' ')} → ${r.loadAfter.join(' ')}\n`);
  }
} finally {
  await site.close();
  await gw.stop();
}
console.log(JSON.stringify(results, null, 2));
