/**
 * The public DMA API and its dispatch (kernel/dma/mapping.c, dma-mapping.h;
 * dma-core.md §2). Each call checks its arguments, hands the work to one
 * backend (dma-direct here; dma-iommu in part 2), then calls the dma-debug
 * hook — the only place that calls dma-debug (STYLE.md).
 */
import {
  dma_direct_all_ram_mapped, dma_direct_get_required_mask, dma_direct_map_phys, dma_direct_map_sg,
  dma_direct_max_mapping_size, dma_direct_need_sync, dma_direct_supported, dma_direct_sync_sg_for_cpu,
  dma_direct_sync_sg_for_device, dma_direct_sync_single_for_cpu, dma_direct_sync_single_for_device,
  dma_direct_unmap_phys, dma_direct_unmap_sg, dma_capable, is_swiotlb_active, type SgEntry,
} from './direct';
import {
  DMA_BIT_MASK, DMA_MAPPING_ERROR, SIZE_MAX, U64_MAX, hasAttr, min_not_zero,
  type Device, type DmaAttrs, type DmaDirection, type MemKind,
} from './types';
import type { Platform } from '../platform';
import { KernelBug } from './bug';
import {
  iommu_dma_get_merge_boundary, iommu_dma_map_phys, iommu_dma_map_resource, iommu_dma_max_mapping_size, iommu_dma_opt_mapping_size,
  iommu_dma_sync_single_for_cpu, iommu_dma_sync_single_for_device, iommu_dma_unmap_phys, __iommu_dma_unmap,
} from '../iommu/dma-iommu';
import { iommu_dma_map_sg, iommu_dma_sync_sg_for_cpu, iommu_dma_sync_sg_for_device, iommu_dma_unmap_sg } from '../iommu/dma-iommu-sg';
import type { DmaDomain } from '../iommu/iommu-devices';

/** Which entry point a single mapping came through (6.12 names; newest funnels into dma_map_phys). */
export type SingleKind = 'phys' | 'page' | 'single' | 'resource';

export { KernelBug } from './bug';

function check_dir(dir: DmaDirection): void {
  if (dir === 'DMA_NONE') throw new KernelBug('BUG_INVALID_DIRECTION', 'BUG_ON(!valid_dma_direction(dir))');
}

/** use_dma_iommu(dev): the default domain is DMA or DMA_FQ (iommu.md §3.1 step 2). */
const use_dma_iommu = (p: Platform, dev: Device): boolean => p.iommu.usesDmaIommu(dev);
/** The device's DMA domain; only called when use_dma_iommu holds. */
const dma_domain = (p: Platform, dev: Device): DmaDomain => p.iommu.domainOf(dev)!;

function no_mask(p: Platform, dev: Device): boolean {
  if (dev.dma_mask !== null) return false;
  p.warn.warn('kernel', 'WARN_NO_DMA_MASK', 'WARN_ON_ONCE(!dev->dma_mask): the device has no DMA mask', dev.name);
  return true;
}

/** dma_dev_need_sync: the inline sync wrappers skip everything when false (§2.4). */
const dma_dev_need_sync = (p: Platform, dev: Device): boolean => !dev.dma_skip_sync || p.debug !== null;

// ---- single mappings (§2.2) -------------------------------------------------------

/**
 * dma_map_phys and its 6.12 wrappers (dma_map_page_attrs, dma_map_single_attrs,
 * dma_map_resource). Returns the DMA address or DMA_MAPPING_ERROR.
 */
