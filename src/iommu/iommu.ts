/**
 * The IOMMU core (drivers/iommu/iommu.c, Linux 6.12; iommu.md §4): iommu_map / iommu_map_nosync /
 * iommu_sync_map, iommu_map_sg, iommu_unmap / iommu_unmap_fast and iommu_iova_to_phys. The domain,
 * the gather, sync and flush-all live in iommu-domain.ts, page-size choice in iommu-pgsize.ts; this
 * file re-exports both, so users import the core from here only.
 *
 * `linux: 'newest'` switches on what iommu.md §0.4 lists for 7.2: iommu_iotlb_sync reaches the
 * driver only for a non-empty gather, the core makes the gather look non-empty after a successful
 * unmap, iommu_map is iommu_map_nosync + iommu_sync_map, and an empty pgsize_bitmap is -EINVAL.
 *
 * model: one CPU, no locking; gfp flags are not modelled (every call is GFP_KERNEL-like).
 */

import { newGather } from './io-pgtable';
import type { IotlbGather } from './io-pgtable';
import { iommu_pgsize, min_pagesz } from './iommu-pgsize';
import { gather_nonempty, iommu_iotlb_gather_add_range } from './iommu-gather';
import { EINVAL, ENODEV, IommuDomain, WARN_IOMMU_NOT_PAGING, WARN_IOMMU_NO_PGTABLE, WARN_IOMMU_UNALIGNED_MAP, WARN_IOMMU_UNALIGNED_UNMAP, iommu_is_paging_domain, iommu_iotlb_sync } from './iommu-domain';

export * from './iommu-domain';
export { iommu_pgsize, min_pagesz } from './iommu-pgsize';
export { iommu_iotlb_gather_add_range, iommu_iotlb_gather_init, iommu_iotlb_gather_queued } from './iommu-gather';
export { newGather } from './io-pgtable';
export type { PgsizeChoice } from './iommu-pgsize';

/* ---- map ---- */

/**
 * __iommu_map() / 7.2 __iommu_map_domain_pgtbl(): the page-size loop, unwinding on error.
 * Every chunk is iommu_pgsize's choice; map_pages may map part of a chunk and still fail, and
 * what it did map is unmapped (with a sync) before the error is returned (iommu.md §4.4).
 */
function __iommu_map(domain: IommuDomain, iova: bigint, paddr: bigint, size: bigint, prot: number): number {
  const ops = domain.pgtbl;
  if (!iommu_is_paging_domain(domain.type)) {
    if (domain.linux === 'newest') warn(domain, WARN_IOMMU_NOT_PAGING, `iommu_map on a ${domain.type} domain`);
    return -EINVAL;
  }
  if (domain.pgsize_bitmap === 0n) {
    warn(domain, WARN_IOMMU_NO_PGTABLE, 'iommu_map: empty pgsize_bitmap');
    // 7.2 iommu_map_nosync rejects this before the page-table loop: -EINVAL; 6.12 -ENODEV.
    return domain.linux === 'newest' ? -EINVAL : -ENODEV;
  }
  if (!ops) {
    warn(domain, WARN_IOMMU_NO_PGTABLE, 'iommu_map: no map_pages op');
    return -ENODEV;
  }
  const min = min_pagesz(domain.pgsize_bitmap);
  if (((iova | paddr | size) & (min - 1n)) !== 0n) {
    warn(domain, WARN_IOMMU_UNALIGNED_MAP, `unaligned: iova 0x${hex(iova)} pa 0x${hex(paddr)} size 0x${hex(size)} min_pagesz 0x${hex(min)}`);
    return -EINVAL;
  }
  const orig_iova = iova;
  const orig_size = size;
  let ret = 0;
  while (size !== 0n) {
    // Fault 'pgsize-wrong-choice': addresses 0 look aligned to everything.
    const choice = domain.faults?.has('pgsize-wrong-choice') ? iommu_pgsize(domain, 0n, 0n, size) : iommu_pgsize(domain, iova, paddr, size);
    domain.counters.map_pages++;
    domain.counters.last_map_pages.push(choice);
    const r = ops.map_pages(iova, paddr, choice.pgsize, choice.count, prot);
    // Bytes mapped before a failure still count, so the unwind below removes them.
    size -= r.mapped;
    ret = r.ret;
    if (ret !== 0) break;
    iova += r.mapped;
    paddr += r.mapped - (size !== 0n && choice.pgsize > min && domain.faults?.has('pgtable-map-after-block-short') ? min : 0n);
  }
  if (ret !== 0) iommu_unmap(domain, orig_iova, orig_size - size);
  return ret;
}

