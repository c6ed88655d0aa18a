/**
 * The direct backend of dma_alloc_coherent / dma_free_coherent: dma_direct_alloc,
 * dma_direct_free and __dma_direct_alloc_pages of kernel/dma/direct.c (6.12),
 * summarised in dma-core.md §3.7. mapping.ts does the dispatch, the argument
 * checks and the dma-debug hooks (STYLE §2: the backend never calls debug).
 *
 * model: these kernel paths are absent because nothing in the model enables them:
 *  - CMA (dma_alloc_contiguous returns NULL: no cma area), so every allocation comes
 *    from the page allocator and is limited to MAX_PAGE_ORDER;
 *  - restricted-dma-pool allocation (is_swiotlb_for_alloc) and memory encryption
 *    (force_dma_unencrypted);
 *  - the atomic pools (dma_direct_use_pool): gfp is always GFP_KERNEL here;
 *  - highmem (64-bit only) and per-device coherent pools (mapping.c handles those).
 * Both CONFIG_ZONE_DMA and CONFIG_ZONE_DMA32 are on, as on x86_64 and arm64.
 */
import type { Device, DmaAttrs } from './types';
import { DMA_BIT_MASK, DMA_MAPPING_ERROR, U64_MAX, hasAttr, min_not_zero } from './types';
import type { PageAllocator } from '../mm/page-alloc';

export interface CoherentEnv {
  pages: PageAllocator;
  page_size: number;
  /** DMA_BIT_MASK(24) by default; arm64 lowers or raises it from the DT/ACPI ranges. */
  zone_dma_limit: bigint;
  phys_to_dma(dev: Device, phys: bigint): bigint;
  /**
   * dma_to_phys: needed because 6.12 picks the zone from the *physical* address of
   * the DMA limit (dma_direct_optimal_gfp_mask). All-ones when no dma_range_map
   * region covers the address (dma-core.md §3.1).
   */
  dma_to_phys(dev: Device, dma_addr: bigint): bigint;
  /** The memset(0) the kernel does through the mapping it returns (cached, or the uncached remap). */
  cpu_zero(phys: bigint, size: bigint): void;
  /** Non-coherent devices get an uncached mapping (on = true) that free tears down (on = false). */
  set_uncached(phys: bigint, size: bigint, on: boolean): void;
  /** arch_dma_prep_coherent: clean the kernel alias before use; a no-op where the arch has none (x86). */
  arch_dma_prep_coherent(phys: bigint, size: bigint): void;
}

export interface CoherentAllocation {
  /** model: the physical address (for NO_KERNEL_MAPPING the kernel returns a page cookie) */
  cpu_addr: bigint;
  dma_addr: bigint;
  /** PAGE_ALIGN of the requested size */
  size: bigint;
  order: number;
}

/** The three zones a gfp mask can name, as the highest physical address each reaches. */
type Zone = 'ZONE_DMA' | 'ZONE_DMA32' | 'ZONE_NORMAL';

function zone_limit(env: CoherentEnv, zone: Zone): bigint {
  // A GFP_DMA32 request may also be served from ZONE_DMA below it, and a normal
  // one from either; as address limits that is simply "at or below".
  if (zone === 'ZONE_DMA') return env.zone_dma_limit;
  return zone === 'ZONE_DMA32' ? DMA_BIT_MASK(32) : U64_MAX;
}

/**
 * dma_coherent_ok - is a buffer at @dma_addr of @size bytes reachable by coherent DMA?
 * @dev: the device
 * @dma_addr: the buffer's DMA address (the kernel takes phys and translates it
 *   first; model: the caller translates, so this stays a pure predicate)
 * @size: length in bytes
 *
 * Returns false for DMA_MAPPING_ERROR (phys not covered by dma_range_map); else
 * whether the last byte, in wrapping u64 arithmetic, is at or below
 * min_not_zero(coherent_dma_mask, bus_dma_limit). Only the end is tested (§3.7).
 */
export function dma_coherent_ok(dev: Device, dma_addr: bigint, size: bigint): boolean {
  if (dma_addr === DMA_MAPPING_ERROR) return false;
  const end = (dma_addr + size - 1n) & U64_MAX;
  return end <= min_not_zero(dev.coherent_dma_mask, dev.bus_dma_limit);
}

/** dma_direct_optimal_gfp_mask: the zone the limit falls into, and that limit as phys. */
function dma_direct_optimal_gfp_mask(env: CoherentEnv, dev: Device): { zone: Zone; phys_limit: bigint } {
  const dma_limit = min_not_zero(dev.coherent_dma_mask, dev.bus_dma_limit);
  const phys_limit = env.dma_to_phys(dev, dma_limit);
  if (phys_limit <= env.zone_dma_limit) return { zone: 'ZONE_DMA', phys_limit };
  if (phys_limit <= DMA_BIT_MASK(32)) return { zone: 'ZONE_DMA32', phys_limit };
  return { zone: 'ZONE_NORMAL', phys_limit };
}

