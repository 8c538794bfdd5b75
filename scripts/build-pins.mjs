// Pins the widget build so that a page can load exactly it, and an auditor
// can check that it does (cvmtrust audit-page). Run by scripts/build-wasm.sh
// after the wasm, wasm_exec.js and hpke.js are in OUT_DIR; writes there:
//
//   integrity.js     the wasm's Subresource Integrity, which the loader
//                    (verifier.js) checks before it runs the wasm: pinning
//                    the loader pins the wasm
//   importmap.json   an import map with `integrity` for every module of the
//                    widget, keys relative to the package root ("./define.js");
//                    a page copies it, with "./" replaced by where it serves
//                    the package, and so pins the whole module graph
//   demo/index.html  web/demo/index.html with that import map and integrity
//                    on its script and preload tags (the gateway serves it at
//                    /demo/ when it exists)
//   example/index.html  web/example/index.html, the page a site copies, with
//                    its import map's "integrity" filled in and integrity on its
//                    script and preload tags, for the package served at
//                    /node_modules/@cvmtrust/widget/
//
// usage: node scripts/build-pins.mjs OUT_DIR [WEB_DIR]   (WEB_DIR: default web/)
import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const web = path.resolve(process.argv[3] ?? path.join(root, 'web'));
const out = path.resolve(process.argv[2] ?? path.join(web, 'dist'));

const sri = (file) => 'sha384-' + createHash('sha384').update(fs.readFileSync(file)).digest('base64');

// 1. The wasm's integrity, for the loader.
fs.writeFileSync(path.join(out, 'integrity.js'),
  '// Written by scripts/build-pins.mjs: the Subresource Integrity of the wasm this\n' +
  '// build of the widget loads. verifier.js runs the wasm only if its bytes match it.\n' +
  `export const wasmIntegrity = '${sri(path.join(out, 'cvmtrust.wasm'))}';\n`);

// 2. The import map: every module of the widget, by its path in the package.
const modules = [
  ...fs.readdirSync(web).filter((f) => f.endsWith('.js')).sort().map((f) => [f, path.join(web, f)]),
  ...fs.readdirSync(web).filter((f) => f.endsWith('.js')).sort().map((f) => [`dist/${f}`, path.join(out, f)]),
  ['dist/integrity.js', path.join(out, 'integrity.js')],
  ['dist/wasm_exec.js', path.join(out, 'wasm_exec.js')],
  ['dist/hpke.js', path.join(out, 'hpke.js')],
];
const importMap = (prefix) => ({
  imports: {
    '@cvmtrust/widget': `${prefix}dist/index.js`,
    '@cvmtrust/widget/define': `${prefix}dist/define.js`,
  },
  integrity: Object.fromEntries(modules.map(([name, file]) => [`${prefix}${name}`, sri(file)])),
});
fs.writeFileSync(path.join(out, 'importmap.json'), JSON.stringify(importMap('./'), null, 2) + '\n');

// A page of this project's own, its tags known: every script src and link
// href that names a module of the build gets the integrity hashes give it.
// (Not the wasm's preload, were there one: the loader fetches the wasm
// without fetch's integrity option and checks its hash itself, verifier.js,
// and a preload with integrity would not serve that fetch.)
function pinTags(html, hashes) {
  return html.replace(/<(script|link)\b([^>]*?)\s(src|href)="([^"]+)"([^>]*)>/g, (tag, name, before, attr, url, after) => {
    if (!Object.hasOwn(hashes, url) || /\sintegrity=/.test(tag)) return tag;
    return `<${name}${before} ${attr}="${url}" integrity="${hashes[url]}"${after}>`;
  });
}

// 3. The demo page, pinned.
const demoSrc = path.join(web, 'demo', 'index.html');
if (fs.existsSync(demoSrc)) {
  const prefix = '../';
  const hashes = importMap(prefix).integrity;
  let html = pinTags(fs.readFileSync(demoSrc, 'utf8'), hashes);
  const map = JSON.stringify(importMap(prefix), null, 2).replace(/\n/g, '\n  ');
  const marker = /<meta charset="utf-8">\n/i;
  if (!marker.test(html)) throw new Error(`${demoSrc}: no <meta charset="utf-8"> line to put the import map after`);
  html = html.replace(marker, (m) =>
    `${m}  <!-- Written by scripts/build-pins.mjs: pins every module of the widget (and, through dist/integrity.js, the wasm). -->\n` +
    `  <script type="importmap">\n  ${map}\n  </script>\n`);
  fs.mkdirSync(path.join(out, 'demo'), { recursive: true });
  fs.writeFileSync(path.join(out, 'demo', 'index.html'), html);
}

// 4. The example page, pinned for the package's place in node_modules: its
// import map's empty "integrity" becomes this build's.
const exampleSrc = path.join(web, 'example', 'index.html');
if (fs.existsSync(exampleSrc)) {
  const hashes = importMap('/node_modules/@cvmtrust/widget/').integrity;
  let html = fs.readFileSync(exampleSrc, 'utf8');
  const placeholder = /\n(\s*)"integrity": \{\}\n/;
  if (!placeholder.test(html)) throw new Error(`${exampleSrc}: its import map has no empty "integrity": {} to fill in`);
  html = html.replace(placeholder, (m, indent) => `\n${indent}"integrity": ${JSON.stringify(hashes, null, 2).replace(/\n/g, `\n${indent}`)}\n`);
  html = pinTags(html, hashes);
  fs.mkdirSync(path.join(out, 'example'), { recursive: true });
  fs.writeFileSync(path.join(out, 'example', 'index.html'), html);
}
