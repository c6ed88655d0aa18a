import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ByteRng, decode, fuzz } from './byte-target';
import { printOp } from '../ops/json';

const bytes = (seed: number, n: number): Buffer => {
  const out = Buffer.alloc(n);
  let x = seed || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
};

test('bytes decode deterministically, and every byte string is a valid input (empty too)', () => {
  const a = decode(bytes(7, 400)).map(printOp);
  assert.deepEqual(decode(bytes(7, 400)).map(printOp), a);
  assert.equal(a[0]?.op, 'platform');
  assert.doesNotThrow(() => fuzz(Buffer.alloc(0)));
  for (let s = 1; s <= 40; s++) assert.doesNotThrow(() => fuzz(bytes(s, 300)), `clean model, seed ${s}`);
});

test('ByteRng stays in range and reads its choices from the bytes', () => {
  const r = new ByteRng(Buffer.from([0xff, 0x00, 0x05, 0x01, 0x02]));
  assert.equal(r.int(10), 5); // 0xff % 10
  assert.equal(r.chance(0.5), true); // 0x00 < 128
  assert.equal(r.int(3), 2); // 5 % 3
  assert.equal(r.int(1000), (1 * 256 + 2) % 1000);
  assert.equal(r.int(7), 0); // exhausted: zeros
});

test('with a planted fault some byte strings throw the finding', () => {
  process.env.DMASPEC_FAULTS = 'swiotlb-skip-map-copy';
  try {
    let thrown = 0;
    for (let s = 1; s <= 200 && thrown === 0; s++) {
      try {
        fuzz(bytes(s, 400));
      } catch (e) {
        assert.match((e as Error).message, /^dmaspec finding /);
        thrown++;
      }
    }
    assert.ok(thrown > 0, 'no byte string in 200 reached the planted fault');
  } finally {
    delete process.env.DMASPEC_FAULTS;
  }
});
