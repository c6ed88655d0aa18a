/**
 * dma-iommu: the DMA API on top of an IOMMU (drivers/iommu/dma-iommu.c;
 * iommu.md §3). Picks IOVAs (32-bit first for PCI), maps granules, bounces
 * untrusted or kmalloc-unsafe buffers through swiotlb, and frees strictly or
 * through the flush queue. Called only by mapping.ts, like the kernel's
 * iommu_dma_* entry points.
 */
import { dma_kmalloc_needs_bounce } from '../dma/direct';
import { DMA_MAPPING_ERROR, SIZE_MAX, hasAttr, min_not_zero, type Device, type DmaAttrs, type DmaDirection } from '../dma/types';
import type { ArchDmaSync } from '../dma/arch-sync';
import type { IoTlbMem } from '../dma/swiotlb';
import { IO_TLB_SEGSIZE, IO_TLB_SIZE } from '../dma/swiotlb-pool';
import type { CpuCache } from '../mem/cpu-cache';
import type { WarnSink } from '../warn';
import type { Faults } from '../faults';
import { IOMMU_CACHE, IOMMU_MMIO, IOMMU_PRIV, IOMMU_READ, IOMMU_WRITE, newGather } from './io-pgtable';
import { iommu_iotlb_sync, iommu_iova_to_phys, iommu_map, iommu_unmap_fast, type IommuDomain } from './iommu';
import type { DmaDomain } from './iommu-devices';

/** What dma-iommu needs from the platform. */
export interface IommuDmaEnv {
  readonly swiotlb: IoTlbMem | null;
  readonly arch: ArchDmaSync;
  readonly cache: CpuCache;
  readonly warn: WarnSink;
  readonly arch_name: 'x86_64' | 'arm64';
  readonly cache_alignment: number;
  readonly page_size: bigint;
  cpu(): number;
  /** dev->iommu->pci_32bit_workaround, read and cleared by iommu_dma_alloc_iova. */
  pci_32bit_workaround(dev: Device): boolean;
  clear_pci_32bit_workaround(dev: Device): void;
  /** Planted faults (src/faults.ts); absent in unit tests. */
  readonly faults?: Faults;
}

const SKIP_CPU_SYNC = 1 << 5;

export const dev_is_untrusted = (dev: Device): boolean => dev.bus === 'pci' && dev.untrusted;

/** dev_use_swiotlb: untrusted, or a kmalloc buffer unsafe for a non-coherent device (iommu.md §3.6). */
export const dev_use_swiotlb = (env: IommuDmaEnv, dev: Device, size: bigint, dir: DmaDirection): boolean =>
  dev_is_untrusted(dev) || dma_kmalloc_needs_bounce(env, dev, size, dir);

/** dma_info_to_prot (iommu.md §3.2): 0 for an invalid direction, which the page table refuses. */
export function dma_info_to_prot(dir: DmaDirection, coherent: boolean, attrs: DmaAttrs, linux: string): number {
  let prot = coherent ? IOMMU_CACHE : 0;
  if (linux === 'newest' && hasAttr(attrs, 'DMA_ATTR_MMIO')) prot = IOMMU_MMIO;
  if (hasAttr(attrs, 'DMA_ATTR_PRIVILEGED')) prot |= IOMMU_PRIV;
  switch (dir) {
    case 'DMA_BIDIRECTIONAL': return prot | IOMMU_READ | IOMMU_WRITE;
    case 'DMA_TO_DEVICE': return prot | IOMMU_READ;
    case 'DMA_FROM_DEVICE': return prot | IOMMU_WRITE;
    default: return 0;
  }
}

const iovad = (d: DmaDomain) => {
  if (!d.iovad) throw new Error(`BUG: domain ${d.name} has no IOVA cookie`);
  return d.iovad;
};
const iova_mask = (d: DmaDomain): bigint => iovad(d).granule - 1n;
const iova_offset = (d: DmaDomain, a: bigint): bigint => a & iova_mask(d);
const iova_align = (d: DmaDomain, s: bigint): bigint => (s + iova_mask(d)) & ~iova_mask(d);
const bits_per = (v: bigint): number => v.toString(2).length;

