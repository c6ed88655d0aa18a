/** BAT-NO-PENDING-AT-HANDOFF, BAT-FLUSH-COUNT, BAT-CPU-ALL-AFTER-FLUSH on arm64 newest (batched) and 6.12 (stub). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Session, holdsThenFires } from './session';

const ARM = 'a platform with arch arm64 ram [{base 0x0, size 4G}, {base 0x1_0000_0000, size 4G}] swiotlb {size 64M} dma_debug false';
const DEV = 'a device "dev" with bus platform coherent false dma_mask DMA_BIT_MASK(32)';
const SG = '[{phys 0x1000_0000, length 4K}, {phys 0x1000_2000, length 4K}, {phys 0x1_2345_6000, length 4K}, {phys 0x1000_4000, length 100}]';

/** A batched sg workload: direct and bounced entries, all four sg calls, single calls too. */
const WORKLOAD = [
  ARM, DEV,
  `"dev" calls dma_map_sg with sg ${SG} dir DMA_BIDIRECTIONAL as s`,
  '"dev" calls dma_sync_sg_for_cpu with sg $s dir DMA_BIDIRECTIONAL',
  '"dev" calls dma_sync_sg_for_device with sg $s dir DMA_BIDIRECTIONAL',
  '"dev" calls dma_unmap_sg with sg $s dir DMA_BIDIRECTIONAL',
  '"dev" calls dma_map_phys with phys 0x1_2345_8000 size 8K dir DMA_FROM_DEVICE as b',
  '"dev" calls dma_sync_single_for_cpu with dma_addr $b size 8K dir DMA_FROM_DEVICE',
  '"dev" calls dma_unmap_phys with dma_addr $b size 8K dir DMA_FROM_DEVICE',
];


test('BAT-NO-PENDING-AT-HANDOFF: an sg call that skips its flush returns with maintenance pending', () => {
  holdsThenFires('BAT-NO-PENDING-AT-HANDOFF', WORKLOAD, ['batched-no-flush']);
});

test('BAT-FLUSH-COUNT: one flush per sg call, not one per entry', () => {
  holdsThenFires('BAT-FLUSH-COUNT', WORKLOAD, ['batched-flush-per-entry']);
});

test('BAT-FLUSH-COUNT: the 6.12 stub never counts a flush', () => {
  const s = new Session({ faults: ['batched-flush-per-entry'] });
  s.run(...[`${ARM} linux 6.12`, ...WORKLOAD.slice(1)]);
  assert.deepEqual(s.fired(), [], s.report());
});

test('BAT-CPU-ALL-AFTER-FLUSH: sync_sg_for_cpu runs arch_sync_dma_for_cpu_all after its flush', () => {
  holdsThenFires('BAT-CPU-ALL-AFTER-FLUSH', WORKLOAD, ['batched-no-flush']);
});