/**
 * __dma_direct_alloc_pages: try the optimal zone, and when the block is not
 * coherent_ok retry once in ZONE_DMA32 (only if we started in ZONE_NORMAL and the
 * limit is not all-ones), then in ZONE_DMA. An allocation *failure* is not
 * retried: the page allocator already fell back to the lower zones itself.
 */
function __dma_direct_alloc_pages(env: CoherentEnv, dev: Device, size: bigint): { phys: bigint; order: number } | null {
  const order = env.pages.get_order(size);
  let { zone, phys_limit } = dma_direct_optimal_gfp_mask(env, dev);
  for (;;) {
    const phys = env.pages.alloc_pages(order, zone_limit(env, zone));
    if (phys === null) return null;
    if (dma_coherent_ok(dev, env.phys_to_dma(dev, phys), size)) return { phys, order };
    env.pages.free_pages(phys, order);
    if (zone === 'ZONE_NORMAL' && phys_limit < U64_MAX) zone = 'ZONE_DMA32';
    else if (zone !== 'ZONE_DMA') zone = 'ZONE_DMA';
    else return null;
  }
}

/**
 * dma_direct_alloc - allocate a zeroed, coherently mapped buffer for @dev.
 * @env: the page allocator and the arch/memory hooks
 * @dev: the device; its coherent_dma_mask and bus_dma_limit bound the buffer
 * @size: requested length; rounded up to whole pages (wrapping like PAGE_ALIGN)
 * @attrs: DMA_ATTR_*; only DMA_ATTR_NO_KERNEL_MAPPING changes the result here
 *
 * Returns the allocation, aligned to its order (H11), or null when no addressable
 * memory is left (mapping.c turns that into a NULL return). With
 * DMA_ATTR_NO_KERNEL_MAPPING the memory is *not* zeroed and no uncached mapping is
 * made; arch_dma_prep_coherent still runs, for coherent devices too.
 * Non-coherent devices follow arm64's CONFIG_DMA_DIRECT_REMAP order: prep the
 * kernel alias, map uncached, then zero through the uncached mapping.
 * model: __GFP_NOWARN (DMA_ATTR_NO_WARN) only silences page-allocator warnings,
 * which are not modelled.
 */
export function dma_direct_alloc(env: CoherentEnv, dev: Device, size: bigint, attrs: DmaAttrs): CoherentAllocation | null {
  const psz = BigInt(env.page_size);
  size = (size + psz - 1n) & ~(psz - 1n) & U64_MAX;
  const got = __dma_direct_alloc_pages(env, dev, size);
  if (got === null) return null;
  const { phys, order } = got;
  const alloc = { cpu_addr: phys, dma_addr: env.phys_to_dma(dev, phys), size, order };
  if (hasAttr(attrs, 'DMA_ATTR_NO_KERNEL_MAPPING')) {
    env.arch_dma_prep_coherent(phys, size);
    return alloc;
  }
  if (!dev.dma_coherent) {
    env.arch_dma_prep_coherent(phys, size);
    env.set_uncached(phys, size, true);
  }
  // Only the page-aligned size is zeroed, not the tail of a rounded-up order block.
  env.cpu_zero(phys, size);
  return alloc;
}

/**
 * dma_direct_free - release a buffer dma_direct_alloc returned.
 * @env: as for dma_direct_alloc
 * @dev: the allocating device (R1)
 * @alloc: the allocation; its dma_addr is translated back to find the pages and
 *   get_order(size) gives the block, as in the kernel
 * @attrs: the attrs of the allocation (the kernel takes them again at free time)
 *
 * Tears down the uncached mapping of a non-coherent device, then frees the pages.
 * A block that is not allocated makes the page allocator throw BUG (the kernel
 * would corrupt its free lists); mapping.c's dma-debug reports the driver's
 * mistake before that can happen.
 */
export function dma_direct_free(env: CoherentEnv, dev: Device, alloc: CoherentAllocation, attrs: DmaAttrs = 0): void {
  if (!hasAttr(attrs, 'DMA_ATTR_NO_KERNEL_MAPPING') && !dev.dma_coherent) {
    // arm64: the cpu_addr is a vmalloc remap, so vunmap; no cache maintenance on free.
    env.set_uncached(alloc.cpu_addr, alloc.size, false);
  }
  env.pages.free_pages(env.dma_to_phys(dev, alloc.dma_addr), env.pages.get_order(alloc.size));
}
