import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ByteRng, DmaspecFinding, decode, fuzz, targetConfig } from './byte-target';
import { execute } from './execute';
import { namedPlatform } from './platforms';
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

test('DMASPEC_PLATFORM fixes the platform: the bytes then only choose the sequence', () => {
  const data = bytes(3, 200);
  const named = decode(data, 'x86-vtd');
  assert.deepEqual(named.slice(0, namedPlatform('x86-vtd').length).map(printOp), namedPlatform('x86-vtd').map(printOp));
  assert.ok(named.length > namedPlatform('x86-vtd').length, 'at least one op after the platform');
  assert.notDeepEqual(decode(data, 'mix').map(printOp), named.map(printOp));
  assert.equal(decode(data, 'random')[0]?.op, 'platform');
});

test('targetConfig names the variable and the bad value; valid settings parse', () => {
  assert.deepEqual(targetConfig({}), { platform: 'mix', faults: [] });
  assert.deepEqual(targetConfig({ DMASPEC_PLATFORM: 'arm64-smmu', DMASPEC_FAULTS: 'batched-no-flush, direct-ignore-mask' }), { platform: 'arm64-smmu', faults: ['batched-no-flush', 'direct-ignore-mask'] });
  assert.throws(() => targetConfig({ DMASPEC_PLATFORM: 'vax' }), /^Error: DMASPEC_PLATFORM: unknown platform "vax"/);
  assert.throws(() => targetConfig({ DMASPEC_FAULTS: 'direct-ignore-mask,nope' }), /^Error: DMASPEC_FAULTS: unknown fault\(s\) nope$/);
});

test('fuzz() throws DmaspecFinding carrying the failure execute() reports, and a bad setting', () => {
  process.env.DMASPEC_FAULTS = 'direct-ignore-mask';
  process.env.DMASPEC_PLATFORM = 'no-iommu-32bit';
  try {
    let found: DmaspecFinding | undefined;
    for (let s = 1; s <= 300 && !found; s++) {
      const data = bytes(s, 300);
      const o = execute(decode(data, 'no-iommu-32bit'), { faults: ['direct-ignore-mask'], features: false });
      try {
        fuzz(data);
        assert.equal(o.failure, undefined, `seed ${s}: execute() fails but fuzz() did not throw`);
      } catch (e) {
        assert.ok(e instanceof DmaspecFinding, `seed ${s}: threw ${String(e)}`);
        assert.equal(e.failure.key, o.failure?.key);
        found = e;
      }
    }
    assert.ok(found, 'no byte string in 300 reached direct-ignore-mask');
    assert.match(found.message, /^dmaspec finding MASK-RESPECTED@/);
    process.env.DMASPEC_FAULTS = 'no-such-fault';
    assert.throws(() => fuzz(Buffer.alloc(0)), /DMASPEC_FAULTS: unknown fault\(s\) no-such-fault/);
  } finally {
    delete process.env.DMASPEC_FAULTS;
    delete process.env.DMASPEC_PLATFORM;
  }
});

test('an input dead end (an op naming a handle whose create failed) returns quietly: not a finding', () => {
  let deadEnds = 0;
  for (let s = 1; s <= 200 && deadEnds < 2; s++) {
    const data = bytes(s, 200 + (s % 300));
    if (execute(decode(data), { features: false }).invalid === undefined) continue;
    deadEnds++;
    assert.doesNotThrow(() => fuzz(data), `seed ${s}`);
  }
  assert.ok(deadEnds > 0, 'no dead end among 200 byte strings: pick other seeds so this test still checks something');
});
