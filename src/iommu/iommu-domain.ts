/**
 * struct iommu_domain and the IOTLB side of the IOMMU core (include/linux/iommu.h 6.12: the gather
 * helpers, iommu_iotlb_sync, iommu_flush_iotlb_all; iommu.md §4.1, §4.2, §4.6), with the ARM
 * SMMUv3 driver's flush ops under it (arm-smmu-v3.c: arm_smmu_flush_ops, arm_smmu_iotlb_sync,
 * arm_smmu_flush_iotlb_all; iommu.md §5.7) and the device side of translation (IOTLB first,
 * then the table walk; iommu.md §6.2). Map and unmap are in iommu.ts, which re-exports this file.
 *
 * The page table sits behind IoPgtableOps (io-pgtable.ts); the domain hands the format its flush
 * ops, as arm_smmu_domain_finalise does through io_pgtable_cfg.tlb.
 */

import { IOMMU_READ, IOMMU_WRITE } from './io-pgtable';
import type { IoPgtableFlushOps, IoPgtableOps, IotlbGather, LeafPerms } from './io-pgtable';
import type { PgsizeChoice } from './iommu-pgsize';
import { gather_nonempty, iommu_iotlb_gather_add_range, iommu_iotlb_gather_init, iommu_iotlb_gather_is_disjoint } from './iommu-gather';
import { Iotlb } from './iotlb';
import type { IotlbEntry } from './iotlb';
import type { WarnSink } from '../warn';
import type { Faults } from '../faults';

/** Errno values (include/uapi/asm-generic/errno-base.h); functions return them negated. */
export const ENOMEM = 12;
export const EEXIST = 17;
export const ENODEV = 19;
export const EINVAL = 22;
export const ERANGE = 34;

/** Stable warning codes (STYLE.md: never renamed once used). */
export const WARN_IOMMU_UNALIGNED_MAP = 'WARN_IOMMU_UNALIGNED_MAP';
export const WARN_IOMMU_UNALIGNED_UNMAP = 'WARN_IOMMU_UNALIGNED_UNMAP';
export const WARN_IOMMU_NO_PGTABLE = 'WARN_IOMMU_NO_PGTABLE';
export const WARN_IOMMU_NOT_PAGING = 'WARN_IOMMU_NOT_PAGING';

export type IommuDomainType = 'BLOCKED' | 'IDENTITY' | 'UNMANAGED' | 'DMA' | 'DMA_FQ';
export type IommuLinux = '6.12' | 'newest';

/** __IOMMU_DOMAIN_PAGING: the types iommu_map / iommu_unmap accept (iommu.md §4.1). */
export const iommu_is_paging_domain = (type: IommuDomainType): boolean => type === 'UNMANAGED' || type === 'DMA' || type === 'DMA_FQ';

/** struct iommu_domain_geometry; aperture_end is inclusive. */
export interface IommuDomainGeometry {
  readonly aperture_start: bigint;
  readonly aperture_end: bigint;
  readonly force_aperture: boolean;
}

export interface IommuDomainConfig {
  readonly type: IommuDomainType;
  /** Which kernel's core behaviour to follow (iommu.md §0.4); default '6.12'. */
  readonly linux?: IommuLinux;
  /** Builds the page table of a paging domain, given the flush ops it must call. Absent: no map_pages (-ENODEV). */
  readonly pgtable?: (tlb: IoPgtableFlushOps) => IoPgtableOps;
  /** The IOTLB of a paging domain's context; a fresh one by default. */
  readonly iotlb?: Iotlb;
  /** Defaults to the page table's (arm_smmu_domain_finalise copies pgtbl_cfg.pgsize_bitmap); 0 without one. */
  readonly pgsize_bitmap?: bigint;
  /** Defaults to [0, 2^ias − 1] with force_aperture, as arm_smmu_domain_finalise sets it. */
  readonly geometry?: IommuDomainGeometry;
  /** The driver has an iotlb_sync_map op (SMMUv3 has none; VT-d and AMD do). Default false. */
  readonly has_iotlb_sync_map?: boolean;
  /** model: what the iotlb_sync_map op returns, so tests can make it fail; default 0. */
  readonly iotlb_sync_map_ret?: (iova: bigint, size: bigint) => number;
  readonly warn?: WarnSink;
  /** Planted faults (src/faults.ts); absent in unit tests. */
  readonly faults?: Faults;
}

