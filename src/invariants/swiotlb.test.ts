/** INV-S1..S8 and SWIOTLB-NO-LEAK: silent on clean runs; fire on planted faults or corrupted slot arrays. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Session, holdsThenFires } from './session';

const HIGH = 'a platform with ram [{base 0x0, size 4G}, {base 0x1_0000_0000, size 4G}] swiotlb {size 64M}';
const MAP = (n: number, size = '8K'): string => `"nic" calls dma_map_phys with phys 0x1_2345_${(6 + n).toString(16)}000 size ${size} dir DMA_BIDIRECTIONAL as b${n}`;
const UNMAP = (n: number, size = '8K'): string => `"nic" calls dma_unmap_phys with dma_addr $b${n} size ${size} dir DMA_BIDIRECTIONAL`;


/** The live slot arrays, writable, for corruption tests only. */
function slots(s: Session): { list: Uint16Array; alloc_size: BigUint64Array; area_used: Float64Array; area_index: Uint32Array } {
  const v = s.platform.swiotlb!.view;
  return { list: v.list as Uint16Array, alloc_size: v.alloc_size as BigUint64Array, area_used: v.area_used as Float64Array, area_index: v.area_index as Uint32Array };
}

const firstSlot = (s: Session, handle: string): number => {
  const r = s.run(`the kernel calls is_swiotlb_buffer with phys ${handle}`);
  assert.equal(r.result.ok && r.result.values.value, true);
  const op = r.op as { phys: bigint };
  return Number((op.phys - s.platform.swiotlb!.start) >> 11n);
};

test('clean bounce traffic: every swiotlb invariant holds', () => {
  const s = new Session();
  s.run(HIGH, 'a device "nic"', 'a device "nvme" with min_align_mask 0xFFF',
    MAP(0), MAP(1, '5000'), MAP(2, '100'), UNMAP(1, '5000'), MAP(3, '256K'), UNMAP(0), UNMAP(2, '100'), UNMAP(3, '256K'),
    '"nvme" calls dma_map_phys with phys 0x1_2345_6234 size 258048 dir DMA_TO_DEVICE as n',
    '"nvme" calls dma_unmap_phys with dma_addr $n size 258048 dir DMA_TO_DEVICE',
    '"nic" calls dma_map_phys with phys 0x1_4000_0000 size 300K dir DMA_TO_DEVICE',
    '"nic" calls swiotlb_tbl_map_single with phys 0x1_2345_6800 size 3000 alloc_align_mask 0xFFF dir DMA_FROM_DEVICE as t',
    '"nic" calls swiotlb_tbl_unmap_single with tlb_addr $t size 3000 dir DMA_FROM_DEVICE');
  assert.deepEqual(s.fired(), [], s.report());
});

test('SWIOTLB-LIST-CONSISTENT: a corrupted free count in a touched segment', () => {
  const s = new Session();
  s.run(HIGH, 'a device "nic"', MAP(0), MAP(1));
  const i = firstSlot(s, '$b1');
  slots(s).list[i + 4] = 100; // a free slot after b1 that claims more than its segment holds
  s.run(UNMAP(1));
  assert.ok(s.fired().includes('SWIOTLB-LIST-CONSISTENT'), s.report());
});

test('SWIOTLB-USED-COUNT: an area count that drifted from its slots', () => {
  const s = new Session();
  s.run(HIGH, 'a device "nic"', MAP(0));
  slots(s).area_used[0] += 1;
  s.run(MAP(1));
  assert.ok(s.fired().includes('SWIOTLB-USED-COUNT'), s.report());
});

test('SWIOTLB-MAPPING-SLOTS: a free list that hands out slots twice', () => {
  const s = new Session();
  s.run(HIGH, 'a device "nic"', MAP(0));
  const i = firstSlot(s, '$b0');
  const sl = slots(s);
  // The slots of b0 claim to be free again and the cursor points back at them.
  for (let k = 0; k < 4; k++) sl.list[i + k] = 128 - ((i + k) % 128);
  sl.area_index[0] = i;
  s.run(MAP(1));
  assert.ok(s.fired().includes('SWIOTLB-MAPPING-SLOTS'), s.report());
});