export function dma_map_phys(p: Platform, dev: Device, kind: SingleKind, phys: bigint, size: bigint, dir: DmaDirection, attrs: DmaAttrs, mem: MemKind): bigint {
  check_dir(dir);
  if (kind === 'single') {
    if (mem === 'vmalloc' || mem === 'vmap_stack') {
      // dma_map_single_attrs refuses vmalloc memory before dma-debug sees it (§2.2).
      p.warn.warn('kernel', 'WARN_VMALLOC_MAP_REJECTED', 'rejecting DMA map of vmalloc memory', dev.name);
      return DMA_MAPPING_ERROR;
    }
    p.debug?.debug_dma_map_single(dev, mem, phys, size);
  }
  if (kind === 'page' && hasAttr(attrs, 'DMA_ATTR_MMIO')) return DMA_MAPPING_ERROR; // [U] never MMIO through map_page
  if (no_mask(p, dev)) return DMA_MAPPING_ERROR;
  if (kind === 'resource') return map_resource(p, dev, phys, size, dir, attrs);
  // [U] dma_map_phys refuses REQUIRE_COHERENT on a non-coherent device.
  if (p.linux === 'newest' && !dev.dma_coherent && hasAttr(attrs, 'DMA_ATTR_REQUIRE_COHERENT')) return DMA_MAPPING_ERROR;
  const addr = use_dma_iommu(p, dev)
    ? iommu_dma_map_phys(p, dev, dma_domain(p, dev), phys, size, dir, attrs, dma_get_mask(dev), p.linux)
    : dma_direct_map_phys(p, dev, phys, size, dir, attrs, true);
  // Called on failure too, as the kernel does: the hook's own dma_mapping_error() call has side effects (§6.2).
  // [U] dma-debug flags DMA_ATTR_MMIO on valid RAM, as for dma_map_resource (R22).
  const pfn_is_ram = p.linux === 'newest' && hasAttr(attrs, 'DMA_ATTR_MMIO') && p.mem.isRam(phys, size);
  p.debug?.debug_dma_map_phys(dev, mem, phys, size, dir, addr, attrs, is_swiotlb_active(p), pfn_is_ram);
  return addr;
}

/** dma_map_resource: the DMA address is the physical address; no swiotlb (§2.2). */
function map_resource(p: Platform, dev: Device, phys: bigint, size: bigint, dir: DmaDirection, attrs: DmaAttrs): bigint {
  let addr = phys;
  if (use_dma_iommu(p, dev)) addr = iommu_dma_map_resource(p, dev, dma_domain(p, dev), phys, size, dir, attrs, dma_get_mask(dev));
  else if (!dma_capable(dev, addr, size)) {
    p.warn.warn('kernel', 'WARN_DMA_ADDR_OVERFLOW', `DMA addr 0x${addr.toString(16)}+${size} overflow (mask 0x${(dev.dma_mask ?? 0n).toString(16)}, bus limit 0x${dev.bus_dma_limit.toString(16)})`, dev.name);
    addr = DMA_MAPPING_ERROR;
  }
  // R22: newest dma-debug reports RAM passed to dma_map_resource; 6.12 has no such check.
  const pfn_is_ram = p.linux === 'newest' && p.mem.isRam(phys, size);
  p.debug?.debug_dma_map_resource(dev, phys, size, dir, addr, attrs, is_swiotlb_active(p), pfn_is_ram);
  return addr;
}

export function dma_unmap_phys(p: Platform, dev: Device, kind: SingleKind, addr: bigint, size: bigint, dir: DmaDirection, attrs: DmaAttrs): void {
  check_dir(dir);
  if (kind === 'page' && hasAttr(attrs, 'DMA_ATTR_MMIO')) return;
  if (kind === 'resource') {
    // Direct unmap of a resource does nothing; through an IOMMU the IOVA is unmapped and freed.
    if (use_dma_iommu(p, dev)) __iommu_dma_unmap(p, dev, dma_domain(p, dev), addr, size);
    p.debug?.debug_dma_unmap_resource(dev, addr, size, dir, attrs);
    return;
  }
  if (use_dma_iommu(p, dev)) iommu_dma_unmap_phys(p, dev, dma_domain(p, dev), addr, size, dir, attrs, p.linux);
  else dma_direct_unmap_phys(p, dev, addr, size, dir, attrs, true);
  p.debug?.debug_dma_unmap_phys(dev, addr, size, dir, attrs); // after the real unmap
}

/** dma_mapping_error: -ENOMEM for the error value, else 0; marks the debug entry checked. */
export function dma_mapping_error(p: Platform, dev: Device, addr: bigint): number {
  p.debug?.debug_dma_mapping_error(dev, addr);
  return addr === DMA_MAPPING_ERROR ? -12 : 0;
}

