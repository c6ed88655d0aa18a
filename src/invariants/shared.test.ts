/**
 * Shared family shadows (shared.ts): observed once per op whichever checker asks, fresh per
 * machine, and equivalent to a private shadow per checker — a family member run alone, or with
 * its whole family, reports the same violations on a planted fault.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AfterOp } from './invariant';
import type { Platform } from '../platform';
import { Session } from './session';
import { sharedPerOp } from './shared';

const ctx = (platform: object, index: number): AfterOp => ({ platform: platform as Platform, index, op: { op: 'platform' } as AfterOp['op'], result: { ok: true, values: {}, warnings: [] } });

test('sharedPerOp: one observation per op and machine, however many checkers ask; a new machine gets a new shadow', () => {
  let made = 0;
  const seen: number[] = [];
  const family = sharedPerOp(() => ({ id: ++made, ops: 0 }), (s, c) => {
    s.ops++;
    seen.push(c.index);
    return `${s.id}:${s.ops}`;
  });
  const m1 = {};
  const m2 = {};
  assert.deepEqual([family(ctx(m1, 0)), family(ctx(m1, 0)), family(ctx(m1, 0))], ['1:1', '1:1', '1:1'], 'three checkers, one observation');
  assert.equal(family(ctx(m1, 1)), '1:2');
  assert.equal(family(ctx(m2, 0)), '2:1', 'another machine: its own shadow');
  assert.equal(family(ctx(m1, 2)), '1:3', 'the first machine’s shadow went on where it was');
  assert.deepEqual(seen, [0, 1, 0, 2]);
});

/** A bounced FROM_DEVICE buffer the map does not pre-fill (CVE-2022-0854, as in coherence.test.ts), partly written by the device: a swiotlb and a VIS checker fire. */
const STEPS = [
  'a platform with ram [{base 0x0, size 4G}, {base 0x1_0000_0000, size 4G}] swiotlb {size 64M}',
  'a device "nic"',
  // An earlier user leaves its data in the slot.
  '"nic" calls dma_map_phys with phys 0x1_5000_0000 size 4K dir DMA_FROM_DEVICE as old',
  '"nic" calls device_write with dma_addr $old data {len 4096, fill 0x99}',
  '"nic" calls dma_unmap_phys with dma_addr $old size 4K dir DMA_FROM_DEVICE',
  'the CPU calls cpu_write with phys 0x1_2345_6000 data {len 4096, seed 7}',
  '"nic" calls dma_map_phys with phys 0x1_2345_6000 size 4K dir DMA_FROM_DEVICE as buf',
  '"nic" calls device_write with dma_addr $buf data {len 16, fill 0xd0}',
  '"nic" calls dma_unmap_phys with dma_addr $buf size 4K dir DMA_FROM_DEVICE',
  'the CPU calls cpu_read with phys 0x1_2345_6000 size 64',
];

test('a family member alone reports what it reports beside its family (shared shadow, same findings)', () => {
  const all = new Session({ faults: ['swiotlb-skip-map-copy'] });
  all.run(...STEPS);
  const ids = all.fired().filter((id) => id.startsWith('VIS-') || id.startsWith('SWIOTLB-'));
  assert.ok(ids.includes('SWIOTLB-BOUNCE-FILLED') && ids.includes('VIS-BOUNCE-TRANSPARENT'), `the planted fault must show in both families: ${all.report()}`);
  for (const id of ids) {
    const alone = new Session({ faults: ['swiotlb-skip-map-copy'], invariants: [id] });
    alone.run(...STEPS);
    assert.deepEqual(alone.violations, all.violations.filter((v) => v.id === id), id);
  }
});