/**
 * iommu_dma_alloc_iova: 32-bit first for PCI devices until it fails once, then
 * the full limit with the range caches flushed before giving up (iommu.md §3.3).
 * Returns the IOVA, or 0 on failure.
 */
export function iommu_dma_alloc_iova(env: IommuDmaEnv, d: DmaDomain, size: bigint, dma_limit: bigint, dev: Device): bigint {
  const ia = iovad(d);
  const shift = BigInt(bits_per(ia.granule) - 1);
  const iova_len = size >> shift;
  dma_limit = min_not_zero(dma_limit, dev.bus_dma_limit);
  const geo = d.domain.geometry;
  if (geo.force_aperture && geo.aperture_end < dma_limit) dma_limit = geo.aperture_end;
  if (dma_limit > 0xffff_ffffn && env.pci_32bit_workaround(dev)) {
    const pfn = ia.alloc_iova_fast(env.cpu(), iova_len, 0xffff_ffffn >> shift, false);
    if (pfn) return pfn << shift;
    if (!env.faults?.has('pci-32bit-not-sticky')) env.clear_pci_32bit_workaround(dev);
    env.warn.warn('kernel', 'NOTICE_USING_64BIT_DMA', `Using ${bits_per(dma_limit)}-bit DMA addresses`, dev.name);
  }
  return ia.alloc_iova_fast(env.cpu(), iova_len, dma_limit >> shift, true) << shift;
}

/** iommu_dma_free_iova: into the flush queue when the gather is queued, else straight back. */
export function iommu_dma_free_iova(env: IommuDmaEnv, d: DmaDomain, iova: bigint, size: bigint, queued: boolean): void {
  const ia = iovad(d);
  const shift = BigInt(bits_per(ia.granule) - 1);
  if (queued && d.fq) d.fq.queue_iova(env.cpu(), iova >> shift, size >> shift);
  else ia.free_iova_fast(env.cpu(), iova >> shift, size >> shift);
}

/** __iommu_dma_map: allocate granule-aligned IOVA and map it; keeps phys's offset in the granule. */
export function __iommu_dma_map(env: IommuDmaEnv, dev: Device, d: DmaDomain, phys: bigint, size: bigint, prot: number, dma_mask: bigint): bigint {
  const off = iova_offset(d, phys);
  if (dev.min_align_mask > iova_mask(d)) {
    env.warn.warn('kernel', 'WARN_UNSUPPORTED_ALIGNMENT', 'Unsupported alignment constraint (min_align_mask exceeds the IOVA granule)', dev.name);
    return DMA_MAPPING_ERROR;
  }
  size = iova_align(d, size + off);
  const iova = iommu_dma_alloc_iova(env, d, size, dma_mask, dev);
  if (!iova) return DMA_MAPPING_ERROR;
  if (iommu_map(d.domain, iova, phys - off, size, prot)) {
    iommu_dma_free_iova(env, d, iova, size, false);
    return DMA_MAPPING_ERROR;
  }
  return env.faults?.has('dma-iommu-drops-offset') ? iova : iova + off;
}

/** __iommu_dma_unmap: unmap the granules, sync (strict) or queue (lazy), free the IOVA. */
export function __iommu_dma_unmap(env: IommuDmaEnv, dev: Device, d: DmaDomain, dma_addr: bigint, size: bigint): void {
  const off = iova_offset(d, dma_addr);
  dma_addr -= off;
  size = env.faults?.has('dma-iommu-unmap-drops-tail-granule') && off !== 0n && dma_addr > 0xffff_ffffn ? iova_align(d, size) : iova_align(d, size + off);
  const gather = newGather(d.fq !== null);
  const unmapped = iommu_unmap_fast(d.domain, dma_addr, size, gather);
  if (unmapped !== size) env.warn.warn('kernel', 'WARN_IOMMU_DMA_UNMAP_SHORT', `WARN_ON(unmapped != size): unmapped 0x${unmapped.toString(16)} of 0x${size.toString(16)} at 0x${dma_addr.toString(16)}`, dev.name);
  if (unmapped === 0n) {
    // Nothing was mapped there (a second dma_unmap_sg of the same list, or an address never mapped):
    // the kernel would free the IOVA again and put one pfn into a range cache twice (iommu.md §3.8, §6.3).
    env.warn.warn('model', 'MODEL_IOVA_DOUBLE_FREE', `unmap of 0x${dma_addr.toString(16)} (0x${size.toString(16)} bytes), which maps nothing: the kernel would free this IOVA a second time; not freed`, dev.name);
    return;
  }
  const queued = gather.queued;
  if (!queued && !env.faults?.has('strict-unmap-no-sync')) iommu_iotlb_sync(d.domain, gather);
  iommu_dma_free_iova(env, d, dma_addr, size, queued);
}

