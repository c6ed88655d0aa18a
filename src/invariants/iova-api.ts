/**
 * Invariants of the IOVA-based two-step API (iommu.md §3.11; §3.13 I-D1, I-D4,
 * I-D5, I-D11, I-D12; §6.5 G-1): what a dma_iova_state's links translate to,
 * that nothing else in its allocation translates, that unlink and destroy
 * revoke, and what the state reads. The allocation itself is a live range of
 * its DMA domain, so the allocator, flush-queue and granule invariants of
 * iova.ts and dma-iommu.ts hold it to account too (IOVA-STATES,
 * IOVA-NO-LOST-RANGES, DMA-IOMMU-NO-SHARED-GRANULE, DMA-IOMMU-OFFSET,
 * LAZY-NO-REUSE-BEFORE-FLUSH...). Facts come from iommu-track-iova.ts, over
 * each op's own range: O(log n + leaves met).
 */
import { hex } from './iommu-ranges';
import { iommuChanges } from './iommu-tracker';
import { domChecker } from './iova';
import { stateless, type InvariantFactory } from './invariant';

// ---- I-D1 / I-D11 -----------------------------------------------------------------------------

export const IOVA_API_LINKS_TRANSLATE = domChecker({
  id: 'IOVA-API-LINKS-TRANSLATE',
  statement: 'Every byte a successful dma_iova_link linked translates to the phys it was linked to (a bounced head or tail: to the bounce slot holding that phys\'s bytes), granule rounding included, until it is unlinked; checked over the link when it is made and over every dma_iova_sync range. A failed link (-EEXIST over an earlier link, -EINVAL, -EIO, -ENOMEM...) leaves every translation as it was.',
  clause: 'iommu.md §3.13 I-D1, I-D11; §3.11 dma_iova_link steps 4-5',
  box: 'white',
}, (c) => {
  if (c.tainted) return [];
  const out: string[] = [];
  for (const e of c.iova) out.push(...e.translate);
  return out;
});

// ---- I-D11 / G-1 ------------------------------------------------------------------------------

export const IOVA_API_NOTHING_ELSE = domChecker({
  id: 'IOVA-API-NOTHING-ELSE',
  statement: 'Inside a dma_iova_state\'s IOVA allocation nothing translates outside its links, except the granule rounding of a link\'s own head and tail: checked over the gap between a new link\'s neighbours, over every dma_iova_sync range, and over the whole allocation at dma_iova_free.',
  clause: 'iommu.md §3.13 I-D11; §6.5 G-1',
  box: 'white',
}, (c) => {
  if (c.tainted) return [];
  const out: string[] = [];
  for (const e of c.iova) out.push(...e.extra);
  return out;
});

// ---- I-D4 / I-D5 ------------------------------------------------------------------------------

export const IOVA_API_REVOKED = domChecker({
  id: 'IOVA-API-REVOKED',
  statement: 'Once dma_iova_unlink (strict even in lazy domains) or a strict dma_iova_destroy returns, neither the page table nor the IOTLB translates the range, so a device access faults (iommu_iotlb_sync reached the driver); a lazy destroy clears the page table at once, and its IOVA leaves the flush queue only after a flush_iotlb_all that completed after it, with no IOTLB entry left; dma_iova_try_alloc never gets IOVA that waits in a flush queue or that stale IOTLB entries cover, and dma_iova_free never returns IOVA the IOTLB still covers.',
  clause: 'iommu.md §3.13 I-D4, I-D5; §3.11 unlink, destroy, free; §6.2',
  box: 'white',
}, (c) => {
  if (c.tainted) return [];
  const out: string[] = [];
  for (const e of c.iova) {
    out.push(...e.revoked);
    if (e.mustSync && c.iotlbSyncs === 0) out.push(`${e.op} of "${e.state}" unmapped links but returned without iommu_iotlb_sync`);
  }
  for (const m of c.maps) {
    if (m.m.kind !== 'iova') continue;
    if (m.stale > 0) out.push(`dma_iova_try_alloc of "${m.m.dev}" got IOVA ${hex(m.m.iova)}+${hex(m.m.len)} while ${m.stale} stale IOTLB entries still cover it`);
    if (m.inFq) out.push(`dma_iova_try_alloc of "${m.m.dev}" got IOVA ${hex(m.m.iova)}+${hex(m.m.len)} while it still waits in the flush queue`);
  }
  for (const r of c.retired) {
    if (!r.iovaApi) continue;
    if (!r.flushed) out.push(`pfn ${hex(r.e.lo)} (+${r.e.pages}) of a lazy dma_iova_destroy left the flush queue without a completed flush_iotlb_all since it was queued`);
    if (r.iotlb > 0) out.push(`pfn ${hex(r.e.lo)} (+${r.e.pages}) of a lazy dma_iova_destroy left the flush queue with ${r.iotlb} IOTLB entries still covering it`);
  }
  return out;
});

// ---- I-D12 ------------------------------------------------------------------------------------

export const IOVA_API_STATE: InvariantFactory = stateless({
  id: 'IOVA-API-STATE',
  statement: 'dma_use_iova is true exactly after a successful dma_iova_try_alloc and stays true after dma_iova_free and dma_iova_destroy; dma_iova_size is the try_alloc size whatever DMA_IOVA_USE_SWIOTLB says, and that bit is set once a link bounced and never otherwise; state.addr keeps the offset of try_alloc\'s phys in its granule; a failed try_alloc leaves the state zeroed; an op on a state with no live IOVA for its device (misuse the model refuses) changes nothing.',
  clause: 'iommu.md §3.13 I-D12; §3.11; §6.3',
  box: 'white',
}, (ctx) => {
  const ch = iommuChanges(ctx);
  const out = [...ch.iovaState];
  for (const c of ch.doms) {
    for (const m of c.maps) {
      if (m.m.kind !== 'iova') continue;
      const off = m.m.handle & (c.st.G - 1n);
      if (off !== m.wantOff) out.push(`domain "${c.st.name}": dma_iova_try_alloc of "${m.m.dev}" gave state.addr ${hex(m.m.handle)}, offset ${hex(off)} in its granule, but phys ${hex(m.phys)} has ${hex(m.wantOff)}`);
    }
  }
  return out;
});

export const IOVA_API_INVARIANTS: readonly InvariantFactory[] = [IOVA_API_LINKS_TRANSLATE, IOVA_API_NOTHING_ELSE, IOVA_API_REVOKED, IOVA_API_STATE];
