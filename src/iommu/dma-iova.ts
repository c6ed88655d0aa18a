/**
 * The IOVA-based two-step DMA API (drivers/iommu/dma-iommu.c, Linux 6.16+;
 * iommu.md §3.11): allocate one IOVA range, link physical ranges into it,
 * sync once, then unlink/free or destroy. Absent in 6.12.
 *
 * The driver owns `struct dma_iova_state` (addr, __size with bit 63 as
 * DMA_IOVA_USE_SWIOTLB). The model keeps, beside it, what the driver linked,
 * so misuse the kernel does not check is reported instead of corrupting the
 * IOMMU (iommu.md §6.3).
 */
import BTree from 'sorted-btree';
import { hasAttr, type Device, type DmaAttrs, type DmaDirection } from '../dma/types';
import { newGather } from './io-pgtable';
import { iommu_iotlb_sync, iommu_iova_to_phys, iommu_map_nosync, iommu_sync_map, iommu_unmap_fast } from './iommu';
import type { DmaDomain } from './iommu-devices';
import { dev_is_untrusted, dev_use_swiotlb, dma_info_to_prot, iommu_dma_alloc_iova, iommu_dma_free_iova, type IommuDmaEnv } from './dma-iommu';

export const DMA_IOVA_USE_SWIOTLB = 1n << 63n;

const EIO = -5;
const ENOMEM = -12;
const EPERM = -1;
const EINVAL = -22;
const EOPNOTSUPP = -95;

/** struct dma_iova_state, plus the model's record of what was linked. */
export interface DmaIovaState {
  addr: bigint;
  __size: bigint;
  /** model: the device and domain it was allocated for; null before a successful try_alloc. */
  dev: string | null;
  /** model: linked IOVA ranges (offsets relative to addr), offset → end (exclusive). */
  readonly links: BTree<bigint, bigint>;
  /** model: the IOVA was returned (free or destroy); any further use is a use-after-free. */
  freed: boolean;
}

export const newIovaState = (): DmaIovaState => ({ addr: 0n, __size: 0n, dev: null, links: new BTree<bigint, bigint>(), freed: false });

export const dma_iova_size = (s: DmaIovaState): bigint => s.__size & ~DMA_IOVA_USE_SWIOTLB;
export const dma_use_iova = (s: DmaIovaState): boolean => s.__size !== 0n;

const granule = (d: DmaDomain): bigint => d.iovad!.granule;
const pad = (d: DmaDomain, x: bigint): bigint => x & (granule(d) - 1n);
const align = (d: DmaDomain, x: bigint): bigint => (x + granule(d) - 1n) & ~(granule(d) - 1n);
const align_down = (d: DmaDomain, x: bigint): bigint => x & ~(granule(d) - 1n);

function contract(env: IommuDmaEnv, dev: Device, code: string, message: string): void {
  env.warn.warn('contract', code, message, dev.name);
}

/** Use after free / wrong device: reported, and the call is refused (returns false). */
function usable(env: IommuDmaEnv, dev: Device, s: DmaIovaState, what: string): boolean {
  if (s.freed) {
    contract(env, dev, 'CONTRACT_IOVA_USE_AFTER_FREE', `${what} on an IOVA state whose range was already freed or destroyed`);
    return false;
  }
  if (s.dev !== null && s.dev !== dev.name) {
    contract(env, dev, 'CONTRACT_IOVA_WRONG_DEVICE', `${what} with device ${dev.name}, but the state was allocated for ${s.dev}`);
    return false;
  }
  return true;
}

/**
 * dma_iova_try_alloc - reserve IOVA space for @size bytes starting at @phys's offset in the granule.
 * Returns false (and a zeroed state) where the API cannot be used: no IOMMU-DMA (identity domain,
 * no IOMMU), size 0 or with bit 63 set, or no IOVA space. The caller then uses the streaming API.
 */
export function dma_iova_try_alloc(env: IommuDmaEnv, dev: Device, d: DmaDomain | undefined, s: DmaIovaState, phys: bigint, size: bigint, mask: bigint): boolean {
  s.addr = 0n;
  s.__size = 0n;
  s.dev = null;
  s.links.clear();
  s.freed = false;
  if (!d || !d.iovad) return false;
  if (size === 0n || (size & DMA_IOVA_USE_SWIOTLB) !== 0n) {
    env.warn.warn('kernel', 'WARN_IOVA_TRY_ALLOC_SIZE', `dma_iova_try_alloc: size 0x${size.toString(16)} is 0 or has bit 63 set`, dev.name);
    return false;
  }
  const sp = pad(d, phys);
  const base = iommu_dma_alloc_iova(env, d, align(d, size + sp), mask, dev);
  if (!base) return false;
  s.addr = base + sp;
  s.__size = size;
  s.dev = dev.name;
  return true;
}

