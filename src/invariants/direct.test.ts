/** DIRECT-MAP-ADDRESS, BOUNCE-IN-POOL, MAP-SG-ALL-OR-NOTHING, DMA-PHYS-ROUNDTRIP. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Session, holdsThenFires } from './session';

const HIGH = 'a platform with ram [{base 0x0, size 4G}, {base 0x1_0000_0000, size 4G}] swiotlb {size 64M}';
const RANGED = 'a device "soc" with bus platform dma_mask DMA_BIT_MASK(32) dma_range_map [{cpu_start 0x8000_0000, dma_start 0x0, size 0x4000_0000}, {cpu_start 0x1_0000_0000, dma_start 0x4000_0000, size 0x4000_0000}]';


test('DIRECT-MAP-ADDRESS: an unreachable buffer is never mapped directly', () => {
  holdsThenFires('DIRECT-MAP-ADDRESS', [
    HIGH, 'a device "nic"',
    '"nic" calls dma_map_phys with phys 0x1000_0000 size 4K dir DMA_TO_DEVICE',
    '"nic" calls dma_map_phys with phys 0x1_2345_6000 size 8K dir DMA_BIDIRECTIONAL',
  ], ['direct-ignore-mask']);
});

test('DIRECT-MAP-ADDRESS: a direct map returns phys_to_dma(phys), not phys', () => {
  holdsThenFires('DIRECT-MAP-ADDRESS', [
    HIGH, RANGED, '"soc" calls dma_map_phys with phys 0x8000_1000 size 4K dir DMA_TO_DEVICE',
  ], ['direct-ignore-range-map']);
});

test('BOUNCE-IN-POOL: a bounce slot the device cannot reach is refused, not returned', () => {
  holdsThenFires('BOUNCE-IN-POOL', [
    HIGH, 'a device "old" with dma_mask DMA_BIT_MASK(30)',
    '"old" calls dma_map_phys with phys 0x1_2345_6000 size 8K dir DMA_TO_DEVICE',
  ], ['swiotlb-map-skip-capable-check']);
  // And the force-bounce path lands in the pool too.
  const s = new Session();
  s.run('a platform with swiotlb {size 4M, force true}', 'a device "nic"', '"nic" calls dma_map_phys with phys 0x1000_0000 size 4K dir DMA_TO_DEVICE');
  assert.deepEqual(s.fired(), [], s.report());
});

test('MAP-SG-ALL-OR-NOTHING: a failed sg map releases the entries it had bounced', () => {
  // Entry 0 bounces; entry 1 (300 KiB) cannot fit in any segment, so the call fails and unwinds.
  holdsThenFires('MAP-SG-ALL-OR-NOTHING', [
    HIGH, 'a device "nic"',
    '"nic" calls dma_map_sg with sg [{phys 0x1_2345_6000, length 8K}, {phys 0x1_4000_0000, length 300K}] dir DMA_FROM_DEVICE',
    '"nic" calls dma_map_sg with sg [{phys 0x1_2345_6000, length 8K}, {phys 0x1000, length 4K}] dir DMA_FROM_DEVICE as s',
    '"nic" calls dma_unmap_sg with sg $s dir DMA_FROM_DEVICE',
  ], ['direct-sg-no-unwind']);
});

test('DMA-PHYS-ROUNDTRIP: the returned address leads the device back to the buffer', () => {
  holdsThenFires('DMA-PHYS-ROUNDTRIP', [
    HIGH, RANGED,
    '"soc" calls dma_map_phys with phys 0x8000_2000 size 4K dir DMA_FROM_DEVICE',
  ], ['direct-ignore-range-map']);
});

test('a driver buffer inside the swiotlb pool that bounces elsewhere is a bounce, not a bad direct map', () => {
  // swiotlb=1 byte rounds up to one 128-slot segment per area (swiotlb.c setup_io_tlb_npages,
  // round_up_default_nslabs): the pool is [0xfffc0000, 4G) and 0xfffff000 lies inside it.
  const steps = ['a platform with swiotlb {size 1}', 'a device "d2"', '"d2" calls dma_map_single with phys 0xffff_f000 size 7680 dir DMA_BIDIRECTIONAL'];
  const s = new Session();
  s.run(...steps);
  assert.equal(s.platform.swiotlb?.start, 0xfffc0000n);
  assert.deepEqual(s.fired(), [], s.report());
  // A model that maps it directly although the device cannot reach the end is still caught.
  holdsThenFires('DIRECT-MAP-ADDRESS', steps, ['direct-ignore-mask']);
});

test('DMA-PHYS-ROUNDTRIP makes no claim for a map through overlapping dma-ranges regions (a firmware bug)', () => {
  // Both regions translate to DMA 0: phys_to_dma(1) = 0 through the second, dma_to_phys(0) = 0 through the first.
  const s = new Session();
  s.run('a platform', 'a device "mmc" with dma_range_map [{cpu_start 0x0, dma_start 0x0, size 1}, {cpu_start 0x1, dma_start 0x0, size 1}]',
    '"mmc" calls dma_map_page with phys 0x1 size 1 dir DMA_BIDIRECTIONAL');
  assert.deepEqual(s.fired(), [], s.report());
  // Disjoint regions are still checked: the fault-injection test above covers a bad translation.
});
