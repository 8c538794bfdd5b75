// Writes minified copies of the widget's modules (web/*.js) into OUT_DIR,
// next to the wasm, its loader and hpke.js, so that a page loads the widget
// entirely from dist/: dist/define.js, dist/index.js and what they import.
// web/*.js stay the readable source, and a page may load them instead; the
// minified copies are what the import map names and what the size budget
// counts (measured: 24.6 KB → 14.6 KB brotli for the five modules, 1.4 KB
// less for Go's wasm_exec.js, which this script minifies in place too, and
// makes a module that exports Go).
//
// Each module is minified on its own (no bundling: the module graph and each
// module's exports stay as in the source, and each file keeps its own
// integrity in the import map). In dist/ the sources' "./dist/x" becomes
// "./x". The script writes nothing, and fails the build, if a copy would
// have a relative reference that does not name a file of the build, or
// would export other names than its source.
//
// usage: node scripts/build-modules.mjs OUT_DIR [WEB_DIR]
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = path.resolve(process.argv[2] ?? path.join(root, 'web', 'dist'));
const web = path.resolve(process.argv[3] ?? path.join(root, 'web'));

const options = {
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  minify: true,
  keepNames: true, // error and class names stay what the source says
  legalComments: 'eof',
  charset: 'utf8',
  logLevel: 'warning',
  write: false,
};

// The names a module exports, as esbuild reads them: a file's, or the
// code's a copy would have (read before anything is written).
async function exportsOf(file, code) {
  const input = code === undefined ? { entryPoints: [file] } : { stdin: { contents: code, loader: 'js', sourcefile: file } };
  const r = await esbuild.build({ ...options, minify: false, ...input, bundle: false, metafile: true, outdir: '/nonexistent' });
  return Object.values(r.metafile.outputs)[0].exports.slice().sort();
}

// The relative references of a module: import/export specifiers, dynamic
// imports and new URL('…', import.meta.url).
function relativeRefs(code) {
  const refs = new Set();
  for (const re of [/\bfrom\s*["'](\.[^"']+)["']/g, /\bimport\s*\(\s*["'](\.[^"']+)["']/g,
    /\bimport\s*["'](\.[^"']+)["']/g, /new URL\(\s*["'](\.[^"']+)["']\s*,\s*import\.meta\.url/g]) {
    for (const m of code.matchAll(re)) refs.add(m[1]);
  }
  return [...refs];
}

// Written after this script, by build-pins.mjs.
const laterFiles = ['integrity.js'];
const modules = fs.readdirSync(web).filter((f) => f.endsWith('.js')).sort();
const written = [];
for (const name of modules) {
  const src = path.join(web, name);
  const r = await esbuild.build({ ...options, entryPoints: [src], bundle: false, outfile: path.join(out, name) });
  let code = r.outputFiles[0].text;
  // The source sits beside dist/; its copy sits in it.
  code = code.replace(/(["'])\.\/dist\//g, '$1./');
  for (const ref of relativeRefs(code)) {
    const target = path.resolve(out, ref);
    if (path.dirname(target) !== out || !(fs.existsSync(target) || modules.includes(path.basename(target)) || laterFiles.includes(path.basename(target)))) {
      throw new Error(`build-modules: dist/${name} refers to ${ref}, which is not a file of the build`);
    }
  }
  // The copy exports what its source does.
  const [got, want] = [await exportsOf(`dist/${name}`, code), await exportsOf(src)];
  if (JSON.stringify(got) !== JSON.stringify(want)) {
    throw new Error(`build-modules: dist/${name} would export ${got.join(',')}, its source ${want.join(',')}`);
  }
  written.push([name, code]);
}
for (const [name, code] of written) fs.writeFileSync(path.join(out, name), code);

// Go's loader: minified in place, its copyright and licence lines kept at
// the top, and made a module that exports its class as Go instead of
// setting globalThis.Go. A page may run another Go program whose loader set
// globalThis.Go: the widget neither uses that one (another Go version's
// imports need not match our wasm's) nor replaces it (nor does another copy
// of the widget replace ours while it starts).
const execFile = path.join(out, 'wasm_exec.js');
const execSrc = fs.readFileSync(execFile, 'utf8');
const notice = execSrc.match(/^(\/\/[^\n]*\n)+/)?.[0] ?? '';
if (!/Copyright/.test(notice)) throw new Error('build-modules: wasm_exec.js has no copyright notice at its top');
const setsGlobal = 'globalThis.Go = class {';
if (execSrc.split(setsGlobal).length !== 2) throw new Error(`build-modules: wasm_exec.js does not set "${setsGlobal}" exactly once; the loader's module form must be made anew for this Go version`);
const execModule = `let goClass;\n${execSrc.replace(setsGlobal, 'goClass = class {')}\nexport { goClass as Go };\n`;
const exec = await esbuild.transform(execModule, { minify: true, format: 'esm', target: 'es2022', charset: 'utf8', legalComments: 'none' });
if (/globalThis\.Go\b/.test(exec.code) || !/export\{\w+ as Go\}/.test(exec.code)) throw new Error('build-modules: wasm_exec.js as a module still sets globalThis.Go, or does not export Go');
fs.writeFileSync(execFile, notice + exec.code);
