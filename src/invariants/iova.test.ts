/** IOVA-* (iommu.md §2.14, G-2/G-3/G-5): silent on clean runs; fire on planted faults or corrupted allocator state. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IOVA_ANCHOR } from '../iommu/iova-types';
import { Session } from './session';
import { PLATFORM, fired, holdsThenFires, iovad, magazine, times } from './iommu-kit';

const IV = (start = '1'): string[] => [PLATFORM, `the kernel calls init_iova_domain with name iv granule 4K start_pfn ${start}`];
const ALLOC = (n: number | string, size = 1, limit = '0xFFFFF'): string => `the kernel calls alloc_iova with domain iv size ${size} limit_pfn ${limit} as i${n}`;
const FAST = (n: number | string, size = 1, limit = '0xFFFFF'): string => `the kernel calls alloc_iova_fast with domain iv size ${size} limit_pfn ${limit} as f${n}`;
const STRICT_DEV = [PLATFORM, 'the kernel calls iommu_add with name smmu mode strict', 'a device "nic" with iommu smmu dma_mask DMA_BIT_MASK(64)'];
const MAP = (n: number, size = '4K', phys = `0x8${n}00_0000`): string => `"nic" calls dma_map_phys with phys ${phys} size ${size} dir DMA_TO_DEVICE as m${n}`;
const UNMAP = (n: number, size = '4K'): string => `"nic" calls dma_unmap_phys with dma_addr $m${n} size ${size} dir DMA_TO_DEVICE`;

test('clean allocator traffic: every IOVA invariant holds', () => {
  const s = new Session();
  s.run(...IV(), ALLOC(0), ALLOC(1, 3), FAST(2, 3), FAST(3, 40), 'the kernel calls free_iova_fast with domain iv pfn $f2 size 3',
    FAST(4, 3), 'the kernel calls free_iova with domain iv pfn $i1', 'the kernel calls free_iova_fast with domain iv pfn $f3 size 40',
    'the kernel calls reserve_iova with domain iv pfn_lo 0x100 pfn_hi 0x1ff', 'the kernel calls reserve_iova with domain iv pfn_lo 0x180 pfn_hi 0x2ff',
    ALLOC(5, 2, '0x1ff'), 'the kernel calls iova_cpuhp_dead with domain iv cpu 0', FAST(6, 1, '0xFFFFFFFF'), 'the kernel calls find_iova with domain iv pfn $f6');
  assert.deepEqual(s.fired(), [], s.report());
});

test('IOVA-NO-OVERLAP: a search that stops before checking the node below', () => {
  // A, B, C at the top; B freed moves cached32 up to A; a 2-pfn search from A must walk past C.
  holdsThenFires('IOVA-NO-OVERLAP', [...IV(), ALLOC(0), ALLOC(1), ALLOC(2), 'the kernel calls free_iova with domain iv pfn $i1', ALLOC(3, 2)], ['iova-alloc-overlap']);
});

test('IOVA-IN-LIMIT: a search that runs above limit_pfn', () => {
  holdsThenFires('IOVA-IN-LIMIT', [...IV(), ALLOC(0, 1, '0xFFFF'), FAST(1, 4, '0xFFFF')], ['iova-ignore-limit']);
});

test('IOVA-IN-LIMIT: the 32-bit-first attempt of dma-iommu must stay below 4 GiB', () => {
  holdsThenFires('IOVA-IN-LIMIT', [...STRICT_DEV, MAP(0)], ['iova-ignore-limit']);
});

test('IOVA-ALIGNED: a misaligned range in a size-class magazine is handed out', () => {
  const s = new Session();
  s.run(...IV(), ALLOC(0, 1), ALLOC(1, 2, '0xFFFFF').replace('as i1', 'size_aligned false as i1'));
  const lo = (s.last!.result.ok && s.last!.result.values.pfn_lo) as bigint;
  assert.equal(lo % 2n, 1n, 'the unaligned 2-pfn range starts on an odd pfn');
  magazine(s, 'iv', 1).push(lo); // class 1 now offers a misaligned node
  s.run(FAST(2, 2));
  fired(s, 'IOVA-ALIGNED');
});

test('IOVA-ALIGNED: a cached node handed out for the wrong size', () => {
  // The handle loses its offset, so the unmap frees 1 pfn of a 2-pfn node into class 0.
  holdsThenFires('IOVA-ALIGNED', [...STRICT_DEV, MAP(0, '4K', '0x8000_0100'), UNMAP(0), MAP(1)], ['dma-iommu-drops-offset']);
});

test('IOVA-ANCHOR: the anchor node goes missing', () => {
  const s = new Session();
  s.run(...IV(), ALLOC(0));
  iovad(s, 'iv').tree.delete(IOVA_ANCHOR);
  s.run('the kernel calls find_iova with domain iv pfn $i0');
  fired(s, 'IOVA-ANCHOR');
});

test('IOVA-CACHED-NODES-VALID: cached32_node names no node', () => {
  const s = new Session();
  s.run(...IV(), ALLOC(0), ALLOC(1));
  iovad(s, 'iv').cached32_node = 0x12345n;
  s.run('the kernel calls find_iova with domain iv pfn $i0');
  fired(s, 'IOVA-CACHED-NODES-VALID');
});

test('IOVA-RCACHE-CONSISTENT: a pfn pushed twice into a magazine', () => {
  holdsThenFires('IOVA-RCACHE-CONSISTENT', [...STRICT_DEV, MAP(0), UNMAP(0)], ['rcache-double-insert']);
});

test('IOVA-RCACHE-CONSISTENT: a magazine pfn whose node is not its class size', () => {
  const s = new Session();
  s.run(...IV(), ALLOC(0, 3));
  const lo = (s.last!.result.ok && s.last!.result.values.pfn_lo) as bigint;
  magazine(s, 'iv', 0).push(lo); // a 3-pfn node in the 1-pfn class
  s.run(FAST(1, 1));
  fired(s, 'IOVA-RCACHE-CONSISTENT');
});

test('IOVA-CACHED-NOT-LIVE: the second copy of a double-cached pfn is still in the magazine when the first is handed out', () => {
  holdsThenFires('IOVA-CACHED-NOT-LIVE', [...STRICT_DEV, MAP(0), UNMAP(0), MAP(1)], ['rcache-double-insert']);
});

test('IOVA-NO-LOST-RANGES: a flush-queue ring that wraps forgets 255 IOVAs', () => {
  const lazy = [PLATFORM, 'the kernel calls iommu_add with name smmu mode lazy', 'a device "nic" with iommu smmu dma_mask DMA_BIT_MASK(64)'];
  holdsThenFires('IOVA-NO-LOST-RANGES', [...lazy, ...times(256, '"nic" calls dma_map_phys with phys 0x{x} size 4K dir DMA_TO_DEVICE as m{i}'),
    ...times(256, '"nic" calls dma_unmap_phys with dma_addr $m{i} size 4K dir DMA_TO_DEVICE')], ['fq-no-flush-when-full']);
});

test('IOVA-NO-LOST-RANGES: a node removed behind the allocator\'s back', () => {
  const s = new Session();
  s.run(...IV(), ALLOC(0));
  const lo = (s.last!.result.ok && s.last!.result.values.pfn_lo) as bigint;
  s.run(ALLOC(1)); // cached32_node moves to the new node, away from i0
  iovad(s, 'iv').tree.delete(lo);
  s.run(ALLOC(2));
  fired(s, 'IOVA-NO-LOST-RANGES');
});

/** An 8-pfn 32-bit window filled, one more allocation failing, one range freed (iommu.md E2.4). */
const FULL = [...IV('0xFFFF8'), ...Array.from({ length: 8 }, (_, i) => ALLOC(i)), 'the kernel calls alloc_iova with domain iv size 1 limit_pfn 0xFFFFF',
  'the kernel calls free_iova with domain iv pfn $i3'];

