/** MAP-RESULT-RECORDED, MAP-SG-COUNT, OPT-LE-MAX, SET-MASK-EFFECT, MASK-RESPECTED: hold on clean runs, fire on faults. */
import { test } from 'node:test';
import { holdsThenFires } from './session';

const HIGH = 'a platform with ram [{base 0x0, size 4G}, {base 0x1_0000_0000, size 4G}] swiotlb {size 64M}';


test('MAP-RESULT-RECORDED: a failed bounce that keeps its slots, and a map dma-debug did not record', () => {
  // A 30-bit device gets a slot above its reach: swiotlb_map must release it and fail (§3.8 case 5).
  holdsThenFires('MAP-RESULT-RECORDED', [
    HIGH, 'a device "old" with dma_mask DMA_BIT_MASK(30)',
    '"old" calls dma_map_phys with phys 0x1_2345_6000 size 8K dir DMA_TO_DEVICE',
  ], ['swiotlb-map-leak-on-overflow']);
  holdsThenFires('MAP-RESULT-RECORDED', [
    HIGH, 'a device "nic"',
    '"nic" calls dma_map_phys with phys 0x1_2345_6000 size 8K dir DMA_TO_DEVICE as b',
    '"nic" calls dma_map_phys with phys 0x1000_0000 size 4K dir DMA_FROM_DEVICE as d',
  ], ['debug-drop-entry']);
});

test('MAP-SG-COUNT: dma_map_sg may not hand a negative errno back as a count', () => {
  // No pool and an unreachable entry: the direct path fails with -EIO.
  holdsThenFires('MAP-SG-COUNT', [
    'a platform with ram [{base 0x0, size 4G}, {base 0x1_0000_0000, size 4G}]', 'a device "nic"',
    '"nic" calls dma_map_sg with sg [{phys 0x1000_0000, length 4K}, {phys 0x1_0000_0000, length 4K}] dir DMA_TO_DEVICE',
    '"nic" calls dma_map_sgtable with sg [{phys 0x1000_0000, length 4K}, {phys 0x1_0000_0000, length 4K}] dir DMA_TO_DEVICE',
    '"nic" calls dma_map_sg with sg [{phys 0x1000_0000, length 4K}, {phys 0x2000_0000, length 4K}] dir DMA_TO_DEVICE',
  ], ['map-sg-errno-as-count']);
});

test('OPT-LE-MAX: dma_opt_mapping_size must not exceed dma_max_mapping_size', () => {
  // A 32-bit device on 8 GiB is addressing-limited: max = swiotlb_max_mapping_size.
  holdsThenFires('OPT-LE-MAX', [
    HIGH, 'a device "nic"', '"nic" calls dma_max_mapping_size', '"nic" calls dma_opt_mapping_size',
  ], ['opt-size-unclamped']);
});

test('SET-MASK-EFFECT: a refused dma_set_mask leaves the mask as it was', () => {
  holdsThenFires('SET-MASK-EFFECT', [
    HIGH, 'a device "nic"',
    '"nic" calls dma_set_mask with mask DMA_BIT_MASK(64)', '"nic" calls dma_get_mask',
    '"nic" calls dma_set_mask with mask DMA_BIT_MASK(20)', '"nic" calls dma_get_mask',
  ], ['mask-set-despite-eio']);
});

test('MASK-RESPECTED: maps and coherent allocations stay below the device limit', () => {
  holdsThenFires('MASK-RESPECTED', [
    HIGH, 'a device "nic" with bus_dma_limit 0xFFFF_FFFF',
    '"nic" calls dma_map_phys with phys 0x1_2345_6000 size 8K dir DMA_TO_DEVICE',
    '"nic" calls dma_map_sg with sg [{phys 0x1_0000_0000, length 4K}, {phys 0x1000, length 4K}] dir DMA_FROM_DEVICE',
    '"nic" calls dma_alloc_coherent with size 16K',
  ], ['direct-ignore-mask']);
});
