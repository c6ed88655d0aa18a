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