/**
 * Checks a link against the allocation, reporting links past it or over an earlier link (iommu.md §6.3).
 * The bound is the try_alloc size: offset + size <= dma_iova_size(state), that is the linked IOVA, from
 * the granule start, stays inside dma_iova_size plus the head pad (§3.11 step 6).
 */
function admit(env: IommuDmaEnv, dev: Device, _d: DmaDomain, s: DmaIovaState, offset: bigint, size: bigint): boolean {
  if (offset + size > dma_iova_size(s)) {
    contract(env, dev, 'CONTRACT_IOVA_LINK_OUT_OF_RANGE', `dma_iova_link of [0x${offset.toString(16)}, +0x${size.toString(16)}) runs past the 0x${dma_iova_size(s).toString(16)} bytes given to dma_iova_try_alloc: the kernel does not check, and could map IOVA that belongs to other allocations`);
    return false;
  }
  const prev = s.links.getPairOrNextLower(offset + size - 1n);
  if (prev && prev[1] > offset) contract(env, dev, 'CONTRACT_IOVA_LINK_OVERLAP', `dma_iova_link at 0x${offset.toString(16)} overlaps the link at 0x${prev[0].toString(16)}`);
  return true;
}

/** __dma_iova_link: map without the driver's iotlb_sync_map (dma_iova_sync does that once). */
function __dma_iova_link(env: IommuDmaEnv, dev: Device, d: DmaDomain, iova: bigint, phys: bigint, size: bigint, dir: DmaDirection, attrs: DmaAttrs, linux: string): number {
  const coherent = dev.dma_coherent;
  if (!coherent && !hasAttr(attrs, 'DMA_ATTR_SKIP_CPU_SYNC') && !hasAttr(attrs, 'DMA_ATTR_MMIO')) {
    env.arch.arch_sync_dma_for_device(env.cpu(), phys, size, dir);
    env.arch.arch_sync_dma_flush(env.cpu());
  }
  return iommu_map_nosync(d.domain, iova, phys, size, dma_info_to_prot(dir, coherent, attrs, linux));
}

/**
 * iommu_dma_iova_bounce_and_link: one bounce slot for a piece that is not granule-aligned, through
 * iommu_dma_map_swiotlb (the helper iommu_dma_map_phys uses, iommu.md §3.6 step 2b-2d): an inactive
 * pool warns and fails, and untrusted devices get the rest of the bounce granule zeroed. The link uses
 * the caller's @iova_start_pad (the original phys's offset; 0 for the tail), as the kernel does, so a
 * bounce slot that lost that offset (min_align_mask < G - 1) makes the link fail with -EINVAL (§7 item 2).
 */
function bounce_and_link(env: IommuDmaEnv, dev: Device, d: DmaDomain, iova: bigint, phys: bigint, bounce_len: bigint, dir: DmaDirection, attrs: DmaAttrs, linux: string, iova_start_pad: bigint): number {
  const pool = env.swiotlb;
  if (!pool || pool.nslabs === 0) {
    env.warn.warn('kernel', 'WARN_SWIOTLB_INACTIVE_UNALIGNED', 'DMA bounce buffers are inactive, unable to map unaligned transaction.', dev.name);
    return ENOMEM;
  }
  const bounce = pool.swiotlb_tbl_map_single(dev, phys, bounce_len, granule(d) - 1n, dir, attrs);
  if (bounce === (1n << 64n) - 1n) return ENOMEM;
  if (dev_is_untrusted(dev)) {
    // "Untrusted devices should not see padding areas with random leftover kernel data."
    const start = align_down(d, bounce);
    if (bounce > start) env.cache.write(start, new Uint8Array(Number(bounce - start)));
    const end = bounce + bounce_len;
    if (align(d, end) > end) env.cache.write(end, new Uint8Array(Number(align(d, end) - end)));
  }
  const ret = __dma_iova_link(env, dev, d, iova - iova_start_pad, bounce - iova_start_pad, align(d, bounce_len + iova_start_pad), dir, attrs, linux);
  if (ret) pool.swiotlb_tbl_unmap_single(dev, bounce, bounce_len, dir, attrs | (1 << 5));
  return ret;
}

