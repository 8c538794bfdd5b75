// A test site in front of a gateway, on 127.0.0.1: it forwards every request
// to the gateway and lets a test change what crosses the wire in a way every
// browser engine sees the same (no engine-specific request interception):
//
//   - routes replace or rewrite one path's answer (tampered evidence, a
//     stalled or endless answer);
//   - every request is recorded (method, path, body of uploads);
//   - HTML pages get /__test/instrument.js as their first script, which
//     records the element's events, camera requests, CSP violations and
//     uncaught errors in window.__test;
//   - site.csp, when set, is sent as the pages' Content-Security-Policy.
import fs from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const axePath = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

/**
 * Records each shadow root as it is attached, as window.__test.root(el): the
 * element's root is closed, and the tests read it. A script that runs before
 * the widget can do this (web/README.md says so); nothing that runs after it
 * can.
 */
export const recordShadowRoots = `(() => {
  const t = window.__test = window.__test || {};
  const roots = new WeakMap();
  const attachShadow = Element.prototype.attachShadow;
  Element.prototype.attachShadow = function (init) {
    const root = attachShadow.call(this, init);
    roots.set(this, root);
    return root;
  };
  t.root = (el) => roots.get(el) ?? null;
})();`;

const instrument = ({ picture, cameraError, countSenderContexts, firstScript }) => `'use strict';
(() => {
  const t = window.__test = { events: [], cameraRequests: 0, csp: [], errors: [] };
  const picture = ${JSON.stringify(picture)};
  t.cameraError = ${JSON.stringify(cameraError)};
  for (const type of ['cvm-verified', 'cvm-failed', 'cvm-enrolled']) {
    document.addEventListener(type, (e) => {
      t.events.push({ type, ctor: e.constructor.name, bubbles: e.bubbles, composed: e.composed });
    });
  }
  document.addEventListener('securitypolicyviolation', (e) => {
    t.csp.push({ directive: e.violatedDirective, blocked: e.blockedURI, sample: e.sample, source: e.sourceFile + ':' + e.lineNumber });
  });
  // When the upload starts: a capture's click-to-upload time is enrollStartedAt - clickedAt.
  const fetch0 = window.fetch;
  window.fetch = function (input, init) {
    if (new URL(String(input && input.url || input), location.href).pathname.endsWith("/enroll")) t.enrollStartedAt = performance.now();
    return fetch0.apply(this, arguments);
  };
  // The HPKE sender contexts the page sets up (site.countSenderContexts): the module is patched before the
  // verifier, which loads it only once a gateway verified, gets hold of it.
  if (${JSON.stringify(!!countSenderContexts)}) {
    t.senderContexts = 0;
    import('/dist/hpke.js').then(({ CipherSuite }) => {
      const create = CipherSuite.prototype.createSenderContext;
      CipherSuite.prototype.createSenderContext = function () {
        t.senderContexts++;
        return create.apply(this, arguments);
      };
      t.senderContextsHooked = true;
    });
  }
  window.addEventListener('error', (e) => { t.errors.push(String(e.message)); });
  window.addEventListener('unhandledrejection', (e) => { t.errors.push('unhandled rejection: ' + String(e.reason && e.reason.message || e.reason)); });
  // Wrapped on the prototype: WebKit ignores a getUserMedia set on navigator.mediaDevices itself.
  const proto = window.MediaDevices && MediaDevices.prototype;
  if (proto && proto.getUserMedia) {
    const original = proto.getUserMedia;
    proto.getUserMedia = async function (...args) {
      t.cameraRequests++;
      // A refusal as the engine would give it (a person who said no, no camera at all).
      if (t.cameraError) throw new DOMException('test: ' + t.cameraError, t.cameraError);
      const stream = await original.apply(this, args);
      if (!picture) return stream;
      // The engine's camera was opened (and its permission path taken); the
      // page films the test picture instead, as Chromium's file camera does.
      stream.getTracks().forEach((track) => track.stop());
      return pictureStream();
    };
    t.cameraHooked = true;
  }
  function pictureStream() {
    const canvas = document.createElement('canvas');
    canvas.width = picture.width;
    canvas.height = picture.height;
    const ctx = canvas.getContext('2d');
    const gray = Uint8Array.from(atob(picture.gray), (c) => c.charCodeAt(0));
    const img = ctx.createImageData(picture.width, picture.height);
    for (let i = 0; i < gray.length; i++) {
      img.data[4 * i] = img.data[4 * i + 1] = img.data[4 * i + 2] = gray[i];
      img.data[4 * i + 3] = 255;
    }
    const paint = () => ctx.putImageData(img, 0, 0);
    paint();
    const out = canvas.captureStream(30);
    const timer = setInterval(paint, 50);
    out.getVideoTracks()[0].addEventListener('ended', () => clearInterval(timer));
    const stop = out.getVideoTracks()[0].stop.bind(out.getVideoTracks()[0]);
    out.getVideoTracks()[0].stop = () => { clearInterval(timer); stop(); };
    return out;
  }
})();
${recordShadowRoots}
${firstScript ?? ''}
`;


