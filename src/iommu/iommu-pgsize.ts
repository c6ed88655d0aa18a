/**
 * Page-size selection for the IOMMU core (drivers/iommu/iommu.c: iommu_pgsize [6.12=7.2]),
 * plus the bit helpers it needs on 64-bit values held as bigint. iommu.md §4.3.
 * Pure functions; the domain is reduced to the one field the choice depends on.
 */

/** All-ones in an unsigned long / size_t / phys_addr_t (the model's 64-bit machine). */
export const U64_MAX = (1n << 64n) - 1n;

/** __fls(): index of the most significant set bit. Callers never pass 0 (undefined in C). */
export function __fls(x: bigint): number {
  if (x <= 0n) throw new Error(`BUG: __fls(${x})`);
  // Number arithmetic for the common cases: this sits on every map and unmap.
  if (x <= 0xffff_ffffn) return 31 - Math.clz32(Number(x));
  const hi = x >> 32n;
  if (hi <= 0xffff_ffffn) return 63 - Math.clz32(Number(hi));
  return x.toString(2).length - 1;
}

/** __ffs(): index of the least significant set bit. Callers never pass 0 (undefined in C). */
export function __ffs(x: bigint): number {
  if (x <= 0n) throw new Error(`BUG: __ffs(${x})`);
  return __fls(x & -x);
}

/** GENMASK(h, 0): bits 0..h set. */
function genmask(h: number): bigint {
  return (1n << BigInt(h + 1)) - 1n;
}

/** The smallest page size in a bitmap: the unit every map and unmap must be aligned to. */
export const min_pagesz = (pgsize_bitmap: bigint): bigint => 1n << BigInt(__ffs(pgsize_bitmap));

/** What iommu_pgsize hands to map_pages / unmap_pages. */
export interface PgsizeChoice {
  readonly pgsize: bigint;
  readonly count: bigint;
}

/**
 * iommu_pgsize() - choose the page size and page count for the next map_pages/unmap_pages call.
 * @domain: anything with the domain's pgsize_bitmap
 * @iova: IOVA of the next chunk
 * @paddr: physical address of the next chunk (unmap passes the IOVA here)
 * @size: bytes still to do; must be non-zero
 *
 * Picks the largest supported size that both alignment and @size allow, and as many pages of it
 * as fit, but stops early at the next boundary of the next larger supported size when the two
 * addresses sit at the same offset within it and a whole larger page fits after the boundary:
 * the caller's next call can then use the larger page. iommu.md §4.3.
 *
 * Returns: {pgsize, count}, count ≥ 1.
 * Throws "BUG:" when no size qualifies (the kernel's BUG_ON); callers rule that out by checking
 * min_pagesz alignment first.
 */
export function iommu_pgsize(domain: { readonly pgsize_bitmap: bigint }, iova: bigint, paddr: bigint, size: bigint): PgsizeChoice {
  const bitmap = domain.pgsize_bitmap;
  const addr_merge = paddr | iova;

  // Step 1: no page larger than the largest power of two within size.
  let pgsizes = bitmap & genmask(__fls(size));
  // Step 2: no page larger than the alignment the two addresses share.
  if (addr_merge !== 0n) pgsizes &= genmask(__ffs(addr_merge));
  if (pgsizes === 0n) {
    throw new Error(`BUG: iommu_pgsize: no page size for iova 0x${iova.toString(16)} paddr 0x${paddr.toString(16)} size 0x${size.toString(16)}`);
  }

  const pgsize_idx = __fls(pgsizes);
  const shift = BigInt(pgsize_idx);
  const pgsize = 1n << shift;
  // model: no closures here — this runs on every map and unmap, and tsx wraps each closure it creates.
  let run = size;

  // Step 5: the next larger supported size, if any.
  const larger = bitmap & ~genmask(pgsize_idx);
  if (larger !== 0n) {
    const pgsize_next = 1n << BigInt(__ffs(larger));
    // Step 6: a larger page can only ever be used if iova and paddr share their offset within it.
    if (((iova ^ paddr) & (pgsize_next - 1n)) === 0n) {
      // Step 7: stop at the next pgsize_next boundary if a whole larger page fits beyond it.
      // The kernel's check_add_overflow cannot fire here: offset + pgsize_next ≤ size ≤ U64_MAX.
      const offset = pgsize_next - (addr_merge & (pgsize_next - 1n));
      if (offset + pgsize_next <= size) run = offset;
    }
  }
  return { pgsize, count: run >> shift };
}
