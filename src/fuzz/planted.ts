/**
 * The planted faults the fuzzer must find (its self-test, src/fuzz/planted.test.ts) and the
 * comparison benchmark (bench/fuzz-compare.ts) runs: one list for both. Each names the platform
 * the search runs on and the layer the fault breaks.
 *   shallow  reached by almost any input of the right platform (a handful of executions)
 *   deep     fires only in one corner state (a full magazine, a wrapped ring, the tail of a block, ...)
 */
import type { FaultName } from '../faults';

export interface PlantedFault {
  readonly fault: FaultName;
  readonly platform: string;
  readonly layer: string;
}

export const SHALLOW: readonly PlantedFault[] = [
  { fault: 'swiotlb-skip-map-copy', platform: 'no-iommu-32bit', layer: 'swiotlb' },
  { fault: 'direct-ignore-mask', platform: 'no-iommu-32bit', layer: 'dma-direct' },
  { fault: 'batched-no-flush', platform: 'arm64-smmu', layer: 'caches (batched sync)' },
  { fault: 'rcache-double-insert', platform: 'x86-vtd', layer: 'IOVA allocator' },
  { fault: 'pgsize-wrong-choice', platform: 'mix', layer: 'page tables' },
  { fault: 'strict-unmap-no-sync', platform: 'thunderbolt-untrusted', layer: 'IOTLB' },
  { fault: 'lazy-unmap-no-invalidate', platform: 'mix', layer: 'flush queue' },
  { fault: 'dma-iommu-drops-offset', platform: 'x86-vtd', layer: 'dma-iommu' },
  { fault: 'iova-unlink-no-sync', platform: 'x86-vtd', layer: 'IOVA-based API' },
];

export const DEEP: readonly PlantedFault[] = [
  { fault: 'swiotlb-prefill-stops-at-segment', platform: 'cc-bounce', layer: 'swiotlb' },
  { fault: 'direct-range-map-first-offset', platform: 'arm64-smmu', layer: 'dma-direct' },
  { fault: 'batched-no-flush-unaligned-tail', platform: 'arm64-smmu', layer: 'caches (batched sync)' },
  { fault: 'rcache-swap-loses-pfn', platform: 'x86-vtd', layer: 'IOVA allocator' },
  { fault: 'pgtable-map-after-block-short', platform: 'x86-vtd', layer: 'page tables' },
  { fault: 'fq-wrapped-full-flush-skips-invalidate', platform: 'x86-vtd', layer: 'IOTLB (flush queue)' },
  { fault: 'dma-iommu-unmap-drops-tail-granule', platform: 'x86-vtd', layer: 'dma-iommu' },
  { fault: 'iova-unlink-swiotlb-no-sync', platform: 'thunderbolt-untrusted', layer: 'IOVA-based API' },
];

export const PLANTED_SETS = { shallow: SHALLOW, deep: DEEP } as const;