/** How much endlessAnswer sends, far over every cap the page has. */
export const endlessAnswerBytes = 200 * (1 << 20);

/**
 * Answers res with endlessAnswerBytes of contentType, counting what it wrote
 * in written.bytes and setting written.closed when the client goes away:
 * a server that never stops, for the tests of the page's caps.
 *
 * Paced, at most 64 KB every 4 ms (16 MB/s): the page's caps (64 KB to 1 MB)
 * come within a tenth of a second, the whole answer only after 13 s. On
 * loopback, unpaced, WebKitGTK's network process takes in all of it before
 * a loaded page has read its first megabyte (it reads ahead without end),
 * and the test then sees a full answer, not the page's cancel.
 */
export function endlessAnswer(res, contentType, written) {
  res.writeHead(200, { 'Content-Type': contentType });
  const chunk = Buffer.alloc(1 << 16, 0x41);
  written.bytes = 0;
  const pump = () => {
    if (written.closed) return;
    if (written.bytes >= endlessAnswerBytes) return res.end();
    written.bytes += chunk.length;
    // A 64 KB write is over the socket's buffer mark, so it mostly returns false: pace after a drain as well.
    if (!res.write(chunk)) return res.once('drain', () => setTimeout(pump, 4));
    setTimeout(pump, 4);
  };
  res.on('close', () => { written.closed = true; });
  pump();
}

/** The first frame's luma plane of a Y4M file: { width, height, gray (base64) }. */
export function y4mPicture(file) {
  const buf = fs.readFileSync(file);
  const header = buf.subarray(0, buf.indexOf(0x0a)).toString('latin1');
  const width = Number(/ W(\d+)/.exec(header)[1]);
  const height = Number(/ H(\d+)/.exec(header)[1]);
  const frame = buf.indexOf(Buffer.from('FRAME\n')) + 6;
  return { width, height, gray: buf.subarray(frame, frame + width * height).toString('base64') };
}

const webDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../web');
const contentTypes = { '.js': 'text/javascript', '.wasm': 'application/wasm', '.json': 'application/json', '.html': 'text/html', '.css': 'text/css', '.pem': 'application/x-pem-file' };

// Without a gateway: web/ as static files, and an empty page at /blank.html.
function serveWeb(pathname) {
  if (pathname === '/blank.html') return { status: 200, headers: { 'content-type': 'text/html' }, body: Buffer.from('<!doctype html><html lang="en"><head><title>cvmtrust</title></head><body></body></html>') };
  const file = path.join(webDir, path.normalize(decodeURIComponent(pathname)));
  if (!file.startsWith(webDir + path.sep) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
    return { status: 404, headers: { 'content-type': 'text/plain' }, body: Buffer.from('not found') };
  }
  return { status: 200, headers: { 'content-type': contentTypes[path.extname(file)] ?? 'application/octet-stream' }, body: fs.readFileSync(file) };
}

/**
 * Starts the site in front of upstream (null: web/ as static files) (a gateway's base URL). Resolves with
 * { url, requests, route(pathname, handler), mutateJSON(pathname, fn), csp, reset(), close() }.
 * A handler is async (req, res, { forward, body }) and writes the answer;
 * forward() resolves with the gateway's { status, headers, body }.
 */