/** Counters that scenarios and benchmarks read (driver invocations, not API calls). */
export interface IommuDomainStats {
  /** Driver iotlb_sync calls, the early syncs of iommu_iotlb_gather_add_page included. */
  readonly iotlb_sync: number;
  /** Driver flush_iotlb_all calls. */
  readonly flush_iotlb_all: number;
  /** Driver iotlb_sync_map calls (only with has_iotlb_sync_map). */
  readonly iotlb_sync_map: number;
  /** map_pages / unmap_pages calls into the page table. */
  readonly map_pages: number;
  readonly unmap_pages: number;
  /** tlb_flush_walk calls from the format (synchronous walk-cache invalidations). */
  readonly tlb_flush_walk: number;
  /** The (pgsize, count) of every map_pages call the last iommu_map / _nosync / _map_sg issued. */
  readonly last_map_pages: readonly PgsizeChoice[];
}

type MutableStats = { -readonly [K in keyof IommuDomainStats]: IommuDomainStats[K] } & { last_map_pages: PgsizeChoice[] };

/** Stage-1 LPAE permissions from prot: write-only cannot be expressed, so every leaf is readable (iommu.md §5.4). */
export const s1_leaf_perms = (prot: number): LeafPerms => ({ read: true, write: (prot & IOMMU_WRITE) !== 0 || (prot & IOMMU_READ) === 0 });

export type TranslateResult = { readonly phys: bigint } | { readonly fault: true };

const FAULT: TranslateResult = Object.freeze({ fault: true });

/**
 * struct iommu_domain with the SMMUv3 driver's per-domain state (its page table and the
 * IOTLB of its context). Operations are free functions named as the kernel's (below and in
 * iommu.ts); translate() is the hardware side.
 */
export class IommuDomain {
  readonly type: IommuDomainType;
  readonly linux: IommuLinux;
  readonly pgsize_bitmap: bigint;
  readonly geometry: IommuDomainGeometry;
  readonly has_iotlb_sync_map: boolean;
  /** @internal domain->ops->map_pages etc. through io_pgtable_ops; undefined for BLOCKED, IDENTITY or no factory. */
  readonly pgtbl: IoPgtableOps | undefined;
  /** The IOTLB of the domain's context (paging domains only); checkers may peek, never change it. */
  readonly iotlb: Iotlb | undefined;
  /** @internal */
  readonly sync_map_ret: ((iova: bigint, size: bigint) => number) | undefined;
  /** @internal */
  readonly warn: WarnSink | undefined;
  /** @internal planted faults (src/faults.ts) */
  readonly faults: Faults;
  /** @internal written by the functions of this file only. */
  readonly counters: MutableStats = { iotlb_sync: 0, flush_iotlb_all: 0, iotlb_sync_map: 0, map_pages: 0, unmap_pages: 0, tlb_flush_walk: 0, last_map_pages: [] };

  constructor(cfg: IommuDomainConfig) {
    this.type = cfg.type;
    this.linux = cfg.linux ?? '6.12';
    this.has_iotlb_sync_map = cfg.has_iotlb_sync_map ?? false;
    this.sync_map_ret = cfg.iotlb_sync_map_ret;
    this.warn = cfg.warn;
    this.faults = cfg.faults;
    const paging = iommu_is_paging_domain(cfg.type);
    // BLOCKED and IDENTITY translate without a context, so they have no IOTLB.
    this.iotlb = paging ? (cfg.iotlb ?? new Iotlb()) : undefined;
    const flush: IoPgtableFlushOps = {
      tlb_flush_walk: (iova, size, granule) => arm_smmu_tlb_inv_walk(this, iova, size, granule),
      tlb_add_page: (gather, iova, granule) => iommu_iotlb_gather_add_page(this, gather, iova, granule),
    };
    this.pgtbl = paging && cfg.pgtable ? cfg.pgtable(flush) : undefined;
    this.pgsize_bitmap = cfg.pgsize_bitmap ?? this.pgtbl?.pgsize_bitmap ?? 0n;
    this.geometry = cfg.geometry ?? {
      aperture_start: 0n,
      aperture_end: this.pgtbl ? (1n << BigInt(this.pgtbl.ias)) - 1n : 0n,
      force_aperture: this.pgtbl !== undefined,
    };
  }

  get stats(): IommuDomainStats {
    return this.counters;
  }