// ---- scatter-gather (§2.3) ------------------------------------------------------------

/** __dma_map_sg_attrs: returns ents > 0, 0 without a mask, or a negative errno. */
export function dma_map_sg(p: Platform, dev: Device, sg: SgEntry[], nents: number, dir: DmaDirection, attrs: DmaAttrs, mem: MemKind): number {
  check_dir(dir);
  if (no_mask(p, dev)) return 0;
  const ents = use_dma_iommu(p, dev)
    ? iommu_dma_map_sg(p, dev, dma_domain(p, dev), sg, nents, dir, attrs, dma_get_mask(dev), p.linux)
    : dma_direct_map_sg(p, dev, sg, nents, dir, attrs);
  if (ents > 0) p.debug?.debug_dma_map_sg(dev, mem, sg, nents, ents, dir, attrs, is_swiotlb_active(p));
  else if (![-22, -12, -5, -121].includes(ents)) {
    p.warn.warn('kernel', 'WARN_MAP_SG_BAD_ERRNO', `dma_map_sg backend returned ${ents}`, dev.name);
    return -5;
  }
  return ents;
}

export function dma_unmap_sg(p: Platform, dev: Device, sg: readonly SgEntry[], nents: number, dir: DmaDirection, attrs: DmaAttrs): void {
  check_dir(dir);
  p.debug?.debug_dma_unmap_sg(dev, sg, nents, dir, attrs); // before the real unmap (§2.3)
  if (use_dma_iommu(p, dev)) iommu_dma_unmap_sg(p, dev, dma_domain(p, dev), sg, nents, dir, attrs, p.linux);
  else dma_direct_unmap_sg(p, dev, sg, nents, dir, attrs);
}

// ---- sync (§2.4) -------------------------------------------------------------------------

export function dma_sync_single_for_cpu(p: Platform, dev: Device, addr: bigint, size: bigint, dir: DmaDirection): void {
  if (!dma_dev_need_sync(p, dev)) return;
  check_dir(dir);
  if (use_dma_iommu(p, dev)) iommu_dma_sync_single_for_cpu(p, dev, dma_domain(p, dev), addr, size, dir);
  else dma_direct_sync_single_for_cpu(p, dev, addr, size, dir, true);
  p.debug?.debug_dma_sync_single_for_cpu(dev, addr, size, dir);
}

export function dma_sync_single_for_device(p: Platform, dev: Device, addr: bigint, size: bigint, dir: DmaDirection): void {
  if (!dma_dev_need_sync(p, dev)) return;
  check_dir(dir);
  if (use_dma_iommu(p, dev)) iommu_dma_sync_single_for_device(p, dev, dma_domain(p, dev), addr, size, dir);
  else dma_direct_sync_single_for_device(p, dev, addr, size, dir, true);
  p.debug?.debug_dma_sync_single_for_device(dev, addr, size, dir);
}

export function dma_sync_sg_for_cpu(p: Platform, dev: Device, sg: readonly SgEntry[], nents: number, dir: DmaDirection): void {
  if (!dma_dev_need_sync(p, dev)) return;
  check_dir(dir);
  if (use_dma_iommu(p, dev)) iommu_dma_sync_sg_for_cpu(p, dev, dma_domain(p, dev), sg, nents, dir);
  else dma_direct_sync_sg_for_cpu(p, dev, sg, nents, dir);
  p.debug?.debug_dma_sync_sg_for_cpu(dev, sg, nents, dir);
}

export function dma_sync_sg_for_device(p: Platform, dev: Device, sg: readonly SgEntry[], nents: number, dir: DmaDirection): void {
  if (!dma_dev_need_sync(p, dev)) return;
  check_dir(dir);
  if (use_dma_iommu(p, dev)) iommu_dma_sync_sg_for_device(p, dev, dma_domain(p, dev), sg, nents, dir);
  else dma_direct_sync_sg_for_device(p, dev, sg, nents, dir);
  p.debug?.debug_dma_sync_sg_for_device(dev, sg, nents, dir);
}