export async function startTestSite(upstream) {
  const routes = new Map();
  const site = {
    url: '',
    requests: [],
    csp: null,
    /** A picture ({ width, height, gray }, see y4mPicture) every getUserMedia stream shows instead of the engine's camera. */
    cameraPicture: null,
    /** When set (a DOMException name such as NotAllowedError), getUserMedia rejects with it. */
    cameraError: null,
    /** When set, window.__test.senderContexts counts the HPKE sender contexts the page sets up. */
    countSenderContexts: false,
    /** Script that runs in every HTML page after the instrument's own, before any of the page's (a hostile page's first script). */
    firstScript: null,
    route(pathname, handler) { routes.set(pathname, handler); },
    /** Answers pathname with fn(the gateway's JSON answer), re-serialized. */
    mutateJSON(pathname, fn) {
      routes.set(pathname, async (req, res, { forward }) => {
        const up = await forward();
        const body = JSON.stringify(await fn(JSON.parse(up.body.toString('utf8'))));
        res.writeHead(up.status, { 'Content-Type': 'application/json' });
        res.end(body);
      });
    },
    reset() {
      routes.clear();
      site.requests.length = 0;
      site.csp = null;
      site.cameraError = null;
      site.countSenderContexts = false;
      site.firstScript = null;
    },
  };
  const sockets = new Set();
  const server = http.createServer(async (req, res) => {
    const u = new URL(req.url, 'http://x');
    // Recorded on arrival, so a request belongs to the test during which it arrived.
    const record = { method: req.method, path: u.pathname };
    site.requests.push(record);
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const body = Buffer.concat(chunks);
    if (req.method === 'POST') record.body = body.toString('utf8');
    if (u.pathname === '/__test/axe.js') {
      // axe-core, for accessibility checks; loaded by a test into the page under test.
      res.writeHead(200, { 'Content-Type': 'text/javascript' });
      return res.end(fs.readFileSync(axePath));
    }
    if (u.pathname === '/__test/instrument.js') {
      res.writeHead(200, { 'Content-Type': 'text/javascript', 'Cache-Control': 'no-store' });
      return res.end(instrument({ picture: site.cameraPicture, cameraError: site.cameraError, countSenderContexts: site.countSenderContexts, firstScript: site.firstScript }));
    }
    const forward = async () => {
      if (!upstream) return serveWeb(u.pathname);
      const headers = { ...req.headers };
      delete headers.host;
      delete headers['accept-encoding'];
      const r = await fetch(new URL(req.url, upstream), { method: req.method, headers, body: req.method === 'GET' || req.method === 'HEAD' ? undefined : body, redirect: 'manual' });
      return { status: r.status, headers: Object.fromEntries(r.headers), body: Buffer.from(await r.arrayBuffer()) };
    };
    try {
      // A route ending in * takes every path it is a prefix of.
      const handler = routes.get(u.pathname) ?? [...routes].find(([k]) => k.endsWith('*') && u.pathname.startsWith(k.slice(0, -1)))?.[1];
      if (handler) return await handler(req, res, { forward, body });
      const up = await forward();
      const headers = { ...up.headers, 'cache-control': 'no-store' };
      delete headers['content-length'];
      delete headers['content-encoding'];
      delete headers['transfer-encoding'];
      let out = up.body;
      if (/^text\/html/.test(headers['content-type'] ?? '')) {
        out = Buffer.from(out.toString('utf8').replace(/<head>/i, '<head><script src="/__test/instrument.js"></script>'));
        if (site.csp) headers['content-security-policy'] = site.csp;
      }
      res.writeHead(up.status, headers);
      res.end(out);
    } catch (err) {
      if (!res.headersSent) res.writeHead(502, { 'Content-Type': 'text/plain' });
      res.end(String(err));
    }
  });
  server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  site.url = `http://127.0.0.1:${server.address().port}/`;
  site.close = () => new Promise((resolve) => {
    for (const s of sockets) s.destroy();
    server.close(() => resolve());
  });
  return site;
}
