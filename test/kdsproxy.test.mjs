// The KDS proxy Worker in workerd (wrangler dev --local, 127.0.0.1) in front
// of a fake AMD KDS serving the real certificates of testdata/kds.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startFakeKDS, startProxy } from './lib/kdsproxy.mjs';

const origin = 'http://127.0.0.1:8443';
const milanHWID = 'd49554ec717f4e5b0fe6b143bcf0405bd7ae304727edf46603f2a76aef6a3abc15d7af38db757039029f0efacfd08e244324884738c72b082e2f87a44d541eb6';
const milanVCEK = `/vcek/v1/Milan/${milanHWID}?blSPL=3&teeSPL=0&snpSPL=8&ucodeSPL=115`;
const turinVCEK = '/vcek/v1/Turin/3b42092f69c656d3?fmcSPL=0&blSPL=1&teeSPL=0&snpSPL=2&ucodeSPL=71';
// Valid paths of documents the fake KDS does not have: never in the cache.
const uncachedVCEK = (c) => `/vcek/v1/Genoa/${c.repeat(128)}?blSPL=1&teeSPL=0&snpSPL=1&ucodeSPL=1`;

describe('KDS proxy Worker in workerd', { timeout: 180000 }, () => {
  let kds;
  let proxy;
  before(async () => {
    kds = await startFakeKDS();
    proxy = await startProxy({ upstream: kds.url, allowedOrigins: [origin], timeoutMs: 700 });
  });
  after(async () => {
    await proxy?.close();
    await kds?.close();
  });

  const get = (p, headers = { Origin: origin }) => fetch(proxy.url + p, { headers, signal: AbortSignal.timeout(10000) });

  test('rejects invalid paths and parameters without asking KDS', async () => {
    kds.reset();
    const bad = [
      '/',
      '/favicon.ico',
      '/vcek/v1/Rome/cert_chain',
      '/vcek/v1/milan/cert_chain',
      '/vcek/v2/Milan/cert_chain',
      '/vcek/v1/Milan/cert_chain/',
      '/vcek/v1/Milan/cert_chain?x=1',
      '/vcek/v1/Mil%61n/crl',
      `/vcek/v1/Milan/${milanHWID.slice(2)}?blSPL=3&teeSPL=0&snpSPL=8&ucodeSPL=115`,
      `/vcek/v1/Milan/${milanHWID.slice(0, 127)}z?blSPL=3&teeSPL=0&snpSPL=8&ucodeSPL=115`,
      `/vcek/v1/Turin/${milanHWID}?fmcSPL=0&blSPL=1&teeSPL=0&snpSPL=2&ucodeSPL=71`,
      `/vcek/v1/Milan/${milanHWID}?blSPL=3&teeSPL=0&snpSPL=8`,
      `/vcek/v1/Milan/${milanHWID}?blSPL=3&teeSPL=0&snpSPL=8&ucodeSPL=256`,
      `/vcek/v1/Milan/${milanHWID}?blSPL=3&teeSPL=0&snpSPL=8&ucodeSPL=115&ucodeSPL=115`,
      `/vcek/v1/Milan/${milanHWID}?blSPL=3&teeSPL=0&snpSPL=8&ucodeSPL=115&redirect=http://evil`,
      '/vcek/v1/Turin/3b42092f69c656d3?blSPL=1&teeSPL=0&snpSPL=2&ucodeSPL=71',
      `/vlek/v1/Milan/${milanHWID}?blSPL=3&teeSPL=0&snpSPL=8&ucodeSPL=115`,
    ];
    for (const p of bad) {
      const res = await get(p);
      const body = await res.json();
      assert.equal(res.status, 400, `${p}: ${JSON.stringify(body)}`);
      assert.equal(body.code, 'bad_request', p);
      assert.equal(res.headers.get('access-control-allow-origin'), origin, `${p}: the page must be able to read why`);
    }
    const post = await fetch(`${proxy.url}/vcek/v1/Milan/cert_chain`, { method: 'POST', body: 'x' });
    await post.arrayBuffer();
    assert.equal(post.status, 405);
    assert.equal(post.headers.get('allow'), 'GET, OPTIONS');
    assert.equal(kds.totalHits(), 0, 'KDS was asked for an invalid request');
  });

  test('CORS headers for the configured origin, none for others', async () => {
    const ok = await get('/vcek/v1/Genoa/cert_chain');
    await ok.arrayBuffer();
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get('access-control-allow-origin'), origin);
    assert.match(ok.headers.get('access-control-expose-headers'), /Retry-After/);
    assert.match(ok.headers.get('vary'), /Origin/);

    const other = await get('/vcek/v1/Genoa/cert_chain', { Origin: 'https://evil.example' });
    await other.arrayBuffer();
    assert.equal(other.headers.get('access-control-allow-origin'), null);

    const preflight = await fetch(`${proxy.url}/vcek/v1/Genoa/cert_chain`, {
      method: 'OPTIONS', headers: { Origin: origin, 'Access-Control-Request-Method': 'GET' },
    });
    await preflight.arrayBuffer();
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers.get('access-control-allow-origin'), origin);
    assert.match(preflight.headers.get('access-control-allow-methods'), /GET/);

    const refused = await fetch(`${proxy.url}/vcek/v1/Genoa/cert_chain`, {
      method: 'OPTIONS', headers: { Origin: 'https://evil.example', 'Access-Control-Request-Method': 'GET' },
    });
    await refused.arrayBuffer();
    assert.equal(refused.status, 403);
    assert.equal(refused.headers.get('access-control-allow-origin'), null);
  });

  for (const [name, p, type] of [
    ['Milan VCEK', milanVCEK, 'application/pkix-cert'],
    ['Turin VCEK (8-byte hwid, fmcSPL)', turinVCEK, 'application/pkix-cert'],
    ['VLEK cert_chain', '/vlek/v1/Milan/cert_chain', 'application/x-pem-file'],
    ['CRL', '/vcek/v1/Milan/crl', 'application/pkix-crl'],
  ]) {
    test(`second identical request served from cache: ${name}`, async () => {
      kds.reset();
      const want = kds.documents.get(p).body;
      const statuses = [];
      for (let i = 0; i < 2; i++) {
        const res = await get(p);
        const body = Buffer.from(await res.arrayBuffer());
        assert.equal(res.status, 200);
        assert.equal(res.headers.get('content-type'), type);
        assert.ok(body.equals(want), 'the proxy must relay the document byte for byte');
        statuses.push(res.headers.get('kds-proxy-cache'));
      }
      assert.deepEqual(statuses, ['miss', 'hit']);
      assert.equal(kds.hits(p), 1, 'KDS asked more than once');
      assert.equal(kds.totalHits(), 1);
    });
  }

  test('the same VCEK spelled differently is one cache entry', async () => {
    kds.reset();
    const shuffled = `/vcek/v1/Milan/${milanHWID.toUpperCase()}?ucodeSPL=115&snpSPL=8&teeSPL=0&blSPL=3`;
    const res = await get(shuffled);
    await res.arrayBuffer();
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('kds-proxy-cache'), 'hit');
    assert.equal(kds.totalHits(), 0);
  });

  test('unknown document: 404, not cached', async () => {
    kds.reset();
    const p = `/vcek/v1/Milan/${'ab'.repeat(64)}?blSPL=3&teeSPL=0&snpSPL=8&ucodeSPL=115`;
    for (let i = 0; i < 2; i++) {
      const res = await get(p);
      assert.equal(res.status, 404);
      assert.equal((await res.json()).code, 'not_found');
    }
    assert.equal(kds.hits(p), 2);
  });

  test('hanging upstream: 504 with Retry-After, bounded by the timeout', async () => {
    kds.reset();
    kds.hang();
    const start = performance.now();
    const res = await get(uncachedVCEK('c'));
    const elapsed = performance.now() - start;
    const body = await res.json();
    kds.reset();
    assert.equal(res.status, 504, JSON.stringify(body));
    assert.equal(body.code, 'upstream_timeout');
    assert.ok(Number(res.headers.get('retry-after')) > 0);
    assert.ok(elapsed < 3000, `answered after ${elapsed.toFixed(0)} ms with a 700 ms upstream timeout`);
  });

  test('upstream 429 answered within 1 s with Retry-After; cached copies still served', async () => {
    kds.reset();
    kds.failWith(429, 2);
    const start = performance.now();
    const res = await get(uncachedVCEK('d'));
    const elapsed = performance.now() - start;
    const body = await res.json();
    assert.equal(res.status, 429, JSON.stringify(body));
    assert.equal(body.code, 'upstream_rate_limited');
    assert.equal(res.headers.get('retry-after'), '2');
    assert.equal(res.headers.get('access-control-allow-origin'), origin);
    assert.ok(elapsed < 1000, `429 answered after ${elapsed.toFixed(0)} ms`);

    // While KDS said to wait, the proxy does not ask it again...
    const uncached = await get(uncachedVCEK('e'));
    assert.equal(uncached.status, 429);
    assert.ok(Number(uncached.headers.get('retry-after')) >= 1);
    await uncached.arrayBuffer();
    assert.equal(kds.totalHits(), 1, 'KDS asked again during Retry-After');
    // ...but what it has cached is still served.
    const cached = await get(milanVCEK);
    await cached.arrayBuffer();
    assert.equal(cached.status, 200);
    assert.equal(cached.headers.get('kds-proxy-cache'), 'hit');
  });
});

