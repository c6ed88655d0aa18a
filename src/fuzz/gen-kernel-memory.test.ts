/**
 * The generators never hand a driver memory the kernel owns: the swiotlb pool is memblock's gift to
 * swiotlb (swiotlb_init_remap), so a driver buffer there is not a legal input (the checkers tell its
 * route by the slot's orig_addr anyway). The pool bounds come from the platform the engine built,
 * not from the configured size (setup_io_tlb_npages and round_up_default_nslabs round it up).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Engine } from '../engine/engine';
import type { Op } from '../ops/types';
import { generateSequence } from './generate';
import { namedPlatform, PLATFORM_NAMES, randomPlatform } from './platforms';
import { createRng, fork } from './rng';

const MAPS = new Set(['dma_map_phys', 'dma_map_page', 'dma_map_single', 'dma_iova_link', 'dma_map_sg', 'dma_map_sgtable']);

/** [phys, +size) of every driver buffer the op hands to the DMA API (literal addresses only). */
function buffers(op: Op): { phys: bigint; size: bigint }[] {
  if (!MAPS.has(op.op)) return [];
  const o = op as unknown as Record<string, unknown>;
  if (Array.isArray(o.sg)) {
    return (o.sg as Record<string, unknown>[]).flatMap((e) => (typeof e.phys === 'bigint' && typeof e.length === 'bigint' ? [{ phys: e.phys, size: e.length }] : []));
  }
  return typeof o.phys === 'bigint' && typeof o.size === 'bigint' ? [{ phys: o.phys, size: o.size }] : [];
}

test('generated driver buffers never lie in the swiotlb pool the platform built', () => {
  const rng = createRng(7);
  const platforms: Op[][] = [...PLATFORM_NAMES.map((n) => namedPlatform(n))];
  for (let i = 0; i < 24; i++) platforms.push(randomPlatform(fork(rng)));
  // Small pools too, where the rounding moves the pool most.
  platforms.push([{ op: 'platform', swiotlb: { size: 1n } } as Op]);
  let checked = 0;
  platforms.forEach((plat, k) => {
    const e = new Engine();
    const first = plat[0];
    assert.ok(first !== undefined);
    e.execute(first);
    const pool = e.platform?.swiotlb;
    if (!pool || pool.nslabs === 0) return;
    for (const misuse of [0, 0.15]) {
      const ops = generateSequence(fork(rng), plat, { length: 400, misuse });
      for (const [i, op] of ops.entries()) {
        for (const b of buffers(op)) {
          checked++;
          const end = b.phys + (b.size > 0n ? b.size : 1n);
          assert.ok(end <= pool.start || b.phys >= pool.end, `platform ${k}, op ${i} (${op.op}): buffer [0x${b.phys.toString(16)}, +${b.size}) lies in the pool [0x${pool.start.toString(16)}, 0x${pool.end.toString(16)})`);
        }
      }
    }
  });
  assert.ok(checked > 1000, `only ${checked} buffers checked`);
});
