/** Every invariant the engine runs after each op, in one list (docs and --invariants derive from it). */
import { BATCHED_INVARIANTS } from './batched';
import { COHERENCE_INVARIANTS } from './coherence';
import { DEBUG_INVARIANTS } from './debug';
import { DIRECT_INVARIANTS } from './direct';
import { DMA_IOMMU_INVARIANTS } from './dma-iommu';
import type { InvariantFactory } from './invariant';
import { IOMMU_INVARIANTS } from './iommu';
import { IOVA_INVARIANTS } from './iova';
import { IOVA_API_INVARIANTS } from './iova-api';
import { MAPPING_INVARIANTS } from './mapping';
import { PGTABLE_INVARIANTS } from './pgtable';
import { SWIOTLB_INVARIANTS } from './swiotlb';

export const INVARIANTS: readonly InvariantFactory[] = [
  ...MAPPING_INVARIANTS,
  ...DIRECT_INVARIANTS,
  ...SWIOTLB_INVARIANTS,
  ...COHERENCE_INVARIANTS,
  ...BATCHED_INVARIANTS,
  ...DEBUG_INVARIANTS,
  // IOMMU layers (iommu.md §2.14, §3.13, §4.10, §5.9, §6.5; the IOVA-based API §3.11): IOMMU devices only
  ...IOVA_INVARIANTS,
  ...DMA_IOMMU_INVARIANTS,
  ...IOMMU_INVARIANTS,
  ...PGTABLE_INVARIANTS,
  ...IOVA_API_INVARIANTS,
];