describe('KDS proxy Worker under concurrent requests', { timeout: 180000 }, () => {
  let kds;
  let proxy;
  before(async () => {
    kds = await startFakeKDS();
    proxy = await startProxy({ upstream: kds.url, allowedOrigins: [origin], timeoutMs: 3000 });
  });
  after(async () => {
    await proxy?.close();
    await kds?.close();
  });

  // workerd ties I/O to the request that started it and cancels it when
  // that request ends. Requests that time out while others are in flight
  // must not take the others' fetches and cache reads down with them.
  test('requests that time out do not cancel concurrent ones', async () => {
    const hangs = (p) => p.includes('/ffff');
    kds.hang(hangs);
    const paths = [...kds.documents.keys()];
    const stuck = [0, 1, 2, 3].map((i) => `/vcek/v1/Genoa/${'f'.repeat(128)}?blSPL=${i}&teeSPL=0&snpSPL=1&ucodeSPL=1`);
    const all = [...paths, ...paths, ...stuck];
    const results = await Promise.all(all.map(async (p) => {
      const res = await fetch(proxy.url + p, { signal: AbortSignal.timeout(60000) });
      return { p, status: res.status, body: Buffer.from(await res.arrayBuffer()) };
    }));
    kds.reset();
    for (const { p, status, body } of results) {
      if (hangs(p)) {
        assert.equal(status, 504, `${p}: ${body.toString('utf8', 0, 200)}`);
        continue;
      }
      assert.equal(status, 200, `${p}: ${body.toString('utf8', 0, 200)}`);
      assert.ok(body.equals(kds.documents.get(p).body), `${p}: got another document`);
    }
  });
});
