// scripts/pack-wasm-data.mjs changes how the initial memory is written, never
// what it holds: a packed module instantiates to the same memory, byte for
// byte, with every other section untouched; modules it does not understand
// are refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { repoRoot } from './lib/browser.mjs';
import { pack, memoryImage, sections, dataSegments } from '../scripts/pack-wasm-data.mjs';

const leb = (n) => {
  const out = [];
  do {
    let x = n & 0x7f;
    n >>>= 7;
    if (n) x |= 0x80;
    out.push(x);
  } while (n);
  return out;
};
const section = (id, payload) => [id, ...leb(payload.length), ...payload];

// A module with one exported page of memory and the given data segments,
// each [flags, offsetExpr bytes, data bytes].
function module(segments, { dataCount = false } = {}) {
  const memory = section(5, [1, 0, 1]); // one memory, min 1 page
  const exp = section(7, [1, 3, ...Buffer.from('mem'), 2, 0]);
  const data = [...leb(segments.length)];
  for (const [flags, expr, bytes] of segments) data.push(...leb(flags), ...expr, ...leb(bytes.length), ...bytes);
  const parts = [0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0, ...memory, ...exp];
  if (dataCount) parts.push(...section(12, leb(segments.length)));
  parts.push(...section(11, data));
  return Buffer.from(parts);
}
const at = (offset) => [0x41, ...(offset < 64 ? [offset] : [0x80 | (offset & 0x7f), offset >> 7]), 0x0b];

async function memoryAfterInstantiation(bytes, imports = {}) {
  const { instance } = await WebAssembly.instantiate(bytes, imports);
  const mem = instance.exports.mem;
  return Buffer.from(mem.buffer);
}

test('joins segments across short zero gaps and the instantiated memory is the same', async () => {
  const segs = [
    [0, at(200), [9, 9]],
    [0, at(8), [1, 2, 3]],
    [0, at(20), [4]], // gap of 9 zeros after the first
    [0, at(1000), [5, 6]], // beyond a gap of 10 when maxGap is 10
  ];
  for (const dataCount of [false, true]) {
    const src = module(segs, { dataCount });
    const { module: out, before, after } = pack(src, 10);
    assert.equal(before, 4);
    assert.equal(after, 3, 'the first two (gap 9) joined, the others not');
    assert.ok(WebAssembly.validate(out));
    assert.deepEqual(await memoryAfterInstantiation(out), await memoryAfterInstantiation(src));
    assert.equal(dataSegments(out).length, 3);
    if (dataCount) {
      const dc = sections(out).find((s) => s.id === 12);
      assert.equal(out[dc.start], 3, 'the data count section follows');
    }
  }
});

test('refuses what it does not understand instead of rewriting it', () => {
  const passive = module([[1, [], [1]]]);
  assert.throws(() => pack(passive), /not an active segment of memory 0/);
  const globalOffset = module([[0, [0x23, 0, 0x0b], [1]]]);
  assert.throws(() => pack(globalOffset), /not an i32.const/);
  const overlap = module([[0, at(8), [1, 2, 3, 4]], [0, at(10), [7]]]);
  assert.throws(() => pack(overlap), /overlap/);
  assert.throws(() => pack(Buffer.from('not wasm at all')), /not a version 1 WebAssembly module/);
  const truncated = module([[0, at(8), [1, 2, 3]]]).subarray(0, -2);
  assert.throws(() => pack(truncated), /unexpected end of input/);
});

test('the verifier module: same memory image, other sections byte-identical, smaller brotli', async (t) => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cvmtrust-pack-'));
  try {
    const raw = path.join(tmp, 'raw.wasm');
    execFileSync('go', ['build', '-trimpath', '-ldflags=-s -w -buildid=', '-o', raw, './wasm'], {
      cwd: repoRoot,
      env: { ...process.env, GOOS: 'js', GOARCH: 'wasm', CGO_ENABLED: '0', GOWASM: 'satconv,signext' },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const src = fs.readFileSync(raw);
    const { module: out, before, after } = pack(src);
    assert.ok(before > 1000 && after < before / 100, `segments ${before} -> ${after}`);
    const a = memoryImage(src);
    const b = memoryImage(out);
    assert.equal(a.base, b.base);
    assert.ok(a.image.equals(b.image), 'memory image differs');
    const other = (bytes) => sections(bytes).filter((s) => s.id !== 11).map((s) => [s.id, Buffer.from(bytes.subarray(s.start, s.end))]);
    assert.deepEqual(other(out), other(src));
    // Instantiated with Go's own imports, the two memories are identical.
    const goImports = () => {
      const names = WebAssembly.Module.imports(new WebAssembly.Module(src));
      const imports = {};
      for (const { module: m, name } of names) (imports[m] ??= {})[name] = () => {};
      return imports;
    };
    const instMem = async (bytes) => {
      const { instance } = await WebAssembly.instantiate(bytes, goImports());
      return Buffer.from(instance.exports.mem.buffer);
    };
    assert.ok((await instMem(out)).equals(await instMem(src)), 'instantiated memory differs');
    const br = (b) => zlib.brotliCompressSync(b, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 5 } }).length;
    const saved = br(src) - br(out);
    assert.ok(saved > 20_000, `packing saved only ${saved} bytes of brotli (quality 5, for speed)`);
    t.diagnostic(`packing: ${before} -> ${after} segments, ${saved} bytes less brotli (quality 5)`);
    // What scripts/build-wasm.sh ships is packed.
    const dist = path.join(repoRoot, 'web/dist/cvmtrust.wasm');
    assert.ok(fs.existsSync(dist), 'web/dist/cvmtrust.wasm is missing: run scripts/build-wasm.sh first');
    assert.ok(dataSegments(fs.readFileSync(dist)).length < 100, 'the shipped wasm is not packed');
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});