/**
 * iommu_dma_map_phys (6.12: iommu_dma_map_page). Bounces when the device must
 * (untrusted, kmalloc-unsafe) and the buffer is not granule-aligned; untrusted
 * devices get the padding around the bounce slot zeroed (iommu.md §3.6).
 */
export function iommu_dma_map_phys(env: IommuDmaEnv, dev: Device, d: DmaDomain, phys: bigint, size: bigint, dir: DmaDirection, attrs: DmaAttrs, dma_mask: bigint, linux: string): bigint {
  const coherent = dev.dma_coherent;
  const prot = dma_info_to_prot(dir, coherent, attrs, linux);
  const mmio = linux === 'newest' && hasAttr(attrs, 'DMA_ATTR_MMIO');
  if (!mmio && dev_use_swiotlb(env, dev, size, dir) && iova_offset(d, phys | size) !== 0n) {
    if (linux === 'newest' && hasAttr(attrs, 'DMA_ATTR_REQUIRE_COHERENT')) return DMA_MAPPING_ERROR;
    if (!env.swiotlb || env.swiotlb.nslabs === 0) {
      env.warn.warn('kernel', 'WARN_SWIOTLB_INACTIVE_UNALIGNED', 'DMA bounce buffers are inactive, unable to map unaligned transaction.', dev.name);
      return DMA_MAPPING_ERROR;
    }
    phys = env.swiotlb.swiotlb_tbl_map_single(dev, phys, size, iova_mask(d), dir, attrs);
    if (phys === DMA_MAPPING_ERROR) return DMA_MAPPING_ERROR;
    if (dev_is_untrusted(dev)) {
      // The device must not see leftover bytes in the granules around the data.
      const start = phys & ~iova_mask(d);
      if (phys > start) env.cache.write(start, new Uint8Array(Number(phys - start)));
      const end = phys + size;
      const tail = iova_align(d, end) - end;
      if (tail > 0n) env.cache.write(end, new Uint8Array(Number(tail)));
    }
  }
  if (!coherent && !hasAttr(attrs, 'DMA_ATTR_SKIP_CPU_SYNC') && !mmio) {
    env.arch.arch_sync_dma_for_device(env.cpu(), phys, size, dir);
    env.arch.arch_sync_dma_flush(env.cpu());
  }
  const iova = __iommu_dma_map(env, dev, d, phys, size, prot, dma_mask);
  if (iova === DMA_MAPPING_ERROR && env.swiotlb?.is_swiotlb_buffer(phys)) env.swiotlb.swiotlb_tbl_unmap_single(dev, phys, size, dir, attrs);
  return iova;
}

/** iommu_dma_unmap_phys (6.12: iommu_dma_unmap_page): warns and does nothing if the handle is not mapped. */
export function iommu_dma_unmap_phys(env: IommuDmaEnv, dev: Device, d: DmaDomain, handle: bigint, size: bigint, dir: DmaDirection, attrs: DmaAttrs, linux: string): void {
  if (linux === 'newest' && (hasAttr(attrs, 'DMA_ATTR_MMIO') || hasAttr(attrs, 'DMA_ATTR_REQUIRE_COHERENT'))) {
    __iommu_dma_unmap(env, dev, d, handle, size);
    return;
  }
  const phys = iommu_iova_to_phys(d.domain, handle);
  if (phys === 0n) {
    env.warn.warn('kernel', 'WARN_IOMMU_DMA_UNMAP_UNMAPPED', `WARN_ON(!phys): unmap of 0x${handle.toString(16)}, which translates to nothing`, dev.name);
    return;
  }
  if (!hasAttr(attrs, 'DMA_ATTR_SKIP_CPU_SYNC') && !dev.dma_coherent) {
    env.arch.arch_sync_dma_for_cpu(env.cpu(), phys, size, dir);
    env.arch.arch_sync_dma_flush(env.cpu());
  }
  __iommu_dma_unmap(env, dev, d, handle, size);
  if (env.swiotlb?.is_swiotlb_buffer(phys)) env.swiotlb.swiotlb_tbl_unmap_single(dev, phys, size, dir, attrs);
}