/**
 * iommu_map_nosync() - map [@iova, @iova + @size) to @paddr without the driver's iotlb_sync_map.
 * @domain: a paging domain
 * @iova: IOVA, aligned to the smallest page size
 * @paddr: physical address, likewise aligned
 * @size: bytes, likewise aligned; 0 maps nothing and succeeds
 * @prot: IOMMU_READ | IOMMU_WRITE | ... (io-pgtable.ts)
 *
 * model: 7.2 (newest) has this function; in 6.12 it stands for __iommu_map, the part of iommu_map
 * before iotlb_sync_map. Used by the IOVA-based API, which syncs once for many links.
 *
 * Returns 0 with the whole range mapped, or an error having unmapped everything this call mapped:
 * -EINVAL: not a paging domain, unaligned, prot without READ/WRITE, size not in the bitmap (page table);
 *          also an empty pgsize_bitmap in newest.
 * -ENODEV: no page table (no map_pages op), or (6.12) an empty pgsize_bitmap.
 * -EEXIST: part of the range is already mapped (page table).
 * -ENOMEM: a page-table allocation failed.
 * -ERANGE: IOVA or paddr beyond the page table's ias/oas.
 */
export function iommu_map_nosync(domain: IommuDomain, iova: bigint, paddr: bigint, size: bigint, prot: number): number {
  domain.counters.last_map_pages = [];
  return __iommu_map(domain, iova, paddr, size, prot);
}

/**
 * iommu_sync_map() - run the driver's iotlb_sync_map for a range just mapped.
 * @domain: the domain
 * @iova: start of the range
 * @size: its size
 *
 * Returns 0, or the driver's error. Without the op (SMMUv3) it does nothing.
 * model: the IOTLB model caches no "not present" entries, so the op only counts; it must not
 * clear stale entries either, which would hide IOVA-reuse bugs (iommu.md §6.2, I-D5).
 */
export function iommu_sync_map(domain: IommuDomain, iova: bigint, size: bigint): number {
  if (!domain.has_iotlb_sync_map) return 0;
  domain.counters.iotlb_sync_map++;
  return domain.sync_map_ret ? domain.sync_map_ret(iova, size) : 0;
}

/**
 * iommu_map() - map [@iova, @iova + @size) to @paddr with @prot, then iotlb_sync_map.
 * @domain: a paging domain
 * @iova: IOVA, aligned to the smallest page size
 * @paddr: physical address, likewise aligned
 * @size: bytes, likewise aligned
 * @prot: IOMMU_READ | IOMMU_WRITE | ...
 *
 * 6.12 and newest give the same results: newest spells it iommu_map_nosync + iommu_sync_map.
 * Returns 0 with the whole range mapped; otherwise the errors of iommu_map_nosync, or the error of
 * iotlb_sync_map after unmapping the whole range. iommu.md §4.4, S4.1, S4.2, S4.4, S4.7.
 */
export function iommu_map(domain: IommuDomain, iova: bigint, paddr: bigint, size: bigint, prot: number): number {
  let ret = iommu_map_nosync(domain, iova, paddr, size, prot);
  if (ret !== 0) return ret;
  ret = iommu_sync_map(domain, iova, size);
  if (ret !== 0) iommu_unmap(domain, iova, size);
  return ret;
}

/** One scatterlist entry as iommu_map_sg reads it (sg_phys and length). */
export interface IommuSgEntry {
  readonly phys: bigint;
  readonly length: bigint;
}

/**
 * iommu_map_sg() - map a scatterlist at consecutive IOVAs from @iova, then one iotlb_sync_map.
 * @domain: a paging domain
 * @iova: first IOVA
 * @sg: the entries, in order (nents = sg.length)
 * @prot: IOMMU_READ | IOMMU_WRITE | ...
 *
 * Physically contiguous entries are merged into runs and each run is one iommu_map_nosync; each run
 * must be aligned to the smallest page size. As in the kernel's loop, a run is mapped only when an
 * entry that does not continue it is seen (the last entry is looked at twice), so a zero-length last
 * entry that continues the final run leaves that run unmapped. iommu.md §4.7.
 * model: no peer-to-peer bus-address entries.
 *
 * Returns (ssize_t) the bytes mapped, or a negative errno (as bigint) after unmapping them all:
 * the errors of iommu_map_nosync, or iotlb_sync_map's.
 */
export function iommu_map_sg(domain: IommuDomain, iova: bigint, sg: readonly IommuSgEntry[], prot: number): bigint {
  domain.counters.last_map_pages = [];
  let len = 0n;
  let mapped = 0n;
  let start = 0n;
  let ret = 0;
  const nents = sg.length;
  // i runs to nents inclusive; on the extra round the last entry is looked at again, to flush the run.
  for (let i = 0; i <= nents && nents > 0; i++) {
    const s = sg[Math.min(i, nents - 1)] as IommuSgEntry;
    if (len !== 0n && s.phys !== start + len) {
      ret = __iommu_map(domain, iova + mapped, start, len, prot);
      if (ret !== 0) break;
      mapped += len;
      len = 0n;
    }
    if (len !== 0n) len += s.length;
    else {
      len = s.length;
      start = s.phys;
    }
  }
  if (ret === 0) ret = iommu_sync_map(domain, iova, mapped);
  if (ret === 0) return mapped;
  iommu_unmap(domain, iova, mapped);
  return BigInt(ret);
}

