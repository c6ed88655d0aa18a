/**
 * Kernel constants and the device state the DMA core reads
 * (include/linux/dma-direction.h, dma-mapping.h, device.h; dma-core.md §0.1, §1).
 */

export const U64_MAX = (1n << 64n) - 1n;
/** DMA_MAPPING_ERROR: the all-ones dma_addr_t. */
export const DMA_MAPPING_ERROR = U64_MAX;
/** SIZE_MAX on a 64-bit kernel. */
export const SIZE_MAX = U64_MAX;

export const DMA_BIT_MASK = (n: number): bigint => (n >= 64 ? U64_MAX : (1n << BigInt(n)) - 1n);

export const DMA_DIRECTIONS = ['DMA_BIDIRECTIONAL', 'DMA_TO_DEVICE', 'DMA_FROM_DEVICE', 'DMA_NONE'] as const;
export type DmaDirection = (typeof DMA_DIRECTIONS)[number];
export const validDirection = (dir: DmaDirection): boolean => dir !== 'DMA_NONE';

/** DMA_ATTR_* bits (dma-core.md §0.1). The last four are upstream-only [U]. */
export const DMA_ATTRS = {
  DMA_ATTR_WEAK_ORDERING: 1 << 1,
  DMA_ATTR_WRITE_COMBINE: 1 << 2,
  DMA_ATTR_NO_KERNEL_MAPPING: 1 << 4,
  DMA_ATTR_SKIP_CPU_SYNC: 1 << 5,
  DMA_ATTR_FORCE_CONTIGUOUS: 1 << 6,
  DMA_ATTR_ALLOC_SINGLE_PAGES: 1 << 7,
  DMA_ATTR_NO_WARN: 1 << 8,
  DMA_ATTR_PRIVILEGED: 1 << 9,
  DMA_ATTR_MMIO: 1 << 10,
  DMA_ATTR_DEBUGGING_IGNORE_CACHELINES: 1 << 11,
  DMA_ATTR_REQUIRE_COHERENT: 1 << 12,
  DMA_ATTR_CC_SHARED: 1 << 13,
} as const;
export type DmaAttrName = keyof typeof DMA_ATTRS;
/** A set of DMA_ATTR_* bits. */
export type DmaAttrs = number;
export const hasAttr = (attrs: DmaAttrs, name: DmaAttrName): boolean => (attrs & DMA_ATTRS[name]) !== 0;

/** Which kernel the model follows where 6.12 and newest upstream differ. */
export type LinuxVersion = '6.12' | 'newest';
export type Arch = 'x86_64' | 'arm64';

/** One entry of dev->dma_range_map (struct bus_dma_region). */
export interface BusDmaRegion {
  cpu_start: bigint;
  dma_start: bigint;
  size: bigint;
}

/** Where the driver's buffer lives, for dma_map_single and the dma-debug pre-checks (§6.3 1-4). */
export const MEM_KINDS = ['linear', 'stack', 'vmap_stack', 'vmalloc', 'text', 'rodata', 'invalid'] as const;
export type MemKind = (typeof MEM_KINDS)[number];

/** Calling context of an op, for the context rules (R2, R4, H12, H13). */
export const CONTEXTS = ['process', 'atomic', 'irqs_disabled'] as const;
export type CallContext = (typeof CONTEXTS)[number];

/**
 * The DMA-relevant part of struct device and struct device_dma_parameters.
 * model: `dma_mask === null` is the kernel's NULL dev->dma_mask pointer.
 */
export interface Device {
  readonly name: string;
  readonly bus: 'pci' | 'platform';
  dma_mask: bigint | null;
  coherent_dma_mask: bigint;
  /** 0 means no limit. */
  bus_dma_limit: bigint;
  dma_range_map: readonly BusDmaRegion[] | null;
  dma_coherent: boolean;
  dma_skip_sync: boolean;
  min_align_mask: bigint;
  max_segment_size: bigint;
  segment_boundary_mask: bigint;
  /** Device-private force bounce (a restricted-dma-pool or CC guest), on top of swiotlb=force. */
  force_bounce: boolean;
  /** Name of the IOMMU the device sits behind, or null (part 2). */
  iommu: string | null;
  untrusted: boolean;
}

/** min_not_zero(a, b) */
export const min_not_zero = (a: bigint, b: bigint): bigint => (a === 0n ? b : b === 0n ? a : a < b ? a : b);