/** iommu_dma_iova_link_swiotlb: bounce the unaligned head and tail, link the middle directly. */
function link_swiotlb(env: IommuDmaEnv, dev: Device, d: DmaDomain, s: DmaIovaState, phys: bigint, offset: bigint, size: bigint, dir: DmaDirection, attrs: DmaAttrs, linux: string): number {
  const G = granule(d);
  const addr = s.addr + offset;
  const sp = pad(d, phys);
  const ep = pad(d, phys + size);
  let mapped = 0n;
  let ret = 0;
  if (sp) {
    const b = size < G - sp ? size : G - sp;
    ret = bounce_and_link(env, dev, d, addr, phys, b, dir, attrs, linux, sp);
    if (ret) return ret;
    s.__size |= DMA_IOVA_USE_SWIOTLB;
    mapped += b;
    if (mapped === size) return 0;
  }
  const middle = size - mapped - ep;
  if (middle > 0n) {
    ret = __dma_iova_link(env, dev, d, addr + mapped, phys + mapped, middle, dir, attrs, linux);
    if (ret) return unlink_after_error(env, dev, d, s, offset, mapped, dir, attrs, ret);
    mapped += middle;
  }
  if (ep) {
    ret = bounce_and_link(env, dev, d, addr + mapped, phys + mapped, ep, dir, attrs, linux, 0n);
    if (ret) return unlink_after_error(env, dev, d, s, offset, mapped, dir, attrs, ret);
    s.__size |= DMA_IOVA_USE_SWIOTLB;
  }
  return 0;
}

function unlink_after_error(env: IommuDmaEnv, dev: Device, d: DmaDomain, s: DmaIovaState, offset: bigint, mapped: bigint, dir: DmaDirection, attrs: DmaAttrs, ret: number): number {
  if (mapped) __iommu_dma_iova_unlink(env, dev, d, s, offset, mapped, dir, attrs, false);
  return ret;
}

/**
 * dma_iova_link - map @size bytes of @phys at @offset into the state's IOVA range.
 * Returns 0; -EIO for an unaligned phys at offset > 0; -EINVAL for an IOVA not on a
 * granule; -EEXIST over an earlier link; -ENOMEM without a bounce slot; -EPERM / -EOPNOTSUPP
 * for MMIO or REQUIRE_COHERENT where bouncing or maintenance would be needed (newest).
 */
export function dma_iova_link(env: IommuDmaEnv, dev: Device, d: DmaDomain, s: DmaIovaState, phys: bigint, offset: bigint, size: bigint, dir: DmaDirection, attrs: DmaAttrs, linux: string): number {
  if (!usable(env, dev, s, 'dma_iova_link')) return EINVAL;
  const sp = pad(d, phys);
  if (offset === 0n && sp !== pad(d, s.addr)) {
    contract(env, dev, 'CONTRACT_IOVA_LINK_PAD_MISMATCH', `the first dma_iova_link starts 0x${sp.toString(16)} into its granule, but dma_iova_try_alloc was given an offset of 0x${pad(d, s.addr).toString(16)}`);
  }
  if (sp !== 0n && offset > 0n) {
    env.warn.warn('kernel', 'WARN_IOVA_LINK_UNALIGNED', `dma_iova_link: phys 0x${phys.toString(16)} is not granule-aligned at offset 0x${offset.toString(16)}`, dev.name);
    return EIO;
  }
  const requireCoherent = hasAttr(attrs, 'DMA_ATTR_REQUIRE_COHERENT');
  if (requireCoherent && (s.__size & DMA_IOVA_USE_SWIOTLB) !== 0n) {
    env.warn.warn('kernel', 'WARN_IOVA_LINK_REQUIRE_COHERENT_SWIOTLB', 'dma_iova_link: DMA_ATTR_REQUIRE_COHERENT on a state that already bounced through swiotlb', dev.name);
    return EOPNOTSUPP;
  }
  if (requireCoherent && !dev.dma_coherent) return EOPNOTSUPP;
  if (!admit(env, dev, d, s, offset, size)) return EINVAL;
  let ret: number;
  if (dev_use_swiotlb(env, dev, size, dir) && pad(d, phys | size) !== 0n) {
    if (hasAttr(attrs, 'DMA_ATTR_MMIO') || requireCoherent) return EPERM;
    ret = link_swiotlb(env, dev, d, s, phys, offset, size, dir, attrs, linux);
  } else {
    const at = env.faults?.has('iova-link-ignores-offset') ? 0n : offset;
    const len = align(d, size + (env.faults?.has('iova-link-drops-head-pad') ? 0n : sp));
    ret = __dma_iova_link(env, dev, d, s.addr + at - sp, phys - sp, len, dir, attrs, linux);
  }
  if (ret === 0) s.links.set(offset, offset + size);
  return ret;
}

