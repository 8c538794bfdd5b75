// What the widget defends by itself on a page that is not honest, in every
// engine of CVMTRUST_BROWSERS (Chromium, Firefox ESR, WebKitGTK):
//
//   - an import map that sends one of the widget's own files (hpke.js,
//     wasm_exec.js, a module, its pin) elsewhere, through "imports" or
//     "scopes": the element fails, says why, never offers a capture, and a
//     file it would have loaded later (hpke.js, wasm_exec.js) is never
//     loaded;
//   - the camera preview: no page script, nor a same-origin frame, reaches
//     the element's shadow tree or its video;
//   - page CSS: ::part() and inherited properties cannot hide the SIMULATED
//     warning or rewrite the badge, and the page's own state attribute does
//     not restyle it.
//
// What it cannot defend, and web/README.md says: a script that runs in the
// page before the widget can replace built-ins (attachShadow, getUserMedia,
// crypto.subtle); the test harness itself records shadow roots that way. That
// is what `cvmtrust audit-page` is for.
import { describe, test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import {
  launchEngine, selectedEngines, startWidgetGateway, readWidget, settled,
} from './lib/browser.mjs';
import { startTestSite, y4mPicture } from './lib/testsite.mjs';

/** The demo's element: a simulated gateway, its signed release and its KDS, trusted on purpose. */
const demoElement = `<cvm-attest gateway="/" release-repository="cvmtrust/cvmtrust" release-ref="refs/tags/*"
  release-trust-simulated-root="/simulated/sigstore-trusted-root.json" trust-simulated-root="/simulated/ark.pem"
  kds-proxy="/simulated/kds"></cvm-attest>`;

/** A page: an import map (or none), the element's module, and the element. */
function pageHTML({ importMap, head = '', body = '' } = {}) {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>cvmtrust</title>
<script src="/__test/instrument.js"></script>
${importMap ? `<script type="importmap">${JSON.stringify(importMap)}</script>` : ''}
<script type="module" src="/dist/define.js"></script>
${head}
</head><body>${demoElement}${body}</body></html>`;
}

// Copies of the widget's files that record that they ran: what a hostile
// page would put in their place (here they behave, so that only the
// recording tells them apart). Each takes the real file under another URL,
// which the import map does not reroute back to the copy.
const evilModules = {
  '/__test/evil/hpke.js': "window.__test.pwned.push('hpke.js'); export * from '/dist/hpke.js?real';",
  '/__test/evil/wasm_exec.js': "window.__test.pwned.push('wasm_exec.js'); export { Go } from '/dist/wasm_exec.js?real';",
  '/__test/evil/verifier.js': "window.__test.pwned.push('verifier.js'); export * from '/dist/verifier.js?real';",
  '/__test/evil/integrity.js': "window.__test.pwned.push('integrity.js'); export * from '/dist/integrity.js?real';",
};

// Each rerouting: the import map, the file it reroutes, and whether the
// widget loads that file only later (so it must never run).
const reroutings = [
  ['hpke.js through "imports", keyed by the URL the loader builds', 'hpke.js', true,
    (origin) => ({ imports: { [`${origin}/dist/hpke.js`]: '/__test/evil/hpke.js' } })],
  ['hpke.js through "scopes"', 'hpke.js', true,
    () => ({ scopes: { '/dist/': { '/dist/hpke.js': '/__test/evil/hpke.js' } } })],
  ['wasm_exec.js through "imports"', 'wasm_exec.js', true,
    () => ({ imports: { '/dist/wasm_exec.js': '/__test/evil/wasm_exec.js' } })],
  ['wasm_exec.js through "scopes", for the loader module alone', 'wasm_exec.js', true,
    () => ({ scopes: { '/dist/verifier.js': { '/dist/wasm_exec.js': '/__test/evil/wasm_exec.js' } } })],
  ['the loader module (verifier.js) through "scopes", for the element alone', 'verifier.js', false,
    () => ({ scopes: { '/dist/cvm-attest.js': { '/dist/verifier.js': '/__test/evil/verifier.js' } } })],
  ['the wasm\'s pin (integrity.js) through "imports"', 'integrity.js', false,
    () => ({ imports: { '/dist/integrity.js': '/__test/evil/integrity.js' } })],
];

/** Page CSS that would hide the SIMULATED warning and write a verdict over the badge, were they reachable. */
const hostileCSS = `
  cvm-attest { color: transparent !important; font-size: 0 !important; text-indent: -9999px !important; letter-spacing: -1em !important; }
  cvm-attest::part(warning) { display: none !important; }
  cvm-attest::part(badge) { background: #e8f6ee !important; color: #0b5c30 !important; }
  cvm-attest::part(badge-label) { font-size: 0 !important; }
  cvm-attest::part(badge-label)::after { content: 'Verified: genuine AMD SEV-SNP (Genoa)' !important; font-size: 14px !important; }
  cvm-attest::part(summary), cvm-attest::part(message), cvm-attest::part(details) { display: none !important; }
  cvm-attest::part(capture)::after, cvm-attest::part(retry)::before { content: 'Verified: genuine AMD SEV-SNP (Genoa)' !important; }
`;

let gw;
let site;
let origin;
before(async () => {
  gw = await startWidgetGateway();
  site = await startTestSite(gw.url);
  origin = new URL(site.url).origin;
});
after(async () => {
  await site?.close();
  await gw?.stop();
});

for (const engine of selectedEngines()) {
  describe(engine, { timeout: 300000 }, () => {
    let browser;
    let picture;
    before(async () => {
      browser = await launchEngine(engine, { videoFile: gw.y4m });
      picture = engine === 'chromium' ? null : y4mPicture(gw.y4m);
    });
    after(async () => { await browser?.close(); });
    beforeEach(() => {
      site.reset();
      site.cameraPicture = picture;
      site.firstScript = 'window.__test.pwned = [];';
      for (const [p, src] of Object.entries(evilModules)) {
        site.route(p, (req, res) => {
          res.writeHead(200, { 'Content-Type': 'text/javascript', 'Cache-Control': 'no-store' });
          res.end(src);
        });
      }
    });

    /** Serves html at a path of its own and opens it; resolves with the page. */
    async function open(name, html) {
      site.route(`/__test/page/${name}.html`, (req, res) => {
        res.writeHead(200, { 'Content-Type': 'text/html', 'Cache-Control': 'no-store' });
        res.end(html);
      });
      const page = await browser.newPage();
      await page.goto(new URL(`__test/page/${name}.html`, site.url).href);
      return page;
    }
    const uploads = () => site.requests.filter((r) => r.path === '/enroll');

    test('this engine has import.meta.resolve (else the widget refuses to run)', async () => {
      const page = await open('resolve', pageHTML());
      const has = await page.evaluate(async () => {
        const m = await import('data:text/javascript,export const r = typeof import.meta.resolve;');
        return m.r;
      });
      assert.equal(has, 'function');
      await page.close();
    });

    test('an import map that names the widget but reroutes none of its files: the page verifies', async () => {
      const page = await open('control', pageHTML({ importMap: { imports: { '@cvmtrust/widget': '/dist/index.js' } } }));
      assert.equal(await settled(page), 'simulated');
      await page.waitFor(() => window.__test.cameraRequests > 0);
      assert.deepEqual(await page.evaluate(() => window.__test.pwned), []);
      await page.close();
    });

    for (const [what, file, later, map] of reroutings) {
      test(`a rerouted file, ${what}: failed in words, no capture offered${later ? ', the file never loaded' : ''}`, async () => {
        const page = await open(`reroute-${file}`, pageHTML({ importMap: map(origin) }));
        assert.equal(await settled(page), 'failed');
        // A later capture would need a verified Result: give it time to (wrongly) happen.
        await new Promise((r) => setTimeout(r, 500));
        const ui = await readWidget(page);
        assert.equal(ui.label, 'Not verified — this page is set up wrong');
        assert.match(ui.message, new RegExp(`${file.replace('.', '\\.')}`), `message names the file: ${ui.message}`);
        assert.match(ui.message, /import map/);
        assert.match(ui.message, /Nothing was captured or sent\.$/);
        assert.equal(ui.cameraHidden, true);
        assert.equal(ui.cameraRequests, 0, 'the camera was never asked for');
        assert.deepEqual(uploads(), []);
        const pwned = await page.evaluate(() => window.__test.pwned);
        if (later) assert.deepEqual(pwned, [], `${file} must never be loaded`);
        await page.close();
      });
    }

    test('the preview is not reachable: no shadowRoot, no video in the document, not from a same-origin frame', async () => {
      const page = await open('preview', pageHTML({ body: '<iframe id="f" srcdoc="<p>frame</p>"></iframe>' }));
      assert.equal(await settled(page), 'simulated');
      await page.waitFor(() => Boolean(window.__test.root(document.querySelector('cvm-attest'))?.querySelector('video')?.srcObject));
      const reach = await page.evaluate(async () => {
        const el = document.querySelector('cvm-attest');
        const frame = document.getElementById('f').contentWindow;
        let attached;
        try {
          el.attachShadow({ mode: 'open' });
          attached = 'a second, open shadow root was attached';
        } catch (e) {
          attached = e.name;
        }
        const clickPaths = [];
        document.addEventListener('click', (e) => clickPaths.push(e.composedPath().map((n) => n.nodeName ?? String(n))), { capture: true });
        const root = window.__test.root(el);
        (root.querySelector('.badge') ?? root.querySelector('[part~="badge"]')).click();
        return {
          shadowRoot: el.shadowRoot,
          videos: document.querySelectorAll('video').length,
          children: el.childNodes.length,
          frameShadowRoot: frame.eval("parent.document.querySelector('cvm-attest').shadowRoot"),
          frameVideos: frame.eval("parent.document.querySelectorAll('video').length"),
          attached,
          clickPath: clickPaths[0],
        };
      });
      assert.equal(reach.shadowRoot, null, 'el.shadowRoot');
      assert.equal(reach.videos, 0);
      assert.equal(reach.children, 0);
      assert.equal(reach.frameShadowRoot, null, 'the frame reads no shadow root');
      assert.equal(reach.frameVideos, 0);
      assert.equal(reach.attached, 'NotSupportedError');
      assert.equal(reach.clickPath[0], 'CVM-ATTEST', `a click inside is seen from the page as the element's only: ${reach.clickPath}`);
      await page.close();
    });

    test('page CSS cannot hide the SIMULATED warning, rewrite the badge, or restyle it through the state attribute', async () => {
      const page = await open('css', pageHTML({ head: `<style>${hostileCSS}</style>` }));
      assert.equal(await settled(page), 'simulated');
      const seen = await page.evaluate(() => {
        const el = document.querySelector('cvm-attest');
        const root = window.__test.root(el);
        const q = (c) => root.querySelector(`.${c}`) ?? root.querySelector(`[part~="${c}"]`);
        const style = (c, pseudo) => getComputedStyle(q(c), pseudo);
        const read = () => ({
          warningDisplay: style('warning').display,
          warningColor: style('warning').color,
          warningFontSize: style('warning').fontSize,
          warningIndent: style('warning').textIndent,
          labelFontSize: style('badge-label').fontSize,
          labelAfter: style('badge-label', '::after').content,
          badgeBackground: style('badge').backgroundColor,
          messageDisplay: style('message').display,
          messageColor: style('message').color,
          summaryDisplay: style('summary').display,
          captureAfter: style('capture', '::after').content,
          exportedParts: [...root.querySelectorAll('[part]')].map((n) => n.getAttribute('part')).sort(),
        });
        const before = read();
        el.setAttribute('state', 'verified');
        const spoofed = read();
        return { before, spoofed, label: q('badge-label').textContent, warning: q('warning').textContent };
      });
      for (const [when, s] of Object.entries({ before: seen.before, 'after the page set state="verified"': seen.spoofed })) {
        assert.notEqual(s.warningDisplay, 'none', `${when}: the SIMULATED warning is shown`);
        assert.notEqual(s.warningColor, 'rgba(0, 0, 0, 0)', `${when}: the warning is not transparent`);
        assert.ok(parseFloat(s.warningFontSize) >= 12, `${when}: warning font size ${s.warningFontSize}`);
        assert.equal(s.warningIndent, '0px', when);
        assert.ok(parseFloat(s.labelFontSize) >= 12, `${when}: badge label font size ${s.labelFontSize}`);
        assert.ok(['none', 'normal'].includes(s.labelAfter), `${when}: nothing written after the label: ${s.labelAfter}`);
        assert.ok(['none', 'normal'].includes(s.captureAfter), `${when}: nothing written after the capture button: ${s.captureAfter}`);
        assert.equal(s.badgeBackground, 'rgb(255, 244, 224)', `${when}: the simulated badge keeps its colour`);
        assert.notEqual(s.messageDisplay, 'none', when);
        assert.notEqual(s.messageColor, 'rgba(0, 0, 0, 0)', when);
        assert.notEqual(s.summaryDisplay, 'none', when);
        assert.deepEqual(s.exportedParts, ['camera', 'capture', 'capture-note', 'preview', 'retry'], `${when}: only the camera's parts are exported`);
      }
      assert.match(seen.label, /SIMULATED/);
      assert.match(seen.warning, /^SIMULATED/);
      await page.close();
    });
  });
}