/* ---- unmap ---- */

/**
 * __iommu_unmap(): walk [iova, iova + size) in iommu_pgsize chunks (the IOVA stands in for paddr,
 * so only IOVA alignment matters) until done or the page table returns 0 (iommu.md §4.5).
 */
function __iommu_unmap(domain: IommuDomain, iova: bigint, size: bigint, gather: IotlbGather): bigint {
  const ops = domain.pgtbl;
  if (!iommu_is_paging_domain(domain.type)) {
    if (domain.linux === 'newest') warn(domain, WARN_IOMMU_NOT_PAGING, `iommu_unmap on a ${domain.type} domain`);
    return 0n;
  }
  if (!ops || domain.pgsize_bitmap === 0n) {
    warn(domain, WARN_IOMMU_NO_PGTABLE, 'iommu_unmap: no unmap_pages op or empty pgsize_bitmap');
    return 0n;
  }
  const min = min_pagesz(domain.pgsize_bitmap);
  if (((iova | size) & (min - 1n)) !== 0n) {
    warn(domain, WARN_IOMMU_UNALIGNED_UNMAP, `unaligned: iova 0x${hex(iova)} size 0x${hex(size)} min_pagesz 0x${hex(min)}`);
    return 0n;
  }
  const orig_iova = iova;
  let unmapped = 0n;
  while (unmapped < size) {
    const { pgsize, count } = iommu_pgsize(domain, iova, iova, size - unmapped);
    domain.counters.unmap_pages++;
    const r = ops.unmap_pages(iova, pgsize, count, gather);
    if (r === 0n) break;
    iova += r;
    unmapped += r;
  }
  // newest: a driver that kept nothing in the gather (only tables dropped, or a queued gather)
  // would see its iotlb_sync skipped; the core widens the gather so the sync still happens.
  if (domain.linux === 'newest' && unmapped !== 0n && !gather_nonempty(gather)) iommu_iotlb_gather_add_range(gather, orig_iova, size);
  return unmapped;
}

/**
 * iommu_unmap() - unmap from @iova for up to @size bytes, then sync the IOTLB.
 * @domain: the domain
 * @iova: start, aligned to the smallest page size
 * @size: bytes, likewise aligned
 *
 * Returns the bytes unmapped from @iova onward (bigint): 0 for a non-paging domain, no page table,
 * unaligned arguments, or a hole at @iova; less than @size when the walk hits a hole. The page table
 * may remove more than was mapped by the caller (a whole sub-table, S4.3, S4.6). Afterwards no IOTLB
 * entry covers [@iova, @iova + result) (I-C4). iommu.md §4.5.
 */
export function iommu_unmap(domain: IommuDomain, iova: bigint, size: bigint): bigint {
  const gather = newGather();
  const ret = __iommu_unmap(domain, iova, size, gather);
  iommu_iotlb_sync(domain, gather);
  return ret;
}

/**
 * iommu_unmap_fast() - unmap like iommu_unmap, recording invalidations in @gather without syncing.
 * @domain: the domain
 * @iova: start, aligned to the smallest page size
 * @size: bytes, likewise aligned
 * @gather: the caller's gather; a queued one makes the format record nothing (flush-all covers it)
 *
 * Returns the bytes unmapped, as iommu_unmap. Until the caller's iommu_iotlb_sync (strict) or
 * iommu_flush_iotlb_all (queued), stale IOTLB entries may keep translating (iommu.md §6.2).
 * The gather may still be synced early by iommu_iotlb_gather_add_page.
 */
export function iommu_unmap_fast(domain: IommuDomain, iova: bigint, size: bigint, gather: IotlbGather): bigint {
  return __iommu_unmap(domain, iova, size, gather);
}

/**
 * iommu_iova_to_phys() - the CPU-side page-table walk (no IOTLB).
 * @domain: the domain
 * @iova: the address to look up
 *
 * Returns @iova for IDENTITY, 0 for BLOCKED, otherwise the page table's answer, where 0 means
 * "not mapped" (ambiguous if physical 0 is mapped). 0 also for a paging domain without a page
 * table, as arm_smmu_iova_to_phys. iommu.md §4.8.
 */
export function iommu_iova_to_phys(domain: IommuDomain, iova: bigint): bigint {
  if (domain.type === 'IDENTITY') return iova;
  if (domain.type === 'BLOCKED') return 0n;
  return domain.pgtbl ? domain.pgtbl.iova_to_phys(iova) : 0n;
}

const hex = (x: bigint): string => x.toString(16);

function warn(domain: IommuDomain, code: string, message: string): void {
  domain.warn?.warn('kernel', code, message);
}
