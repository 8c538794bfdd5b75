// The page's check of the gateway's receipt (web/verifier.js checkReceipt)
// against testdata/protocol/receipt-vectors.json, computed independently
// with Python's hmac: the message bytes, the MAC, and a refusal for every
// field changed, another key, another report, and a missing MAC.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot } from './lib/browser.mjs';
import { receiptMessage, checkReceipt } from '../web/verifier.js';

const { vectors } = JSON.parse(fs.readFileSync(path.join(repoRoot, 'testdata/protocol/receipt-vectors.json'), 'utf8'));
const hex = (s) => Uint8Array.from(Buffer.from(s, 'hex'));
const b64 = (b) => Buffer.from(b).toString('base64');
const hmacKey = (raw) => crypto.subtle.importKey('raw', raw, { name: 'HMAC', hash: 'SHA-256' }, false, ['verify']);
const withMac = (v) => ({ ...v.receipt, mac: b64(hex(v.mac)) });
const reportHash = (v) => Uint8Array.from(Buffer.from(v.receipt.report_sha384, 'base64'));

test('the receipt message is the vectors’ msg', () => {
  assert.ok(vectors.length >= 2);
  for (const v of vectors) {
    const msg = receiptMessage({ ...v.receipt, report_sha384: reportHash(v) });
    assert.equal(Buffer.from(msg).toString('hex'), v.msg);
  }
});

test('a receipt with the vectors’ MAC verifies, as object or JSON', async () => {
  for (const v of vectors) {
    const key = await hmacKey(hex(v.key));
    const r = await checkReceipt(key, withMac(v), reportHash(v));
    assert.equal(r.status, v.receipt.status);
    assert.ok(Object.isFrozen(r));
    assert.equal((await checkReceipt(key, JSON.stringify(withMac(v)), reportHash(v))).receipt_id, v.receipt.receipt_id);
  }
});

test('a receipt is refused when anything it covers changes, or it has no MAC', async () => {
  const v = vectors[0];
  const key = await hmacKey(hex(v.key));
  const good = withMac(v);
  const otherKey = hex(v.key).map((x) => x ^ 1);
  const flippedMac = hex(v.mac);
  flippedMac[31] ^= 1;
  const otherHash = reportHash(v).map((x, i) => (i === 0 ? x ^ 1 : x));
  const cases = {
    'status': [key, { ...good, status: 'already_enrolled' }],
    'receipt id': [key, { ...good, receipt_id: good.receipt_id.replace('0', '1') }],
    'received at': [key, { ...good, received_at: '2026-11-29T06:00:01Z' }],
    'version': [key, { ...good, version: 2 }],
    'mac flipped': [key, { ...good, mac: b64(flippedMac) }],
    'mac truncated': [key, { ...good, mac: b64(hex(v.mac).subarray(0, 16)) }],
    'no mac': [key, (({ mac, ...r }) => r)(good)],
    'mac not base64': [key, { ...good, mac: '%%%' }],
    'another key': [await hmacKey(otherKey), good],
    'another report in the receipt': [key, { ...good, report_sha384: b64(otherHash) }],
    'unknown status': [key, { ...good, status: 'ok' }],
    'not JSON': [key, '{'],
    'null': [key, null],
  };
  for (const [name, [k, r]] of Object.entries(cases)) {
    await assert.rejects(checkReceipt(k, r, reportHash(v)), (err) => err.code === 'receipt_invalid' && /receipt could not be confirmed/.test(err.message), name);
  }
  // The receipt is right, but the upload was sealed to another report.
  await assert.rejects(checkReceipt(key, good, otherHash), (err) => err.code === 'receipt_invalid');
});
