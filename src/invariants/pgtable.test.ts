/** PGTABLE-* (iommu.md §5.9): silent on clean tables; fire on planted faults or corrupted leaves. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ARM_LPAE_PTE_AP_RDONLY } from '../iommu/io-pgtable-arm';
import { Session } from './session';
import { PLATFORM, PLATFORM_612, fired, holdsThenFires } from './iommu-kit';

const SMMU = 'the kernel calls iommu_add with name smmu';
const MAP = (iova: string, paddr: string, size: string, prot = '3'): string => `the kernel calls iommu_map with domain smmu iova ${iova} paddr ${paddr} size ${size} prot ${prot}`;
const UNMAP = (iova: string, size: string): string => `the kernel calls iommu_unmap with domain smmu iova ${iova} size ${size}`;

/** Private state of the LPAE table, for corruption tests. */
const pgtbl = (s: Session): { prot_cache: Map<number, bigint>; oas_big: bigint } => s.platform.iommu.domains.get('smmu')!.domain.pgtbl as never;

test('clean page tables: blocks, pages, splits (6.12), refusals (newest), dma-iommu mappings', () => {
  for (const p of [PLATFORM, PLATFORM_612]) {
    const s = new Session();
    s.run(p, SMMU, MAP('0x4000_0000', '0x8000_0000', '1G'), UNMAP('0x4020_1000', '0x1000'), MAP('0x200000', '0x1_0000_0000', '2M', '1'),
      UNMAP('0x3FF000', '0x1000'), MAP('0x1000', '0x5000', '0x3000', '2'), UNMAP('0x0', '0x400000'), UNMAP('0x4000_0000', '1G'),
      'the kernel calls iommu_add with name smmu2 mode lazy', 'a device "nic" with iommu smmu2 dma_mask DMA_BIT_MASK(64)',
      '"nic" calls dma_map_phys with phys 0x1_0000_0000 size 4M dir DMA_FROM_DEVICE as a', '"nic" calls dma_unmap_phys with dma_addr $a size 4M dir DMA_FROM_DEVICE');
    assert.deepEqual(s.fired(), [], `${p}\n${s.report()}`);
  }
});

test('PGTABLE-MATCHES-MAPPINGS: leaves that do not translate what was mapped', () => {
  holdsThenFires('PGTABLE-MATCHES-MAPPINGS', [PLATFORM, SMMU, MAP('0x1000', '0x1000', '0x400000')], ['pgsize-wrong-choice']);
});

test('PGTABLE-MATCHES-MAPPINGS: a leaf with the wrong prot for its dma-iommu mapping', () => {
  const s = new Session();
  s.run(PLATFORM, 'the kernel calls iommu_add with name smmu2 mode strict', 'a device "nic" with iommu smmu2 dma_mask DMA_BIT_MASK(64)');
  // Corruption: dma_info_to_prot's READ-only mapping written as READ|WRITE.
  const pt = s.platform.iommu.domains.get('nic')!.domain.pgtbl!;
  const map = pt.map_pages.bind(pt);
  pt.map_pages = (iova, paddr, pgsize, count, prot) => map(iova, paddr, pgsize, count, prot | 2);
  s.run('"nic" calls dma_map_phys with phys 0x8000_0000 size 4K dir DMA_TO_DEVICE as a');
  fired(s, 'PGTABLE-MATCHES-MAPPINGS');
});

test('PGTABLE-ALIGNED: blocks at addresses their size does not divide', () => {
  holdsThenFires('PGTABLE-ALIGNED', [PLATFORM, SMMU, MAP('0x1000', '0x1000', '0x400000')], ['pgsize-wrong-choice']);
});

test('PGTABLE-IN-RANGE: a leaf past the output address size', () => {
  const s = new Session();
  s.run(PLATFORM, 'the kernel calls iommu_add with name smmu oas 32', MAP('0x10000', '0x8000_0000', '4K'));
  assert.deepEqual(s.fired(), [], s.report());
  pgtbl(s).oas_big = 64n; // corruption: map_pages forgets the -ERANGE check on paddr
  s.run(MAP('0x20000', '0x1_0000_0000', '4K'));
  fired(s, 'PGTABLE-IN-RANGE');
});

test('PGTABLE-PERMS: a READ-only mapping whose PTE lacks AP[2]', () => {
  const s = new Session();
  s.run(PLATFORM, SMMU, MAP('0x10000', '0x8000_0000', '4K', '1'));
  assert.deepEqual(s.fired(), [], s.report());
  const cache = pgtbl(s).prot_cache;
  cache.set(1, cache.get(1)! & ~ARM_LPAE_PTE_AP_RDONLY); // corruption: the cached prot → PTE bits lose read-only
  s.run(MAP('0x20000', '0x8000_1000', '4K', '1'));
  fired(s, 'PGTABLE-PERMS');
});

test('PGTABLE-WHOLE-LEAVES: a 6.12 block split that drops the wrong page', () => {
  holdsThenFires('PGTABLE-WHOLE-LEAVES', [PLATFORM_612, SMMU, MAP('0x200000', '0x200000', '2M'), UNMAP('0x201000', '0x1000')], ['pgtable-split-loses-pages']);
});

test('PGTABLE-WHOLE-LEAVES: a newest partial-block unmap must change nothing', () => {
  const s = new Session();
  s.run(PLATFORM, SMMU, MAP('0x200000', '0x200000', '2M'), UNMAP('0x201000', '0x1000'));
  assert.equal(s.last!.result.ok && s.last!.result.values.unmapped, 0n);
  assert.deepEqual(s.fired(), [], s.report());
});

test('a dma_iova_link past the output address size: the kernel maps wrapped addresses, the checkers stop following the domain', () => {
  // arm_lpae_map_pages checks only the first paddr against oas, so the second page (2^48) is
  // encoded with its high bits dropped and translates to 0: no translation to expect (fuzz finding).
  const s = new Session();
  s.run(PLATFORM, SMMU, 'a device "gpu" with iommu smmu',
    '"gpu" calls dma_iova_try_alloc with state io phys 0x0 size 8K',
    '"gpu" calls dma_iova_link with state io phys 0xfffffffff000 offset 0 size 7K dir DMA_FROM_DEVICE');
  assert.deepEqual(s.fired(), [], s.report());
  // Below the output size the same link is followed and checked as usual.
  const t = new Session();
  t.run(PLATFORM, SMMU, 'a device "gpu" with iommu smmu',
    '"gpu" calls dma_iova_try_alloc with state io phys 0x0 size 8K',
    '"gpu" calls dma_iova_link with state io phys 0xffffffffd000 offset 0 size 7K dir DMA_FROM_DEVICE',
    '"gpu" calls dma_iova_sync with state io offset 0 size 7K');
  assert.deepEqual(t.fired(), [], t.report());
});
