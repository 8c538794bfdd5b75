// Rewrites a Go js/wasm module's data section so that it compresses better,
// without changing a single byte of what the module does.
//
// Go's linker writes the initial memory as many small active data segments: it
// starts a new segment at every run of zero bytes, so that the zeros are not
// stored. In the verifier's module that is ~47,000 segments, most of them a
// few bytes long and separated by 8–24 zero bytes. Each segment costs a header
// (flags, an i32.const offset, its length), and those headers, with their
// ever-increasing offsets, compress badly: measured on the verifier, joining
// segments separated by at most 256 zero bytes (and writing those zeros out)
// takes the module from 974,426 to 917,820 bytes brotli, although it is 10%
// larger uncompressed. Pages download it brotli-compressed; the uncompressed
// size only costs the instantiation a memcpy of the zeros.
//
// The result is the same module: every section other than the data section
// (and the data count section, if present) is copied byte for byte, and the
// memory image the new data section writes at instantiation is identical to
// the old one (memory starts zeroed, and only zeros are added). `memoryImage`
// computes that image; test/wasm-pack.test.mjs checks the equality on the real
// module. Modules this does not understand (passive segments, a second memory,
// an offset that is not an i32.const, overlapping segments) are refused, not
// rewritten.
//
// Usage: node scripts/pack-wasm-data.mjs IN.wasm [OUT.wasm]   (OUT defaults to IN)

import fs from 'node:fs';
import { pathToFileURL } from 'node:url';

// Segments separated by at most this many zero bytes are joined. Measured on
// the verifier's module (brotli -q 11): 8 → 970,578; 16 → 962,834;
// 24 → 921,988; 64 → 918,343; 256 → 917,820; one segment → 917,474.
export const MAX_GAP = 256;

const DATA = 11;
const DATA_COUNT = 12;

class Reader {
  constructor(bytes, pos = 0, end = bytes.length) {
    this.b = bytes;
    this.pos = pos;
    this.end = end;
  }

  byte() {
    if (this.pos >= this.end) throw new Error('wasm: unexpected end of input');
    return this.b[this.pos++];
  }

  u32() {
    let result = 0;
    let shift = 0;
    for (let i = 0; i < 5; i++) {
      const x = this.byte();
      result += (x & 0x7f) * 2 ** shift;
      if (x < 0x80) {
        if (result > 0xffffffff) throw new Error('wasm: u32 out of range');
        return result;
      }
      shift += 7;
    }
    throw new Error('wasm: u32 too long');
  }

  i32() {
    let result = 0n;
    let shift = 0n;
    for (let i = 0; i < 5; i++) {
      const x = this.byte();
      result |= BigInt(x & 0x7f) << shift;
      shift += 7n;
      if (x < 0x80) {
        if (x & 0x40) result -= 1n << shift;
        const n = Number(result);
        if (n < -(2 ** 31) || n >= 2 ** 31) throw new Error('wasm: i32 out of range');
        return n;
      }
    }
    throw new Error('wasm: i32 too long');
  }