/** iommu_dma_map_resource (6.12): MMIO, no bounce, no CACHE. */
export function iommu_dma_map_resource(env: IommuDmaEnv, dev: Device, d: DmaDomain, phys: bigint, size: bigint, dir: DmaDirection, attrs: DmaAttrs, dma_mask: bigint): bigint {
  const prot = dma_info_to_prot(dir, false, attrs, '6.12') | IOMMU_MMIO;
  return __iommu_dma_map(env, dev, d, phys, size, prot, dma_mask);
}

export function iommu_dma_sync_single_for_cpu(env: IommuDmaEnv, dev: Device, d: DmaDomain, handle: bigint, size: bigint, dir: DmaDirection): void {
  if (dev.dma_coherent && !dev_use_swiotlb(env, dev, size, dir)) return;
  const phys = iommu_iova_to_phys(d.domain, handle);
  if (!dev.dma_coherent) {
    env.arch.arch_sync_dma_for_cpu(env.cpu(), phys, size, dir);
    env.arch.arch_sync_dma_flush(env.cpu());
  }
  if (env.swiotlb?.is_swiotlb_buffer(phys)) env.swiotlb.swiotlb_sync_single_for_cpu(dev, phys, size, dir);
}

export function iommu_dma_sync_single_for_device(env: IommuDmaEnv, dev: Device, d: DmaDomain, handle: bigint, size: bigint, dir: DmaDirection): void {
  if (dev.dma_coherent && !dev_use_swiotlb(env, dev, size, dir)) return;
  const phys = iommu_iova_to_phys(d.domain, handle);
  if (env.swiotlb?.is_swiotlb_buffer(phys)) env.swiotlb.swiotlb_sync_single_for_device(dev, phys, size, dir);
  if (!dev.dma_coherent) {
    env.arch.arch_sync_dma_for_device(env.cpu(), phys, size, dir);
    env.arch.arch_sync_dma_flush(env.cpu());
  }
}

// ---- queries (iommu.md §3.9) --------------------------------------------------------------

/** iommu_dma_get_merge_boundary: the smallest IOMMU page minus one. */
export const iommu_dma_get_merge_boundary = (domain: IommuDomain): bigint => (domain.pgsize_bitmap & -domain.pgsize_bitmap) - 1n;

/** iommu_dma_opt_mapping_size = iova_rcache_range() = PAGE_SIZE << 5. */
export const iommu_dma_opt_mapping_size = (page_size: bigint): bigint => page_size << 5n;

/**
 * iommu_dma_max_mapping_size: swiotlb's limit for untrusted devices, else SIZE_MAX. The kernel does
 * not ask whether a pool is active (CONFIG_SWIOTLB is always built in on x86_64 and arm64, as the
 * map path here assumes): without a pool the bound is the same constant, though no unaligned map
 * can succeed.
 */
export function iommu_dma_max_mapping_size(env: IommuDmaEnv, dev: Device): bigint {
  if (!dev_is_untrusted(dev)) return SIZE_MAX;
  if (env.swiotlb && env.swiotlb.nslabs > 0) return env.swiotlb.swiotlb_max_mapping_size(dev);
  const min_align_mask = Number(dev.min_align_mask & 0xffff_ffffn);
  const min_align = min_align_mask ? Math.ceil(min_align_mask / IO_TLB_SIZE) * IO_TLB_SIZE : 0;
  return BigInt(IO_TLB_SIZE * IO_TLB_SEGSIZE - min_align);
}

export { SKIP_CPU_SYNC };
