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
import http from 'node:http';

const instrument = `'use strict';
(() => {
  const t = window.__test = { events: [], cameraRequests: 0, csp: [], errors: [] };
  for (const type of ['cvm-verified', 'cvm-failed', 'cvm-enrolled']) {
    document.addEventListener(type, (e) => {
      t.events.push({ type, ctor: e.constructor.name, bubbles: e.bubbles, composed: e.composed });
    });
  }
  document.addEventListener('securitypolicyviolation', (e) => {
    t.csp.push({ directive: e.violatedDirective, blocked: e.blockedURI, sample: e.sample, source: e.sourceFile + ':' + e.lineNumber });
  });
  window.addEventListener('error', (e) => { t.errors.push(String(e.message)); });
  window.addEventListener('unhandledrejection', (e) => { t.errors.push('unhandled rejection: ' + String(e.reason && e.reason.message || e.reason)); });
  const md = navigator.mediaDevices;
  if (md && md.getUserMedia) {
    const original = md.getUserMedia.bind(md);
    md.getUserMedia = (...args) => { t.cameraRequests++; return original(...args); };
  }
})();
`;

/**
 * Starts the site in front of upstream (a gateway's base URL). Resolves with
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
    },
  };
  const sockets = new Set();
  const server = http.createServer(async (req, res) => {
    const u = new URL(req.url, 'http://x');
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const body = Buffer.concat(chunks);
    site.requests.push({ method: req.method, path: u.pathname, ...(req.method === 'POST' ? { body: body.toString('utf8') } : {}) });
    if (u.pathname === '/__test/instrument.js') {
      res.writeHead(200, { 'Content-Type': 'text/javascript', 'Cache-Control': 'no-store' });
      return res.end(instrument);
    }
    const forward = async () => {
      const headers = { ...req.headers };
      delete headers.host;
      delete headers['accept-encoding'];
      const r = await fetch(new URL(req.url, upstream), { method: req.method, headers, body: req.method === 'GET' || req.method === 'HEAD' ? undefined : body, redirect: 'manual' });
      return { status: r.status, headers: Object.fromEntries(r.headers), body: Buffer.from(await r.arrayBuffer()) };
    };
    try {
      const handler = routes.get(u.pathname);
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
