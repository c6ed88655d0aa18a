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
} as const;

export type FaultName = keyof typeof FAULTS;
export const FAULT_NAMES = Object.keys(FAULTS) as FaultName[];

/** The faults a layer sees; absent means none (unit tests build layers without a platform). */
export type Faults = ReadonlySet<FaultName> | undefined;
