/**
 * The narrow vtable between the IOMMU core and a page-table format
 * (include/linux/io-pgtable.h: struct io_pgtable_ops, struct iommu_flush_ops).
 * The core picks the page size; the format writes entries and reports TLB work.
 */

/** IOMMU_* protection bits (include/linux/iommu.h; iommu.md §3.2). */
export const IOMMU_READ = 1;
export const IOMMU_WRITE = 2;
export const IOMMU_CACHE = 4;
export const IOMMU_NOEXEC = 8;
export const IOMMU_MMIO = 16;
export const IOMMU_PRIV = 32;

/** What a leaf lets the device do (stage-1 LPAE: write implies read, iommu.md §5.4). */
export interface LeafPerms {
  readonly read: boolean;
  readonly write: boolean;
}

/** struct iommu_iotlb_gather: invalidations collected during an unmap, flushed once. */
export interface IotlbGather {
  start: bigint; // all-ones when empty
  end: bigint; // inclusive; 0 when empty
  pgsize: bigint;
  /** Lazy (flush-queue) unmaps: the format records nothing; a later flush-all covers it. */
  queued: boolean;
}

export const newGather = (queued = false): IotlbGather => ({ start: (1n << 64n) - 1n, end: 0n, pgsize: 0n, queued });

/** struct iommu_flush_ops as the format calls them. */
export interface IoPgtableFlushOps {
  /** A table was torn down: invalidate walk caches (and TLB) for its whole range, at once. */
  tlb_flush_walk(iova: bigint, size: bigint, granule: bigint): void;
  /** A leaf was cleared: record it in the gather (the core's iommu_iotlb_gather_add_page). */
  tlb_add_page(gather: IotlbGather, iova: bigint, granule: bigint): void;
}

export interface MapPagesResult {
  /** 0 or a negative errno (-EINVAL, -EEXIST, -ENOMEM, -ERANGE). */
  readonly ret: number;
  /** Bytes mapped, possibly non-zero on failure. */
  readonly mapped: bigint;
}

/** A leaf as the invariant checkers see it. */
export interface PgtableLeaf {
  readonly iova: bigint;
  readonly size: bigint;
  readonly paddr: bigint;
  readonly prot: number;
  readonly level: number;
}

/** struct io_pgtable_ops */
export interface IoPgtableOps {
  readonly pgsize_bitmap: bigint;
  readonly ias: number;
  readonly oas: number;
  map_pages(iova: bigint, paddr: bigint, pgsize: bigint, pgcount: bigint, prot: number): MapPagesResult;
  unmap_pages(iova: bigint, pgsize: bigint, pgcount: bigint, gather: IotlbGather): bigint;
  iova_to_phys(iova: bigint): bigint;
  /** The leaf covering iova, with its prot (model: for device accesses and checkers), or undefined. */
  leaf_at(iova: bigint): PgtableLeaf | undefined;
  /** Every leaf in ascending IOVA order (checkers; O(number of leaves)). */
  leaves(): Iterable<PgtableLeaf>;
}