  bytes(n) {
    if (n > this.end - this.pos) throw new Error('wasm: unexpected end of input');
    const out = this.b.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
}

function u32leb(n) {
  const out = [];
  do {
    let x = n & 0x7f;
    n = Math.floor(n / 128);
    if (n) x |= 0x80;
    out.push(x);
  } while (n);
  return Buffer.from(out);
}

function i32leb(n) {
  const out = [];
  for (;;) {
    const x = n & 0x7f;
    n >>= 7;
    if ((n === 0 && !(x & 0x40)) || (n === -1 && x & 0x40)) {
      out.push(x);
      return Buffer.from(out);
    }
    out.push(x | 0x80);
  }
}

// The module's sections, in order: {id, start, end} of each payload.
export function sections(bytes) {
  const magic = Buffer.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
  if (bytes.length < 8 || !Buffer.from(bytes.subarray(0, 8)).equals(magic)) {
    throw new Error('wasm: not a version 1 WebAssembly module');
  }
  const r = new Reader(bytes, 8);
  const out = [];
  while (r.pos < r.end) {
    const id = r.byte();
    const size = r.u32();
    const start = r.pos;
    r.bytes(size);
    out.push({ id, start, end: start + size });
  }
  return out;
}

// The active data segments of memory 0 as {offset, bytes}, in file order.
// Throws on anything else.
export function dataSegments(bytes) {
  const sec = sections(bytes).filter((s) => s.id === DATA);
  if (sec.length === 0) return [];
  if (sec.length > 1) throw new Error('wasm: more than one data section');
  const r = new Reader(bytes, sec[0].start, sec[0].end);
  const n = r.u32();
  const segs = [];
  for (let i = 0; i < n; i++) {
    const flags = r.u32();
    if (flags !== 0) throw new Error(`wasm: data segment ${i} is not an active segment of memory 0`);
    if (r.byte() !== 0x41) throw new Error(`wasm: data segment ${i}'s offset is not an i32.const`);
    const offset = r.i32();
    if (r.byte() !== 0x0b) throw new Error(`wasm: data segment ${i}'s offset expression is not a single constant`);
    if (offset < 0) throw new Error(`wasm: data segment ${i} has a negative offset`);
    const len = r.u32();
    segs.push({ offset, bytes: r.bytes(len) });
  }
  if (r.pos !== r.end) throw new Error('wasm: trailing bytes in the data section');
  return segs;
}

// The bytes the data section writes into memory at instantiation, from the
// lowest written address to the highest, with the unwritten addresses zero
// (as a fresh memory is). Later segments overwrite earlier ones, as the
// specification applies them in order.
export function memoryImage(bytes) {
  const segs = dataSegments(bytes);
  if (segs.length === 0) return { base: 0, image: Buffer.alloc(0) };
  let lo = Infinity;
  let hi = 0;
  for (const s of segs) {
    if (s.bytes.length === 0) continue;
    lo = Math.min(lo, s.offset);
    hi = Math.max(hi, s.offset + s.bytes.length);
  }
  if (lo === Infinity) return { base: 0, image: Buffer.alloc(0) };
  const image = Buffer.alloc(hi - lo);
  for (const s of segs) image.set(s.bytes, s.offset - lo);
  return { base: lo, image };
}

// Returns the packed module and what changed.
export function pack(bytes, maxGap = MAX_GAP) {
  bytes = Buffer.from(bytes);
  const secs = sections(bytes);
  const segs = dataSegments(bytes).filter((s) => s.bytes.length > 0);
  const sorted = [...segs].sort((a, b) => a.offset - b.offset);
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1];
    if (sorted[i].offset < prev.offset + prev.bytes.length) {
      throw new Error(`wasm: data segments overlap at ${sorted[i].offset}; not rewriting`);
    }
  }
  // Join neighbours whose gap is short, writing the gap's zeros out.
  const merged = [];
  for (const s of sorted) {
    const last = merged[merged.length - 1];
    if (last && s.offset - last.end <= maxGap) {
      last.parts.push(Buffer.alloc(s.offset - last.end), s.bytes);
      last.end = s.offset + s.bytes.length;
    } else {
      merged.push({ offset: s.offset, end: s.offset + s.bytes.length, parts: [s.bytes] });
    }
  }
  const body = [u32leb(merged.length)];
  for (const m of merged) {
    body.push(Buffer.from([0x00, 0x41]), i32leb(m.offset), Buffer.from([0x0b]), u32leb(m.end - m.offset), ...m.parts);
  }
  const dataPayload = Buffer.concat(body);
  const out = [bytes.subarray(0, 8)];
  for (const s of secs) {
    let payload = bytes.subarray(s.start, s.end);
    if (s.id === DATA) payload = dataPayload;
    if (s.id === DATA_COUNT) payload = u32leb(merged.length);
    out.push(Buffer.from([s.id]), u32leb(payload.length), payload);
  }
  return { module: Buffer.concat(out), before: segs.length, after: merged.length };
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [input, output = input] = process.argv.slice(2);
  if (!input) {
    console.error('usage: node scripts/pack-wasm-data.mjs IN.wasm [OUT.wasm]');
    process.exit(2);
  }
  const src = fs.readFileSync(input);
  const { module, before, after } = pack(src);
  const a = memoryImage(src);
  const b = memoryImage(module);
  if (a.base !== b.base || !a.image.equals(b.image)) {
    throw new Error('pack-wasm-data: the memory image changed; not writing');
  }
  fs.writeFileSync(output, module);
  console.error(`pack-wasm-data: ${before} data segments -> ${after}; ${src.length} -> ${module.length} bytes`);
}
