// `npm pack` in web/ gives a package a site can install and use: every
// module, the wasm and its loader, the pins, types and an example. The
// example page in its safe form (dist/example/index.html: every module
// pinned, a signed release, no unsafe attribute), served from
// /node_modules/@cvmtrust/widget/, verifies a simulated gateway in Chromium
// once it is pointed at it; one changed byte in a module stops it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { launchBrowser, startSimulatedGateway, settledState, repoRoot } from './lib/browser.mjs';

const origin = 'http://127.0.0.1:9'; // a secure context; every request is intercepted
const prefix = '/node_modules/@cvmtrust/widget/';
let pkg; // the unpacked package
let tmp;
let gw;
let browser;

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cvmtrust-pack-'));
  const out = execFileSync('npm', ['pack', '--json', '--pack-destination', tmp], { cwd: path.join(repoRoot, 'web'), encoding: 'utf8' });
  const [{ filename }] = JSON.parse(out.slice(out.indexOf('[')));
  execFileSync('tar', ['-xzf', path.join(tmp, filename), '-C', tmp]);
  pkg = path.join(tmp, 'package');
  // As scripts/demo.sh runs it: the demo page pins a signed release, which the gateway signs and serves.
  gw = await startSimulatedGateway(['--sim-release-manifest', path.join(repoRoot, 'web/demo/release.json')]);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await gw?.stop();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

const sri = (b) => 'sha384-' + createHash('sha384').update(b).digest('base64');
const packaged = (name) => fs.readFileSync(path.join(pkg, name));

test('the package holds every module, the wasm, its loader, the pins, types and an example', () => {
  const modules = fs.readdirSync(path.join(repoRoot, 'web')).filter((f) => f.endsWith('.js') || f.endsWith('.d.ts'));
  for (const f of [...modules, 'dist/cvmtrust.wasm', 'dist/wasm_exec.js', 'dist/integrity.js', 'dist/importmap.json',
    'dist/build.json', 'example/index.html', 'dist/example/index.html', 'README.md', 'package.json']) {
    assert.ok(fs.existsSync(path.join(pkg, f)), `${f} is in the package`);
  }
  assert.ok(!fs.existsSync(path.join(pkg, 'demo')), 'the demo stays out');
  const manifest = JSON.parse(packaged('package.json'));
  for (const target of [manifest.exports['.'].default, manifest.exports['.'].types, manifest.exports['./define'].default, manifest.exports['./importmap.json']]) {
    assert.ok(fs.existsSync(path.join(pkg, target)), `export ${target} exists`);
  }
});

test('every import and every file a module names resolves inside the package', () => {
  const js = fs.readdirSync(pkg).filter((f) => f.endsWith('.js')).concat(['dist/integrity.js']);
  let refs = 0;
  for (const f of js) {
    const src = packaged(f).toString();
    const specs = [...src.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'";]*?from\s*['"]([^'"]+)['"]/g), ...src.matchAll(/new URL\(\s*['"]([^'"]+)['"]\s*,\s*import\.meta\.url\s*\)/g),
      ...src.matchAll(/(?:^|\n)\s*import\s*['"]([^'"]+)['"]/g)].map((m) => m[1]);
    for (const s of specs) {
      assert.ok(s.startsWith('./'), `${f} imports ${s}: only relative imports inside the package`);
      assert.ok(fs.existsSync(path.join(pkg, path.dirname(f), s)), `${f}: ${s} is in the package`);
      refs++;
    }
  }
  assert.ok(refs >= 6, `found ${refs} references`);
});

