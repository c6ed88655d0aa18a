/** IOMMU-* core invariants (iommu.md §4.10) on iommu_* ops called directly: silent when clean, fire on faults. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Session } from './session';
import { PLATFORM, PLATFORM_612, fired, holdsThenFires } from './iommu-kit';

const SMMU = 'the kernel calls iommu_add with name smmu';
const MAP = (iova: string, paddr: string, size: string, prot = '[IOMMU_READ, IOMMU_WRITE]'): string => `the kernel calls iommu_map with domain smmu iova ${iova} paddr ${paddr} size ${size} prot ${prot}`;
const UNMAP = (iova: string, size: string): string => `the kernel calls iommu_unmap with domain smmu iova ${iova} size ${size}`;
const PHYS = (iova: string): string => `the kernel calls iommu_iova_to_phys with domain smmu iova ${iova}`;

/** iommu.md §4.9 S4.1–S4.6, as far as each applies, in both kernels. */
const SCENARIOS = [
  MAP('0x1000', '0x1000', '0x400000'), PHYS('0x200123'), PHYS('0x0'), UNMAP('0x0', '0x2000'), UNMAP('0x1000', '0x400000'),
  MAP('0x1000', '0x1000', '0x400000'), UNMAP('0x0', '0x400000'), UNMAP('0x400000', '0x1000'),
  MAP('0x1800', '0x1000', '0x1000'), MAP('0x5000', '0x9000', '0x1000'), MAP('0x4000', '0x8000', '0x3000'), PHYS('0x5000'),
  MAP('0x200000', '0x200000', '0x200000'), UNMAP('0x201000', '0x1000'), PHYS('0x202000'), PHYS('0x201000'), UNMAP('0x200000', '0x200000'),
  MAP('0x4000_0000', '0x8000_0000', '0x4020_1000', '3'), UNMAP('0x4000_0000', '0x4020_1000'),
  MAP('0x200000', '0x201000', '0x400000'), UNMAP('0x200000', '0x400000'),
  'the kernel calls iommu_map_sg with domain smmu iova 0x100000 sg [{phys 0x1000_0000, length 0x1000}, {phys 0x1000_1000, length 0x2000}, {phys 0x2000_0000, length 0x1000}] prot 1',
  PHYS('0x103000'), 'the kernel calls iommu_unmap_fast with domain smmu iova 0x100000 size 0x4000', 'the kernel calls iommu_iotlb_sync with domain smmu',
  MAP('0x10000', '0x10000', '0x1000', '0'),
];

test('clean iommu_* traffic (S4.1–S4.7) in 6.12 and newest: every invariant holds', () => {
  for (const p of [PLATFORM, PLATFORM_612]) {
    const s = new Session();
    s.run(p, SMMU, ...SCENARIOS);
    assert.deepEqual(s.fired(), [], `${p}\n${s.report()}`);
  }
});

test('IOMMU-TRANSLATION: iova_to_phys after a map that chose a misaligned page size', () => {
  holdsThenFires('IOMMU-TRANSLATION', [PLATFORM, SMMU, MAP('0x1000', '0x1000', '0x400000'), PHYS('0x200123')], ['pgsize-wrong-choice']);
});

test('IOMMU-TRANSLATION: a leaf whose output address was overwritten', () => {
  const s = new Session();
  s.run(PLATFORM, SMMU, MAP('0x10000', '0x8000_0000', '0x1000'));
  const leaf = s.platform.iommu.domains.get('smmu')!.domain.pgtbl!.leaf_at(0x10000n)!;
  (leaf as { paddr: bigint }).paddr = 0x9000_0000n;
  s.run(PHYS('0x10010'));
  fired(s, 'IOMMU-TRANSLATION');
});

test('IOMMU-MAP-ALL-OR-NOTHING: a map whose pages land at the wrong addresses', () => {
  holdsThenFires('IOMMU-MAP-ALL-OR-NOTHING', [PLATFORM, SMMU, MAP('0x1000', '0x1000', '0x400000')], ['pgsize-wrong-choice']);
});

test('IOMMU-MAP-ALL-OR-NOTHING: a failed map must leave nothing behind', () => {
  const s = new Session();
  s.run(PLATFORM, SMMU, MAP('0x200000', '0x9000', '0x1000'));
  // Corruption: the unwind after -EEXIST unmaps nothing. The first map_pages call stops at the table's end
  // (0x1FF000 mapped), the second meets the leaf at 0x200000.
  const pt = s.platform.iommu.domains.get('smmu')!.domain.pgtbl!;
  pt.unmap_pages = () => 0n;
  s.run(MAP('0x1FF000', '0x1000', '0x2000'));
  assert.equal(s.last!.result.ok, false);
  fired(s, 'IOMMU-MAP-ALL-OR-NOTHING');
});

test('IOMMU-UNMAP-EXACT: a block split that keeps the page it reports unmapped (6.12)', () => {
  holdsThenFires('IOMMU-UNMAP-EXACT', [PLATFORM_612, SMMU, MAP('0x200000', '0x200000', '0x200000'), UNMAP('0x201000', '0x1000')], ['pgtable-split-loses-pages']);
});

test('IOMMU-PGSIZE-VALID: iommu_pgsize ignoring the alignment of iova and paddr', () => {
  holdsThenFires('IOMMU-PGSIZE-VALID', [PLATFORM, SMMU, MAP('0x1000', '0x1000', '0x400000')], ['pgsize-wrong-choice']);
});

test('IOMMU-PGSIZE-VALID also judges the maps dma-iommu makes', () => {
  holdsThenFires('IOMMU-PGSIZE-VALID', [PLATFORM, 'the kernel calls iommu_add with name smmu mode strict', 'a device "nic" with iommu smmu dma_mask DMA_BIT_MASK(64)',
    '"nic" calls dma_map_phys with phys 0x1_0000_1000 size 0x20_0000 dir DMA_TO_DEVICE as a'], ['pgsize-wrong-choice']);
});