  /**
   * A device access to @iova through this domain (iommu.md §5.4, §6.2). A paging domain asks the
   * IOTLB first: a hit is used as it stands, even if the page table no longer agrees (a stale entry
   * after a queued or not-yet-synced unmap). A miss walks the table, caches the leaf, then checks
   * permissions. Faults: BLOCKED; no leaf; a write to a read-only leaf.
   * @iova: the bus address the device emits
   * @write: a device write (DMA_FROM_DEVICE data) rather than a read
   */
  translate(iova: bigint, write: boolean): TranslateResult {
    if (this.type === 'BLOCKED') return FAULT;
    if (this.type === 'IDENTITY') return { phys: iova };
    let entry: IotlbEntry | undefined = this.iotlb?.lookup(iova);
    if (!entry) {
      const leaf = this.pgtbl?.leaf_at(iova);
      if (!leaf) return FAULT;
      entry = { iova: leaf.iova, size: leaf.size, paddr: leaf.paddr, perms: s1_leaf_perms(leaf.prot) };
      this.iotlb?.fill(entry);
    }
    if (write ? !entry.perms.write : !entry.perms.read) return FAULT;
    return { phys: entry.paddr + (iova - entry.iova) };
  }
}

/* ---- the driver side (arm-smmu-v3.c), reached only through the core and the flush ops ---- */

/** arm_smmu_tlb_inv_walk(): a torn-down table; invalidate its whole range now (iommu.md §5.7). */
function arm_smmu_tlb_inv_walk(domain: IommuDomain, iova: bigint, size: bigint, _granule: bigint): void {
  domain.counters.tlb_flush_walk++;
  domain.iotlb?.invalidate_range(iova, iova + size - 1n);
}

/**
 * arm_smmu_iotlb_sync(): invalidate the gathered range; nothing when no page was added (pgsize 0).
 * model: TLBI range/TTL hints are not modelled: every cached entry overlapping the range goes.
 */
function arm_smmu_iotlb_sync(domain: IommuDomain, gather: IotlbGather): void {
  domain.counters.iotlb_sync++;
  if (gather.pgsize === 0n) return;
  domain.iotlb?.invalidate_range(gather.start, gather.end);
}

/* ---- gather, sync, flush-all (iommu.h; iommu.md §4.6) ---- */

/**
 * iommu_iotlb_gather_add_page() - record one cleared leaf for a later iommu_iotlb_sync.
 * @domain: the domain whose IOTLB will be invalidated
 * @gather: the caller's gather
 * @iova: start of the page
 * @size: the page size (the format's "granule" argument of tlb_add_page)
 *
 * Syncs first when the gather already holds pages of another size, or when the new page neither
 * overlaps nor touches the gathered range: one gather describes one range at one granularity.
 */
export function iommu_iotlb_gather_add_page(domain: IommuDomain, gather: IotlbGather, iova: bigint, size: bigint): void {
  if ((gather.pgsize !== 0n && gather.pgsize !== size) || iommu_iotlb_gather_is_disjoint(gather, iova, size)) {
    iommu_iotlb_sync(domain, gather);
  }
  gather.pgsize = size;
  iommu_iotlb_gather_add_range(gather, iova, size);
}

/**
 * iommu_iotlb_sync() - complete the invalidations collected in @gather, then reset it.
 * @domain: the domain
 * @gather: the gather; reset to empty (queued cleared) afterwards
 *
 * 6.12 calls the driver every time; newest only when the gather is non-empty. Only paging domains
 * have a driver iotlb_sync. After it, no IOTLB entry overlaps the gathered range (iommu.md §4.6).
 */
export function iommu_iotlb_sync(domain: IommuDomain, gather: IotlbGather): void {
  const has_op = iommu_is_paging_domain(domain.type); // SMMUv3's blocked and identity domains have no iotlb_sync
  if (has_op && (domain.linux === '6.12' || gather_nonempty(gather))) arm_smmu_iotlb_sync(domain, gather);
  iommu_iotlb_gather_init(gather);
}

/**
 * iommu_flush_iotlb_all() - invalidate the whole IOTLB context of @domain (the flush queue's flush).
 * @domain: the domain; BLOCKED and IDENTITY domains have no flush_iotlb_all op and nothing happens.
 */
export function iommu_flush_iotlb_all(domain: IommuDomain): void {
  if (!iommu_is_paging_domain(domain.type)) return;
  domain.counters.flush_iotlb_all++;
  domain.iotlb?.flush_all();
}