test('IOVA-MAX32-RULE: a free below 4 GiB that does not reset max32_alloc_size', () => {
  holdsThenFires('IOVA-MAX32-RULE', FULL, ['iova-max32-not-reset']);
});

test('IOVA-MAX32-RULE: max32_alloc_size changed without a failure', () => {
  const s = new Session();
  s.run(...IV(), ALLOC(0));
  iovad(s, 'iv').max32_alloc_size = 5n;
  s.run(ALLOC(1));
  fired(s, 'IOVA-MAX32-RULE');
});

test('IOVA-COMPLETE: the 32-bit shortcut fails an allocation with a gap free', () => {
  holdsThenFires('IOVA-COMPLETE', [...FULL, ALLOC('x')], ['iova-max32-not-reset']);
});

test('IOVA-COMPLETE makes no claim for a shortcut set by a failure with a lower limit', () => {
  // The failure at limit 0xFFFFB sets max32 = 1; a later limit-0xFFFFF call fails by the shortcut though 0xFFFFE.. is free.
  const s = new Session();
  s.run(...IV('0xFFFF8'), ...Array.from({ length: 4 }, (_, i) => ALLOC(i, 1, '0xFFFFB')), 'the kernel calls alloc_iova with domain iv size 1 limit_pfn 0xFFFFB',
    'the kernel calls alloc_iova with domain iv size 1 limit_pfn 0xFFFFF');
  assert.equal(s.last!.result.ok, false);
  assert.deepEqual(s.fired(), [], s.report());
});

test('IOVA-STATES: a reserved range handed out from a range cache', () => {
  const s = new Session();
  s.run(...STRICT_DEV, MAP(0), UNMAP(0));
  const pfn = magazine(s, 'nic', 0).at(-1)!;
  (iovad(s, 'nic').view.node_at(pfn) as { reserved: boolean }).reserved = true;
  s.run(MAP(1));
  fired(s, 'IOVA-STATES');
});

test('IOVA-STATES: a lazy unmap queues a different range than the one it unmapped', () => {
  const lazy = [PLATFORM, 'the kernel calls iommu_add with name smmu mode lazy', 'a device "nic" with iommu smmu dma_mask DMA_BIT_MASK(64)'];
  holdsThenFires('IOVA-STATES', [...lazy, MAP(0, '4K', '0x8000_0100'), UNMAP(0)], ['dma-iommu-drops-offset']);
});
