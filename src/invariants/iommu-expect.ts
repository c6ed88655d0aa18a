/**
 * What the IOMMU layers must produce, re-derived from the digest rather than
 * read from the model, so the checkers are an independent oracle: the prot a
 * DMA mapping gets (iommu.md §3.2), the scatterlist layout (§3.8 step 2), the
 * page-size choice (§4.3), the IOVA rounding (§2.10) and the DMA limit (§3.3).
 * Pure functions of op arguments and device facts.
 */
import { IOMMU_CACHE, IOMMU_MMIO, IOMMU_PRIV, IOMMU_READ, IOMMU_WRITE } from '../iommu/io-pgtable';
import { hasAttr, min_not_zero, type DmaAttrs, type DmaDirection } from '../dma/types';

/** dma_info_to_prot; `resource` is iommu_dma_map_resource's MMIO mapping (no CACHE, no MMIO attr test). */
export function expectedProt(dir: DmaDirection, coherent: boolean, attrs: DmaAttrs, linux: string, resource = false): number {
  let prot = coherent && !resource ? IOMMU_CACHE : 0;
  if (!resource && linux === 'newest' && hasAttr(attrs, 'DMA_ATTR_MMIO')) prot = IOMMU_MMIO;
  if (hasAttr(attrs, 'DMA_ATTR_PRIVILEGED')) prot |= IOMMU_PRIV;
  if (resource) prot |= IOMMU_MMIO;
  switch (dir) {
    case 'DMA_BIDIRECTIONAL': return prot | IOMMU_READ | IOMMU_WRITE;
    case 'DMA_TO_DEVICE': return prot | IOMMU_READ;
    case 'DMA_FROM_DEVICE': return prot | IOMMU_WRITE;
    default: return 0;
  }
}

export const alignUp = (x: bigint, g: bigint): bigint => (x + g - 1n) & ~(g - 1n);

/** bit length of x (fls_long). */
export function fls(x: bigint): number {
  return x === 0n ? 0 : x.toString(2).length;
}

/** alloc_iova_fast's rounding (§2.10): below 32 pfns, the next power of two. */
export const roundedPages = (pages: bigint): bigint => (pages < 32n ? 1n << BigInt(fls(pages - 1n)) : pages);

/** order_base_2: the range-cache class of a size (§2.9). */
export const sizeClass = (pages: bigint): number => (pages > 1n ? fls(pages - 1n) : 0);

/** The DMA limit iommu_dma_alloc_iova works under (§3.3 steps 3-4), in bytes, inclusive. */
export function dmaLimit(mask: bigint, bus_dma_limit: bigint, aperture_end: bigint, force_aperture: boolean): bigint {
  let l = min_not_zero(mask, bus_dma_limit);
  if (force_aperture && aperture_end < l) l = aperture_end;
  return l;
}

/** One scatterlist entry as laid out in IOVA space by iommu_dma_map_sg (§3.8 step 2). */
export interface SgSlot {
  /** phys mod G */
  readonly off: bigint;
  /** the driver's length */
  readonly length: bigint;
  /** align_up(length + off, G) plus any boundary padding added after it */
  readonly span: bigint;
  /** offset of this entry's first granule from the IOVA base */
  readonly at: bigint;
  /** phys rounded down to G: what IOVA base + at translates to */
  readonly base: bigint;
}

/** The layout pass of iommu_dma_map_sg: slots and the total IOVA length. */
export function sgLayout(sg: readonly { phys: bigint; length: bigint }[], G: bigint, seg_mask: bigint): { slots: SgSlot[]; iova_len: bigint } {
  const spans: bigint[] = [];
  const out: { off: bigint; length: bigint; base: bigint }[] = [];
  let iova_len = 0n;
  for (const s of sg) {
    const off = s.phys & (G - 1n);
    const a = alignUp(s.length + off, G);
    const pad = (seg_mask - iova_len + 1n) & seg_mask;
    if (pad !== 0n && pad < a - 1n && spans.length > 0) {
      spans[spans.length - 1] += pad;
      iova_len += pad;
    }
    spans.push(a);
    out.push({ off, length: s.length, base: s.phys - off });
    iova_len += a;
  }
  let at = 0n;
  const slots = out.map((o, i) => {
    const slot: SgSlot = { ...o, span: spans[i]!, at };
    at += spans[i]!;
    return slot;
  });
  return { slots, iova_len };
}

/** iommu_pgsize (§4.3), written out again as an oracle for I-C5. */
export function pgsizeChoice(bitmap: bigint, iova: bigint, paddr: bigint, size: bigint): { pgsize: bigint; count: bigint } | undefined {
  let cands = bitmap & ((1n << BigInt(fls(size))) - 1n);
  const merge = iova | paddr;
  if (merge !== 0n) cands &= (merge & -merge) * 2n - 1n;
  if (cands === 0n) return undefined;
  const pgsize = 1n << BigInt(fls(cands) - 1);
  const larger = bitmap & ~(pgsize * 2n - 1n);
  if (larger === 0n) return { pgsize, count: size / pgsize };
  const next = larger & -larger;
  if (((iova ^ paddr) & (next - 1n)) !== 0n) return { pgsize, count: size / pgsize };
  const dist = next - (merge & (next - 1n));
  return { pgsize, count: (dist + next <= size ? dist : size) / pgsize };
}