// ---- masks and queries (§2.5, §2.6) ---------------------------------------------------------

/** dma_supported on the direct path. */
const dma_supported = (p: Platform, dev: Device, mask: bigint): boolean => use_dma_iommu(p, dev) || dma_direct_supported(p, dev, mask);

/** dma_setup_need_sync: on the direct path, skip syncs exactly for coherent devices. */
function dma_setup_need_sync(dev: Device): void {
  dev.dma_skip_sync = dev.dma_coherent;
}

/** dma_set_mask: 0, or -EIO when dev->dma_mask is NULL or the mask is unsupported. */
export function dma_set_mask(p: Platform, dev: Device, mask: bigint): number {
  mask &= U64_MAX; // truncate to dma_addr_t
  if (p.faults.has('mask-set-despite-eio') && dev.dma_mask !== null) dev.dma_mask = mask;
  if (dev.dma_mask === null || !dma_supported(p, dev, mask)) return -5;
  dev.dma_mask = mask;
  dma_setup_need_sync(dev);
  return 0;
}

export function dma_set_coherent_mask(p: Platform, dev: Device, mask: bigint): number {
  mask &= U64_MAX;
  if (!dma_supported(p, dev, mask)) return -5;
  dev.coherent_dma_mask = mask;
  return 0;
}

/** H6: only the streaming result counts; the coherent call's result is ignored. */
export function dma_set_mask_and_coherent(p: Platform, dev: Device, mask: bigint): number {
  const rc = dma_set_mask(p, dev, mask);
  if (rc === 0) dma_set_coherent_mask(p, dev, mask);
  return rc;
}

export const dma_get_mask = (dev: Device): bigint => (dev.dma_mask ? dev.dma_mask : DMA_BIT_MASK(32));

export const dma_get_required_mask = (p: Platform, dev: Device): bigint =>
  use_dma_iommu(p, dev) ? DMA_BIT_MASK(32) : dma_direct_get_required_mask(p, dev);

export function dma_addressing_limited(p: Platform, dev: Device): boolean {
  if (min_not_zero(dma_get_mask(dev), dev.bus_dma_limit) < dma_get_required_mask(p, dev)) return true;
  return !use_dma_iommu(p, dev) && !dma_direct_all_ram_mapped(p, dev);
}

export const dma_max_mapping_size = (p: Platform, dev: Device): bigint =>
  use_dma_iommu(p, dev) ? iommu_dma_max_mapping_size(p, dev) : dma_direct_max_mapping_size(p, dev, dma_addressing_limited(p, dev));

/** On the direct path there is no opt_mapping_size callback: equal to the max (§2.6). */
export const dma_opt_mapping_size = (p: Platform, dev: Device): bigint => {
  const max = dma_max_mapping_size(p, dev);
  if (p.faults.has('opt-size-unclamped')) return SIZE_MAX;
  // dma-iommu's optimum is the largest size the IOVA range caches serve (iommu.md §3.9).
  const opt = use_dma_iommu(p, dev) ? iommu_dma_opt_mapping_size(p.page_size) : SIZE_MAX;
  return max < opt ? max : opt;
};

/** The IOMMU's smallest page minus one; 0 ("cannot merge") on the direct path (§2.6). */
export const dma_get_merge_boundary = (p: Platform, dev: Device): bigint =>
  use_dma_iommu(p, dev) ? iommu_dma_get_merge_boundary(dma_domain(p, dev).domain) : 0n;

export function dma_need_sync(p: Platform, dev: Device, addr: bigint): boolean {
  // __dma_need_sync: only the direct path can answer per address; every other path says yes.
  return dma_dev_need_sync(p, dev) && (use_dma_iommu(p, dev) || dma_direct_need_sync(p, dev, addr));
}

/** [U] dma_need_unmap: not direct, or syncs needed, or a debug build. */
export const dma_need_unmap = (p: Platform, dev: Device): boolean => use_dma_iommu(p, dev) || !dev.dma_skip_sync || p.debug !== null;
