/**
 * Planted faults: deliberate bugs a run can switch on (EngineOptions.faults) so
 * that every invariant is shown to fire through the model, and so the fuzzer can
 * test itself (STYLE.md "Every invariant has a fault-injection test"). Each one
 * is a one-line `if (faults.has(...))` at the place it breaks. Imports nothing:
 * model layers import the type from here.
 */

export const FAULTS = {
  'swiotlb-skip-map-copy': 'swiotlb.ts swiotlb_tbl_map_single: no orig→bounce pre-fill on map (the CVE-2022-0854 leak)',
  'swiotlb-search-ignores-min-align': 'swiotlb.ts swiotlb_find_slots: the slot search ignores min_align_mask (the NVMe offset bug class)',
  'swiotlb-max-ignores-min-align': 'swiotlb.ts swiotlb_max_mapping_size: reports 256 KiB whatever min_align_mask is',
  'swiotlb-no-flush-before-bounce': 'swiotlb.ts swiotlb_bounce: batched FROM_DEVICE copy without completing the invalidate first (the v2 bug Robin Murphy found)',
  'swiotlb-map-leak-on-overflow': 'direct.ts swiotlb_map: an unreachable bounce slot is not released before failing',
  'swiotlb-map-skip-capable-check': 'direct.ts swiotlb_map: returns a bounce address the device cannot reach',
  'swiotlb-maint-on-orig': 'direct.ts swiotlb_map: cleans the original buffer instead of the bounce slot',
  'direct-skip-clean-on-map': 'direct.ts dma_direct_map_phys: no arch_sync_dma_for_device on a non-coherent map',
  'direct-ignore-mask': 'direct.ts dma_direct_map_phys: maps directly although dma_capable fails',
  'direct-ignore-range-map': 'direct.ts dma_direct_map_phys: returns the physical address, forgetting dma_range_map',
  'direct-sg-no-unwind': 'direct.ts dma_direct_map_sg: a failed sg map leaves the entries before the failure mapped',
  'batched-no-flush': 'direct.ts: sg calls skip their one arch_sync_dma_flush, leaving maintenance incomplete',
  'batched-flush-per-entry': 'direct.ts: sg calls flush after every entry (the pre-batching cost)',
  'arch-inval-discards-edges': 'arch-sync.ts: invalidate discards partly covered edge lines (DC IVAC instead of DC CIVAC)',
  'arch-clean-skips-last-line': 'arch-sync.ts: clean stops before the last, partly covered line',
  'coherent-no-uncached-remap': 'platform.ts coherentEnv: a non-coherent device’s coherent buffer stays cacheable',
  'debug-drop-entry': 'debug.ts debug_dma_map_phys: the mapping is not recorded in the ledger',
  'map-sg-errno-as-count': 'dispatch.ts dma_map_sg: a negative errno comes back as an unsigned count instead of 0',
  'opt-size-unclamped': 'mapping.ts dma_opt_mapping_size: SIZE_MAX without the min() against dma_max_mapping_size',
  'mask-set-despite-eio': 'mapping.ts dma_set_mask: stores the mask before asking dma_supported',
  // ---- IOMMU layers (part 2): each caught by an invariant of src/invariants/{iova,dma-iommu,iommu,pgtable}.ts ----
  'iova-alloc-overlap': 'iova-tree.ts __alloc_and_insert_iova_range: the walk stops at the first node without checking the candidate against the node below it, so a new range can overlap that node',
  'iova-ignore-limit': 'iova-tree.ts alloc_iova: the exclusive limit is computed as 2·limit_pfn + 1 instead of limit_pfn + 1, so ranges land above the caller\'s limit',
  'iova-max32-not-reset': 'iova-tree.ts remove_iova: freeing a node below 4 GiB leaves max32_alloc_size as it was, so the 32-bit shortcut keeps failing with space free',
  'rcache-double-insert': 'iova-rcache.ts __iova_rcache_insert: the pfn is pushed onto the loaded magazine twice',
  'lazy-unmap-no-invalidate': 'dma-iommu-fq.ts fq_flush_iotlb: the flush counters advance but flush_iotlb_all is never called, so retired IOVAs keep stale IOTLB entries',
  'fq-retire-before-flush': 'dma-iommu-fq.ts fq_ring_free_locked: entries retire without waiting for a flush that finished after they were queued',
  'fq-no-flush-when-full': 'dma-iommu-fq.ts queue_iova: a full ring takes one more entry without flushing first (the ring wraps and forgets its entries)',
  'fq-timer-not-rearmed': 'dma-iommu-fq.ts fq_flush_timeout: the timer stays marked armed after it fires, so later entries wait for a flush that never comes',
  'strict-unmap-no-sync': 'dma-iommu.ts __iommu_dma_unmap: a strict unmap frees the IOVA without iommu_iotlb_sync',
  'dma-iommu-drops-offset': 'dma-iommu.ts __iommu_dma_map: the returned handle loses phys\'s offset within the granule',
  'pci-32bit-not-sticky': 'dma-iommu.ts iommu_dma_alloc_iova: a failed 32-bit attempt logs "Using N-bit DMA addresses" but leaves pci_32bit_workaround set',
  'map-sg-merge-across-boundary': 'dma-iommu-sg.ts __finalise_sg: DMA segments merge across the device\'s segment boundary',
  'pgsize-wrong-choice': 'iommu.ts __iommu_map: iommu_pgsize ignores the alignment of iova and paddr and picks the largest page size the length allows',
  'pgtable-split-loses-pages': 'io-pgtable-arm.ts arm_lpae_split_blk_unmap [6.12]: the split table leaves out the entry after the one being unmapped, and keeps that one',
  // ---- the IOVA-based API (iommu.md §3.11): each caught by an invariant of src/invariants/iova-api.ts or iova.ts ----
  'iova-link-ignores-offset': 'dma-iova.ts dma_iova_link: the direct path maps at state.addr without the link\'s offset',
  'iova-link-drops-head-pad': 'dma-iova.ts dma_iova_link: the direct path maps align_up(size) bytes instead of align_up(size + pad), so a link that starts part-way into a granule loses its last granule',
  'iova-unlink-no-sync': 'dma-iova.ts __iommu_dma_iova_unlink: dma_iova_unlink unmaps without iommu_iotlb_sync, so the IOTLB keeps the unlinked range',
  'iova-destroy-frees-alloc-size': 'dma-iova.ts __iommu_dma_iova_unlink: dma_iova_destroy frees the try_alloc size instead of align_up(mapped_len + pad) (the kernel\'s size-class quirk, §3.11)',
  'iova-destroy-bypasses-fq': 'dma-iova.ts __iommu_dma_iova_unlink: a lazy dma_iova_destroy skips the IOTLB sync and frees the IOVA at once instead of through the flush queue',
  'iova-destroy-clears-state': 'dma-iova.ts dma_iova_destroy: clears state.__size, so dma_use_iova turns false (the kernel leaves the state as it was)',
  // ---- deep faults (issue #5 proof): each fires only in one corner state, so a search has to reach that state first ----
  'swiotlb-prefill-stops-at-segment': 'swiotlb.ts swiotlb_tbl_map_single: with min_align_mask set, the map pre-fill stops before the last slot when the slot run ends on an IO_TLB_SEGSIZE boundary',
  'direct-range-map-first-offset': 'direct.ts dma_direct_map_phys: a buffer in the second or a later dma-ranges region is translated with the first region\'s offset',
  'batched-no-flush-unaligned-tail': 'direct.ts dma_direct_map_sg: the one batched flush is skipped for a list of three or more entries that starts and ends part-way into a cache line',
  'rcache-swap-loses-pfn': 'iova-rcache.ts __iova_rcache_insert: when the loaded magazine is full and prev is not, the magazines swap but the pfn is never pushed (lost)',
  'pgtable-map-after-block-short': 'iommu.ts __iommu_map: when a block is followed by smaller pages in one map, paddr advances one page short of the block, so the pages after it map the wrong memory',
  'fq-wrapped-full-flush-skips-invalidate': 'dma-iommu-fq.ts queue_iova: once the ring has wrapped (head != 0), the full-ring flush advances its counters without invalidating the IOTLB',
  'dma-iommu-unmap-drops-tail-granule': 'dma-iommu.ts __iommu_dma_unmap: for an IOVA above 4 GiB (a PCI device after the 32-bit-first fallback), the length is aligned without the granule offset, so the last granule stays mapped',
  'iova-unlink-swiotlb-no-sync': 'dma-iova.ts __iommu_dma_iova_unlink: dma_iova_unlink skips iommu_iotlb_sync only for a state that bounced through swiotlb (the slow path\'s early exit)',
} as const;

export type FaultName = keyof typeof FAULTS;
export const FAULT_NAMES = Object.keys(FAULTS) as FaultName[];

/** The faults a layer sees; absent means none (unit tests build layers without a platform). */
export type Faults = ReadonlySet<FaultName> | undefined;
