import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PhysMem } from './phys-mem';

const HIGH = 0xffff_ffff_fff0_0000n; // far above 2^53

const mk = (): PhysMem =>
  new PhysMem([
    { base: 0x10_0000n, size: 0x10_0000n },
    { base: 0x0n, size: 0x8_0000n },
    { base: 0x20_0000n, size: 0x1000n }, // adjacent to the first region
    { base: HIGH, size: 0x10_0000n },
  ]);

test('regions are sorted by base', () => {
  assert.deepEqual(
    mk().ram.map((r) => r.base),
    [0n, 0x10_0000n, 0x20_0000n, HIGH],
  );
});

test('bytes read as 0 before any write and materialise nothing', () => {
  const m = mk();
  assert.deepEqual(m.read(0x1234n, 8), new Uint8Array(8));
  assert.equal(m.materialised, 0);
});

test('write then read round-trips across a chunk boundary', () => {
  const m = mk();
  const data = Uint8Array.from({ length: 300 }, (_, i) => (i * 7 + 1) & 0xff);
  m.write(0x1f00n, data);
  assert.deepEqual(m.read(0x1f00n, 300), data);
  assert.equal(m.materialised, 2);
  // Neighbours stay zero, and a read spanning written and unwritten chunks mixes them.
  const around = m.read(0x1ef0n, 0x1000);
  assert.deepEqual(around.subarray(0, 16), new Uint8Array(16));
  assert.deepEqual(around.subarray(16, 316), data);
  assert.equal(around[316], 0);
});

test('addresses above 2^53 are exact', () => {
  const m = mk();
  m.write(HIGH + 0xffffn, Uint8Array.of(1, 2));
  assert.deepEqual(m.read(HIGH + 0xfffen, 4), Uint8Array.of(0, 1, 2, 0));
  assert.deepEqual(m.read(HIGH - 0x1000n + 0xffffn, 2), Uint8Array.of(0, 0));
});

test('readInto fills a caller buffer, zeroing unwritten bytes', () => {
  const m = mk();
  m.write(0x10n, Uint8Array.of(9));
  const dst = new Uint8Array(4).fill(0xee);
  m.readInto(0xfn, dst);
  assert.deepEqual(dst, Uint8Array.of(0, 9, 0, 0));
});

test('isRam: whole range inside one region', () => {
  const m = mk();
  assert.equal(m.isRam(0n, 0x8_0000n), true);
  assert.equal(m.isRam(0x7_ffffn, 1n), true);
  assert.equal(m.isRam(0x7_ffffn, 2n), false); // runs off the end
  assert.equal(m.isRam(0x8_0000n, 1n), false); // hole
  assert.equal(m.isRam(0x1f_f000n, 0x2000n), false); // spans two adjacent regions
  assert.equal(m.isRam(HIGH, 0x10_0000n), true);
  assert.equal(m.isRam(0x1000n, 0n), false); // empty range
});

test('overlapping or empty regions are model bugs', () => {
  assert.throws(() => new PhysMem([{ base: 0n, size: 0x2000n }, { base: 0x1000n, size: 0x1000n }]), /^Error: BUG:/);
  assert.throws(() => new PhysMem([{ base: 0n, size: 0n }]), /^Error: BUG:/);
});

test('accesses past 2^64 are model bugs', () => {
  const m = mk();
  assert.throws(() => m.read((1n << 64n) - 1n, 2), /^Error: BUG:/);
  assert.throws(() => m.write(-1n, Uint8Array.of(1)), /^Error: BUG:/);
});