/** dma_iova_sync: the driver's iotlb_sync_map over the linked range, once for many links. */
export function dma_iova_sync(env: IommuDmaEnv, dev: Device, d: DmaDomain, s: DmaIovaState, offset: bigint, size: bigint): number {
  if (!usable(env, dev, s, 'dma_iova_sync')) return EINVAL;
  const addr = s.addr + offset;
  return iommu_sync_map(d.domain, align_down(d, addr), align(d, size + pad(d, addr)));
}

/**
 * __iommu_dma_iova_unlink: cache maintenance and bounce release granule by
 * granule where needed, then unmap. @free_iova: destroy's variant, which
 * queues in lazy domains and frees the IOVA; unlink itself is always strict.
 */
function __iommu_dma_iova_unlink(env: IommuDmaEnv, dev: Device, d: DmaDomain, s: DmaIovaState, offset: bigint, size: bigint, dir: DmaDirection, attrs: DmaAttrs, free_iova: boolean): void {
  const addr = s.addr + offset;
  const sp = pad(d, addr);
  const start = addr - sp;
  const len = align(d, size + sp);
  const slow = (s.__size & DMA_IOVA_USE_SWIOTLB) !== 0n || (!dev.dma_coherent && !hasAttr(attrs, 'DMA_ATTR_SKIP_CPU_SYNC'));
  if (slow) {
    const G = granule(d);
    for (let a = addr, end = addr + size; a < end;) {
      const piece = ((a | (G - 1n)) + 1n < end ? (a | (G - 1n)) + 1n : end) - a;
      const phys = iommu_iova_to_phys(d.domain, a);
      if (phys === 0n) {
        env.warn.warn('kernel', 'WARN_IOVA_UNLINK_UNMAPPED', `dma_iova_unlink: 0x${a.toString(16)} translates to nothing`, dev.name);
        break;
      }
      if (!dev.dma_coherent && !hasAttr(attrs, 'DMA_ATTR_SKIP_CPU_SYNC')) {
        env.arch.arch_sync_dma_for_cpu(env.cpu(), phys, piece, dir);
        env.arch.arch_sync_dma_flush(env.cpu());
      }
      if (env.swiotlb?.is_swiotlb_buffer(phys)) env.swiotlb.swiotlb_tbl_unmap_single(dev, phys, piece, dir, attrs);
      a += piece;
    }
  }
  const queued = free_iova && d.fq !== null;
  const gather = newGather(queued);
  const unmapped = iommu_unmap_fast(d.domain, start, len, gather);
  if (unmapped !== len) env.warn.warn('kernel', 'WARN_IOMMU_DMA_UNMAP_SHORT', `WARN_ON(unmapped != size): unmapped 0x${unmapped.toString(16)} of 0x${len.toString(16)} at 0x${start.toString(16)}`, dev.name);
  const bounced = (s.__size & DMA_IOVA_USE_SWIOTLB) !== 0n;
  if (!queued && !(!free_iova && (env.faults?.has('iova-unlink-no-sync') || (bounced && env.faults?.has('iova-unlink-swiotlb-no-sync'))))) iommu_iotlb_sync(d.domain, gather);
  const freeLen = env.faults?.has('iova-destroy-frees-alloc-size') ? align(d, dma_iova_size(s) + sp) : len;
  if (free_iova) iommu_dma_free_iova(env, d, start, freeLen, queued && !env.faults?.has('iova-destroy-bypasses-fq'));
}

/** Forgets the links inside [offset, offset + size). */
function drop_links(s: DmaIovaState, offset: bigint, size: bigint): void {
  const doomed: bigint[] = [];
  s.links.forRange(offset, offset + size, false, (k) => void doomed.push(k));
  for (const k of doomed) s.links.delete(k);
}