test('SWIOTLB-ALIGN: a slot search that forgets min_align_mask', () => {
  holdsThenFires('SWIOTLB-ALIGN', [
    HIGH, 'a device "nvme" with min_align_mask 0xFFF',
    '"nvme" calls dma_map_phys with phys 0x1_2345_6A34 size 8K dir DMA_TO_DEVICE',
  ], ['swiotlb-search-ignores-min-align']);
});

test('SWIOTLB-BOUNCE-FILLED: a map that does not pre-fill the slot', () => {
  holdsThenFires('SWIOTLB-BOUNCE-FILLED', [
    HIGH, 'a device "nic"', 'the CPU calls cpu_write with phys 0x1_2345_6000 data {len 4096, seed 3}',
    '"nic" calls dma_map_phys with phys 0x1_2345_6000 size 4K dir DMA_FROM_DEVICE',
  ], ['swiotlb-skip-map-copy']);
});

test('SWIOTLB-FREED-SLOTS-CLEAR (and SWIOTLB-NO-LEAK): a release that frees too few slots', () => {
  const s = new Session();
  s.run(HIGH, 'a device "nic"', MAP(0));
  const i = firstSlot(s, '$b0');
  slots(s).alloc_size[i] = 2048n; // release now counts one slot of the four
  s.run(UNMAP(0));
  assert.ok(s.fired().includes('SWIOTLB-FREED-SLOTS-CLEAR'), s.report());
  assert.ok(s.fired().includes('SWIOTLB-NO-LEAK'), s.report());
});

test('SWIOTLB-MAX-MAPPING-FITS: swiotlb_max_mapping_size must allow for min_align_mask', () => {
  // 262144 bytes at offset 0x234 needs 129 slots: only an honest max (258048) keeps the driver below that.
  holdsThenFires('SWIOTLB-MAX-MAPPING-FITS', [
    HIGH, 'a device "nvme" with min_align_mask 0xFFF', '"nvme" calls dma_max_mapping_size',
    '"nvme" calls dma_map_phys with phys 0x1_2345_6234 size 256K dir DMA_TO_DEVICE',
  ], ['swiotlb-max-ignores-min-align']);
});

test('SWIOTLB-MAX-MAPPING-FITS makes no claim below a 256 KiB segment boundary', () => {
  // A 64 KiB boundary splits runs: a 128 KiB map fails on an empty pool, and that is the kernel.
  const s = new Session();
  s.run(HIGH, 'a device "nic" with segment_boundary_mask 0xFFFF', '"nic" calls dma_map_phys with phys 0x1_2345_6000 size 128K dir DMA_TO_DEVICE');
  assert.equal(s.last?.result.ok, false);
  assert.deepEqual(s.fired(), [], s.report());
});

test('SWIOTLB-FAILED-MAP-NO-CHANGE and SWIOTLB-NO-LEAK: an unreachable slot kept by a failed map', () => {
  const s = holdsThenFires('SWIOTLB-FAILED-MAP-NO-CHANGE', [
    HIGH, 'a device "old" with dma_mask DMA_BIT_MASK(30)',
    '"old" calls dma_map_phys with phys 0x1_2345_6000 size 8K dir DMA_TO_DEVICE',
  ], ['swiotlb-map-leak-on-overflow']);
  assert.ok(s.fired().includes('SWIOTLB-NO-LEAK'), s.report());
});

test('the swiotlb checkers stop, without false alarms, when the driver frees what it does not own', () => {
  const s = new Session();
  s.run(HIGH, 'a device "nic"', MAP(0), UNMAP(0), UNMAP(0), MAP(1), '"nic" calls dma_unmap_phys with dma_addr $b1+0x800 size 4K dir DMA_BIDIRECTIONAL', MAP(2));
  assert.deepEqual(s.fired(), [], s.report());
});