test('the minified modules in dist/ are what the import map names, and their references stay in dist/', () => {
  const map = JSON.parse(packaged('dist/importmap.json'));
  assert.equal(map.imports['@cvmtrust/widget'], './dist/index.js');
  assert.equal(map.imports['@cvmtrust/widget/define'], './dist/define.js');
  const sources = fs.readdirSync(pkg).filter((f) => f.endsWith('.js'));
  let refs = 0;
  const total = (names) => names.reduce((a, n) => a + packaged(n).length, 0);
  assert.ok(total(sources.map((f) => `dist/${f}`)) < total(sources) * 0.7, 'the minified modules are smaller than their sources');
  for (const f of sources) {
    const min = packaged(`dist/${f}`).toString();
    assert.equal(map.integrity[`./dist/${f}`], sri(packaged(`dist/${f}`)), `the import map pins dist/${f}`);
    // Minified code keeps several statements on a line: no line anchors.
    const specs = [...min.matchAll(/\bfrom\s*["']([^"']+)["']/g), ...min.matchAll(/\bimport\s*\(?\s*["']([^"']+)["']/g),
      ...min.matchAll(/new URL\(\s*["']([^"']+)["']\s*,\s*import\.meta\.url/g)].map((m) => m[1]);
    for (const s of specs) {
      assert.ok(s.startsWith('./') && !s.slice(2).includes('/'), `dist/${f} refers to ${s}: only files beside it`);
      assert.ok(fs.existsSync(path.join(pkg, 'dist', s)), `dist/${f}: ${s} is in the package`);
      refs++;
    }
  }
  assert.ok(refs >= 8, `found ${refs} references`);
});

test('the pins match the packaged bytes', () => {
  const map = JSON.parse(packaged('dist/importmap.json'));
  const build = JSON.parse(packaged('dist/build.json'));
  for (const [key, integrity] of Object.entries(map.integrity)) {
    assert.equal(integrity, sri(packaged(key)), `import map integrity of ${key}`);
  }
  for (const f of fs.readdirSync(pkg).filter((f) => f.endsWith('.js'))) {
    assert.ok(`./${f}` in map.integrity, `${f} is pinned by the import map`);
  }
  for (const [name, f] of Object.entries(build.files)) assert.equal(f.integrity, sri(packaged(name)), `build.json integrity of ${name}`);
  assert.match(packaged('dist/integrity.js').toString(), new RegExp(sri(packaged('dist/cvmtrust.wasm')).replace(/[+/]/g, '\\$&')));
});

test('the example is the safe form: every module pinned, a signed release, no unsafe attribute, no inline script', () => {
  const html = packaged('dist/example/index.html').toString();
  const map = JSON.parse(/<script type="importmap">([\s\S]*?)<\/script>/.exec(html)[1]);
  const built = JSON.parse(packaged('dist/importmap.json')).integrity;
  assert.deepEqual(map.integrity, Object.fromEntries(Object.entries(built).map(([k, v]) => [k.replace(/^\.\//, prefix), v])));
  for (const [, src] of html.matchAll(/<(?:script|link)\b[^>]*\s(?:src|href)="([^"]+)"/g)) {
    assert.ok(map.integrity[src], `${src} is pinned`);
  }
  assert.doesNotMatch(html, /<script(?![^>]*\ssrc=)(?![^>]*type="importmap")[^>]*>/, 'no inline script');
  const element = /<cvm-attest\s[^>]*>/.exec(html)[0];
  assert.match(element, /\srelease-repository="cvmtrust\/cvmtrust"/);
  assert.match(element, /\skds-proxy="https:/);
  assert.doesNotMatch(element, /manifests?=|measurements=|-unsafe|vmpl=|trust-simulated-root/);
});

/**
 * The example page as a site would deploy it (pinned by the build), pointed at the simulated gateway: the test
 * says what a simulated gateway needs, its fake roots and their KDS (for the CRL).
 */
function deployedExample() {
  let html = packaged('dist/example/index.html').toString();
  assert.match(html, /"integrity": \{\n\s+"\/node_modules\/@cvmtrust\/widget\//, 'the example is pinned');
  // The gateway is reached at /gw/ on the page's origin (proxied below).
  html = html.replace(/<cvm-attest [^>]*>/, '<cvm-attest gateway="/gw/" release-repository="cvmtrust/cvmtrust" release-ref="refs/tags/*"'
    + ' release-trust-simulated-root="/gw/simulated/sigstore-trusted-root.json" trust-simulated-root="/gw/simulated/ark.pem"'
    + ' kds-proxy="/gw/simulated/kds">');
  return html;
}

async function openExample(tamper) {
  const page = await browser.context.newPage();
  const errors = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  await page.route(`${origin}/**`, (route) => {
    const p = new URL(route.request().url()).pathname;
    if (p === '/') return route.fulfill({ status: 200, contentType: 'text/html', body: deployedExample() });
    if (p.startsWith('/gw/')) {
      // Fetched from here and handed back: a page the test serves by
      // interception has no address, and Chromium keeps such pages from
      // calling loopback addresses directly.
      const u = new URL(route.request().url());
      return route.fetch({ url: new URL(p.slice(4) + u.search, gw.url).href }).then((response) => route.fulfill({ response }));
    }
    if (!p.startsWith(prefix)) return route.fulfill({ status: 404, body: 'not found' });
    const name = p.slice(prefix.length);
    const file = path.join(pkg, path.normalize(name));
    if (!file.startsWith(pkg + path.sep) || !fs.existsSync(file)) return route.fulfill({ status: 404, body: 'not found' });
    let body = fs.readFileSync(file);
    if (tamper?.[name]) body = tamper[name](body);
    const type = { '.js': 'text/javascript', '.wasm': 'application/wasm', '.json': 'application/json' }[path.extname(file)] ?? 'application/octet-stream';
    return route.fulfill({ status: 200, contentType: type, body });
  });
  await page.goto(`${origin}/`);
  return { page, errors };
}

test('one changed byte in a module: the browser refuses it and nothing verifies', async () => {
  const { page, errors } = await openExample({ 'dist/verifier.js': (b) => Buffer.from(b.toString().replace('cvmtrust', 'cvmtrusT')) });
  await page.waitForTimeout(3000);
  const state = await page.evaluate(() => document.querySelector('cvm-attest')?.getAttribute('state') ?? null);
  assert.notEqual(state, 'simulated');
  assert.ok(errors.some((e) => /integrity/i.test(e)), `an integrity error is reported (console: ${errors.join(' | ')})`);
  await page.close();
});

test('one changed byte in the wasm: the loader refuses it', async () => {
  const { page } = await openExample({ 'dist/cvmtrust.wasm': (b) => { const c = Buffer.from(b); c[c.length - 1] ^= 1; return c; } });
  assert.equal(await settledState(page, 'cvm-attest', 30000), 'failed');
  const shown = await page.evaluate(() => ({
    message: window.__test.root(document.querySelector('cvm-attest')).querySelector('.message').textContent,
    ran: performance.getEntriesByName('cvmtrust:ready').length > 0,
  }));
  assert.match(shown.message, /not the build the page pins, so it was not run/);
  assert.equal(shown.ran, false, 'the Go program never started');
  await page.close();
});

test('the pinned example from node_modules verifies the simulated gateway', async () => {
  const { page, errors } = await openExample();
  assert.equal(await settledState(page, 'cvm-attest', 30000), 'simulated', `console: ${errors.join(' | ')}`);
  await page.close();
});

test('the demo page as the gateway serves it, pinned by the build, verifies; / leads to it', async () => {
  const page = await browser.context.newPage();
  const errors = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  await page.goto(gw.url); // redirected to demo/
  assert.equal(new URL(page.url()).pathname, '/demo/');
  assert.ok(await page.$('script[type="importmap"]'), 'the served demo page carries the build\'s import map');
  assert.equal(await settledState(page, 'cvm-attest', 30000), 'simulated', `console: ${errors.join(' | ')}`);
  await page.close();
});