/** dma_iova_unlink: unmap [offset, +size) at once (strict even in lazy domains); the IOVA stays reserved. */
export function dma_iova_unlink(env: IommuDmaEnv, dev: Device, d: DmaDomain, s: DmaIovaState, offset: bigint, size: bigint, dir: DmaDirection, attrs: DmaAttrs): void {
  if (!usable(env, dev, s, 'dma_iova_unlink')) return;
  // A link cut in two would leave part of it translating once the model forgets it (iommu.md §6.3).
  let cut: bigint | undefined;
  const first = s.links.getPairOrNextLower(offset);
  if (first && first[0] < offset && first[1] > offset) cut = first[0];
  const last = s.links.getPairOrNextLower(offset + size - 1n);
  if (last && last[0] < offset + size && last[1] > offset + size) cut = last[0];
  if (cut !== undefined) {
    contract(env, dev, 'CONTRACT_IOVA_UNLINK_RANGE', `dma_iova_unlink of [0x${offset.toString(16)}, +0x${size.toString(16)}) cuts the link at 0x${cut.toString(16)}: unlink whole links; not unlinked`);
    return;
  }
  __iommu_dma_iova_unlink(env, dev, d, s, offset, size, dir, attrs, false);
  drop_links(s, offset, size);
}

/** dma_iova_free: return the IOVA straight to the allocator (no flush queue, no IOTLB work). */
export function dma_iova_free(env: IommuDmaEnv, dev: Device, d: DmaDomain, s: DmaIovaState): void {
  if (!usable(env, dev, s, 'dma_iova_free')) return;
  if (s.links.size) {
    contract(env, dev, 'CONTRACT_IOVA_FREE_WHILE_LINKED', `dma_iova_free with ${s.links.size} range(s) still linked: the kernel would free IOVA that still translates; not freed`);
    return;
  }
  const sp = pad(d, s.addr);
  iommu_dma_free_iova(env, d, s.addr - sp, align(d, dma_iova_size(s) + sp), false);
  s.freed = true;
}

/**
 * dma_iova_destroy: unlink [0, mapped_len) and free the IOVA — through the flush
 * queue in lazy domains. Frees align_up(mapped_len + pad) bytes, not the allocated
 * size, as the kernel does (iommu.md §3.11 quirk).
 */
export function dma_iova_destroy(env: IommuDmaEnv, dev: Device, d: DmaDomain, s: DmaIovaState, mapped_len: bigint, dir: DmaDirection, attrs: DmaAttrs): void {
  if (!usable(env, dev, s, 'dma_iova_destroy')) return;
  if (mapped_len === 0n) return dma_iova_free(env, dev, d, s);
  const end = s.links.maxKey() === undefined ? 0n : s.links.get(s.links.maxKey()!)!;
  if (end > mapped_len) {
    contract(env, dev, 'CONTRACT_IOVA_DESTROY_LENGTH', `dma_iova_destroy with mapped_len 0x${mapped_len.toString(16)}, but links reach 0x${end.toString(16)}: the kernel would free IOVA that still translates; not destroyed`);
    return;
  }
  // A granule below the last link that nothing maps: the kernel's unmap stops at the first hole
  // (iommu.md §4.5), so the links after it would stay mapped over freed IOVA.
  const sp = pad(d, s.addr);
  let covered = s.addr - sp;
  let hole: bigint | undefined;
  s.links.forEachPair((k, v) => {
    if (hole === undefined && align_down(d, s.addr + k) > covered) hole = covered;
    if (align(d, s.addr + v) > covered) covered = align(d, s.addr + v);
  });
  if (hole !== undefined) {
    contract(env, dev, 'CONTRACT_IOVA_DESTROY_LENGTH', `dma_iova_destroy with mapped_len 0x${mapped_len.toString(16)}, but nothing is linked at 0x${hole.toString(16)}, below links that reach 0x${end.toString(16)}: the kernel's unmap would stop there and free IOVA that still translates; not destroyed`);
    return;
  }
  if (align(d, mapped_len + sp) > align(d, dma_iova_size(s) + sp)) {
    contract(env, dev, 'CONTRACT_IOVA_DESTROY_LENGTH', `dma_iova_destroy with mapped_len 0x${mapped_len.toString(16)}, past the 0x${dma_iova_size(s).toString(16)} bytes allocated: the kernel would free IOVA of other allocations; not destroyed`);
    return;
  }
  if (end < mapped_len) contract(env, dev, 'CONTRACT_IOVA_DESTROY_LENGTH', `dma_iova_destroy with mapped_len 0x${mapped_len.toString(16)}, but only 0x${end.toString(16)} bytes are linked`);
  __iommu_dma_iova_unlink(env, dev, d, s, 0n, mapped_len, dir, attrs, true);
  s.links.clear();
  s.freed = true;
  if (env.faults?.has('iova-destroy-clears-state')) s.__size = 0n;
}

