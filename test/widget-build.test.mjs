// scripts/build-wasm.sh is reproducible: two builds, the second from a copy
// of the source in another directory and rebuilding every package instead
// of using the build cache, give byte-identical output, and build.json
// describes it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { repoRoot } from './lib/browser.mjs';

function build(root, outDir, env = {}) {
  execFileSync(path.join(root, 'scripts/build-wasm.sh'), { cwd: root, env: { ...process.env, OUT_DIR: outDir, ...env }, stdio: ['ignore', 'ignore', 'inherit'] });
  return JSON.parse(fs.readFileSync(path.join(outDir, 'build.json'), 'utf8'));
}

// Copies the source tree (not node_modules, .git or build output); the
// locked npm packages dist/hpke.js is bundled from are linked, not copied.
function copySource(dst) {
  const skip = new Set(['node_modules', '.git', 'dist', 'build', '.wrangler']);
  fs.cpSync(repoRoot, dst, { recursive: true, filter: (src) => !skip.has(path.basename(src)) });
  fs.symlinkSync(path.join(repoRoot, 'node_modules'), path.join(dst, 'node_modules'));
}

test('two builds give the same bytes and build.json hashes them', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cvmtrust-build-'));
  try {
    const a = build(repoRoot, path.join(tmp, 'a'));
    // Nothing reused from the first: another directory (-trimpath keeps it
    // out of the binary), every package compiled again.
    const copy = path.join(tmp, 'elsewhere', 'cvmtrust');
    copySource(copy);
    const b = build(copy, path.join(tmp, 'b'), { REBUILD_ALL: '1' });
    for (const f of ['cvmtrust.wasm', 'wasm_exec.js', 'hpke.js']) {
      const x = fs.readFileSync(path.join(tmp, 'a', f));
      const y = fs.readFileSync(path.join(tmp, 'b', f));
      assert.ok(x.equals(y), `${f} differs between builds`);
      assert.equal(a.files[`dist/${f}`].integrity, 'sha384-' + createHash('sha384').update(x).digest('base64'));
      assert.equal(a.files[`dist/${f}`].bytes, x.length);
    }
    assert.deepEqual(a, b);
    for (const [name, f] of Object.entries(a.files)) {
      assert.match(f.integrity, /^sha384-[A-Za-z0-9+/]{64}$/, name);
      assert.ok(f.brotli > 0 && f.gzip > 0, `${name}: compressed sizes`);
      // A module of a few dozen bytes (start.js, define.js) may not shrink.
      if (f.bytes >= 1024) assert.ok(f.brotli < f.gzip && f.gzip < f.bytes, `${name}: sizes raw > gzip > brotli`);
    }
    assert.ok('cvm-attest.js' in a.files && 'verifier.js' in a.files, 'the widget modules are hashed too');
    // The compressed copies the gateway sends (name.gz, name.br): each
    // decodes to its file, is smaller than it, and is the same in both
    // builds; the wasm and the big modules have both.
    const copies = fs.readdirSync(path.join(tmp, 'a')).filter((f) => /\.(gz|br)$/.test(f));
    for (const f of ['cvmtrust.wasm', 'hpke.js', 'cvm-attest.js']) {
      assert.ok(copies.includes(`${f}.gz`) && copies.includes(`${f}.br`), `${f} has compressed copies`);
    }
    for (const c of copies) {
      const z = fs.readFileSync(path.join(tmp, 'a', c));
      const orig = fs.readFileSync(path.join(tmp, 'a', c.slice(0, -3)));
      assert.ok((c.endsWith('.gz') ? zlib.gunzipSync(z) : zlib.brotliDecompressSync(z)).equals(orig), `${c} decodes to its file`);
      assert.ok(z.length < orig.length, `${c} is smaller than its file`);
      assert.ok(z.equals(fs.readFileSync(path.join(tmp, 'b', c))), `${c} differs between builds`);
    }
    // Release manifests are read field by field: package measure is linked,
    // encoding/json's decoder (100 KB of brotli) is not. Go keeps function
    // names in the wasm even when stripped, so they tell what was linked.
    const wasm = fs.readFileSync(path.join(tmp, 'a', 'cvmtrust.wasm'));
    assert.ok(wasm.includes('github.com/cvmtrust/cvmtrust/measure.LaunchDigest'), 'measure is linked');
    // Sealing is in the page (dist/hpke.js): the wasm links no HPKE.
    assert.ok(!wasm.includes('crypto/hpke.'), 'the wasm links crypto/hpke');
    for (const name of ['encoding/json.(*decodeState)', 'encoding/json.Unmarshal', 'encoding/json.(*Decoder)', 'encoding/json.Marshal']) {
      assert.ok(!wasm.includes(name), `the wasm links ${name}`);
    }
    // Errors are matched with errors.AsType: errors.As assigns through internal/reflectlite, about 7 KB of brotli.
    assert.ok(!wasm.includes('internal/reflectlite.Value.Set'), 'the wasm links errors.As (reflectlite.Value.Set)');
    assert.equal(a.go, execFileSync('go', ['env', 'GOVERSION']).toString().trim());
    // The flags it was built with, no inlining included (scripts/build-wasm.sh says why).
    assert.equal(a.gcflags, process.env.GCFLAGS ?? 'all=-l');
    assert.ok(a.flags.includes(`-gcflags="${a.gcflags}"`) || !a.gcflags, a.flags);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});
