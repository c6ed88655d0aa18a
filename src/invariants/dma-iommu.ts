/**
 * dma-iommu invariants (iommu.md §3.13 I-D1..I-D11, §6.2 device-access oracle,
 * §6.5 G-1 and G-4), over the mappings the driver made through the DMA API on
 * IOMMU devices (DMA and DMA_FQ domains only: direct-path devices never reach
 * them). Facts come from iommu-tracker.ts; each op is checked over the IOVA
 * node it mapped or unmapped (its leaves, its IOTLB entries, its neighbours in
 * the live set) and the flush-queue entries it retired: O(log n + op size).
 *
 * The IOVA-based API's own invariants (I-D12, its links) are in iova-api.ts; its
 * allocations are live ranges here too.
 */
import { DMA_MAPPING_ERROR } from '../dma/types';
import type { DomChange, MapEvent, SgEvent } from './iommu-events';
import type { DmaMapping, IovaAlloc } from './iommu-state';
import { iommuChanges } from './iommu-tracker';
import { alignUp } from './iommu-expect';
import { diffLeaves, hex } from './iommu-ranges';
import { domChecker } from './iova';
import { stateless, type InvariantFactory } from './invariant';

const where = (e: MapEvent): string => `${e.op} of "${e.m.dev}" (handle ${hex(e.m.handle)}, IOVA ${hex(e.m.iova)}+${hex(e.m.len)})`;

/** The page-table range the tracker recorded for a mapping's node. */
const ptOf = (c: DomChange, why: 'dma-map' | 'dma-unmap', iova: bigint) => c.pt.find((r) => r.why === why && r.start === iova);

// ---- I-D1 / I-D11 / G-1 -----------------------------------------------------------------------

export const DMA_IOMMU_TRANSLATES = domChecker({
  id: 'DMA-IOMMU-TRANSLATES',
  statement: 'A new mapping lies in one live, unreserved allocator node; its granules translate to align_down(phys) + k·G (the bounce slot, holding phys, exactly when the buffer must bounce), padding included, and the power-of-two tail of the node does not translate; after an unmap nothing in the node translates; a freshly allocated IOVA never already translates.',
  clause: 'iommu.md §3.13 I-D1, I-D11; §6.5 G-1; §3.6 step 2',
  box: 'white',
}, (c, ctx) => {
  if (c.tainted || !c.st.dma) return [];
  const out: string[] = [];
  for (const e of c.maps) {
    const m = e.m;
    const end = (m.hi + 1n) << c.st.shift;
    if (!e.node) out.push(`${where(e)} lies in no allocator node`);
    else if (e.node.reserved || e.node.pfn_lo !== m.lo || ((e.node.pfn_hi + 1n) << c.st.shift) < m.iova + m.len) out.push(`${where(e)} is not one allocator node: the node at its start is [${hex(e.node.pfn_lo)}, ${hex(e.node.pfn_hi)}]${e.node.reserved ? ' (reserved)' : ''}`);
    const pt = ptOf(c, 'dma-map', m.iova);
    if (pt) for (const d of diffLeaves(pt.leaves, m.runs, m.iova, end)) if (d.kind !== 'prot') out.push(`${where(e)}: ${d.message}`);
    if (m.kind === 'single' || m.kind === 'resource' || m.kind === 'sg-entry') {
      if ((e.bounce !== undefined) !== e.mustBounce) out.push(`${where(e)} ${e.mustBounce ? 'must bounce (dev_use_swiotlb and phys or size not granule-aligned) but maps phys' : 'bounced though it need not'}`);
      if (e.bounce !== undefined && e.slotOrig !== e.phys) out.push(`${where(e)} maps bounce slot ${hex(e.bounce)}, which holds ${e.slotOrig === undefined ? 'nothing' : hex(e.slotOrig)}, not ${hex(e.phys)}`);
      const want = e.bounce ?? e.phys;
      const got = c.st.pgView?.iova_to_phys(m.handle) ?? 0n;
      if (got !== want) out.push(`${where(e)}: the handle translates to ${hex(got)}, not ${hex(want)}`);
    }
  }
  for (const u of c.unmaps) {
    const pt = ptOf(c, 'dma-unmap', u.m.iova);
    const l = pt?.leaves[0];
    if (l) out.push(`after the unmap of "${u.m.dev}" ${hex(u.m.handle)}, IOVA ${hex(l.iova)} (node [${hex(u.m.lo)}, ${hex(u.m.hi)}]) still translates to ${hex(l.paddr)}`);
  }
  if (c.mapHitLeaf) out.push('a map failed because its freshly allocated IOVA was already mapped (WARN_ARM_LPAE_EEXIST): a translation outlived its mapping');
  // A live mapping unmapped as mapped must still have been mapped in full (its node holds nothing else).
  const lost = c.unmaps.length > 0 ? ctx.result.warnings.find((w) => w.code === 'WARN_IOMMU_DMA_UNMAP_SHORT' || w.code === 'WARN_IOMMU_DMA_UNMAP_UNMAPPED' || w.code === 'MODEL_IOVA_DOUBLE_FREE') : undefined;
  if (lost) out.push(`the unmap of a live mapping found part of it no longer mapped: ${lost.message}`);
  return out;
});

// ---- I-D2 -------------------------------------------------------------------------------------

/** How the output segments of a merged sg map cover the entries: [first entry, count] per segment, or why not. */
export function segmentEntries(s: SgEvent): { first: number; n: number }[] | string {
  const out: { first: number; n: number }[] = [];
  let i = 0;
  for (let k = 0; k < s.count; k++) {
    const seg = s.sg[k]!;
    const first = i;
    let sum = 0n;
    while (i < s.ents.length && sum < seg.dma_length) sum += s.ents[i++]!.length;
    if (sum !== seg.dma_length || i === first) return `segment ${k} (${hex(seg.dma_address)}+${hex(seg.dma_length)}) is not a run of whole entries`;
    out.push({ first, n: i - first });
  }
  return i === s.ents.length ? out : `the ${s.count} segments cover ${i} of ${s.ents.length} entries`;
}

export const DMA_IOMMU_OFFSET = domChecker({
  id: 'DMA-IOMMU-OFFSET',
  statement: 'A handle keeps the buffer\'s offset in its granule: h mod G = phys mod G, or for a bounced buffer orig & min_align_mask & (G−1); a merged sg segment starts at its first entry\'s offset.',
  clause: 'iommu.md §3.13 I-D2; §3.5 step 6; §3.6 step 2c',
  box: 'white',
}, (c) => {
  const out: string[] = [];
  const G = c.st.G;
  for (const e of c.maps) {
    if (e.m.kind === 'sg') continue;
    if ((e.m.handle & (G - 1n)) !== e.wantOff) out.push(`${where(e)}: handle offset ${hex(e.m.handle & (G - 1n))} in its granule, expected ${hex(e.wantOff)}${e.bounce !== undefined ? ' (bounced)' : ''}`);
  }
  for (const s of c.sgs) {
    const segs = segmentEntries(s);
    if (typeof segs === 'string') continue; // MAP-SG-SEGMENTS reports it
    segs.forEach((g, k) => {
      const off = s.slots[g.first]!.off;
      if ((s.sg[k]!.dma_address & (G - 1n)) !== off) out.push(`dma_map_sg of "${s.m.dev}": segment ${k} at ${hex(s.sg[k]!.dma_address)} does not keep entry ${g.first}'s offset ${hex(off)}`);
    });
  }
  return out;
});

// ---- I-D3 -------------------------------------------------------------------------------------

/** A live range another one clashed with: a mapping, or a dma_iova_state's allocation and the link it meets. */
function liveRange(m: DmaMapping, lo: bigint, hi: bigint, shift: bigint): string {
  const pfns = `(pfns [${hex(m.lo)}, ${hex(m.hi)}])`;
  if (m.kind !== 'iova') return `the live mapping of "${m.dev}" at ${hex(m.iova)} ${pfns}`;
  const a = m as IovaAlloc;
  const k = a.links.getPairOrNextLower(((hi + 1n) << shift) - 1n)?.[1];
  const link = k && k.end > lo << shift ? `, over its link at offset ${hex(k.offset)}` : '';
  return `the IOVA of dma_iova_state "${a.state}" of "${m.dev}" at ${hex(m.iova)} ${pfns}${link}`;
}

export const DMA_IOMMU_NO_SHARED_GRANULE = domChecker({
  id: 'DMA-IOMMU-NO-SHARED-GRANULE',
  statement: 'No two live mappings, dma_iova_state allocations or links share an IOVA granule: each new mapping or allocation\'s node is checked against its neighbours in the live set, each new link against its allocation, the links beside it and the live set.',
  clause: 'iommu.md §3.13 I-D3',
  box: 'white',
}, (c) => {
  if (c.tainted) return [];
  const out = c.maps.filter((e) => e.clash).map((e) => `${where(e)} shares IOVA with ${liveRange(e.clash!, e.m.lo, e.m.hi, c.st.shift)}`);
  for (const e of c.iova) out.push(...e.shared);
  return out;
});

// ---- I-D4 / I-C4 ------------------------------------------------------------------------------

export const STRICT_UNMAP_REVOKES = domChecker({
  id: 'STRICT-UNMAP-REVOKES',
  statement: 'Once a strict (DMA domain) unmap, or iommu_unmap, or the iommu_iotlb_sync after iommu_unmap_fast, returns, neither the page table nor the IOTLB holds a translation for the range (a strict dma-iommu unmap reaches the driver\'s iotlb_sync).',
  clause: 'iommu.md §3.13 I-D4; §4.10 I-C4; §6.2',
  box: 'white',
}, (c) => {
  const out: string[] = [];
  if (!c.tainted) {
    // __iommu_dma_unmap step 4: not queued, so iommu_iotlb_sync reaches the driver (the gather is never empty after an unmap).
    if (c.unmaps.some((u) => !u.queued) && c.iotlbSyncs === 0) out.push(`a strict unmap of "${c.unmaps[0]!.m.dev}" ${hex(c.unmaps[0]!.m.handle)} returned without iommu_iotlb_sync`);
    for (const u of c.unmaps) {
      if (u.queued) continue;
      if (u.iotlb > 0) out.push(`strict unmap of "${u.m.dev}" ${hex(u.m.handle)} returned with ${u.iotlb} IOTLB entries still covering IOVA ${hex(u.m.iova)}..`);
      const l = ptOf(c, 'dma-unmap', u.m.iova)?.leaves[0];
      if (l) out.push(`strict unmap of "${u.m.dev}" ${hex(u.m.handle)} left IOVA ${hex(l.iova)} translating`);
    }
  }
  for (const t of c.iotlbLeft) if (t.n > 0) out.push(`after ${t.why}, ${t.n} IOTLB entries still cover [${hex(t.start)}, ${hex(t.end)})`);
  return out;
});

// ---- I-D5 -------------------------------------------------------------------------------------

export const LAZY_NO_REUSE_BEFORE_FLUSH = domChecker({
  id: 'LAZY-NO-REUSE-BEFORE-FLUSH',
  statement: 'A lazy unmap clears the page table at once; its IOVA leaves the flush queue only after a flush_iotlb_all that completed after the unmap, with no IOTLB entry left for it; no IOVA is handed out while it waits in a flush queue or while stale IOTLB entries cover it.',
  clause: 'iommu.md §3.13 I-D5; §3.4; §6.2',
  box: 'white',
}, (c) => {
  if (c.tainted || !c.st.dma) return [];
  const out: string[] = [];
  for (const u of c.unmaps) {
    if (!u.queued) continue;
    const l = ptOf(c, 'dma-unmap', u.m.iova)?.leaves[0];
    if (l) out.push(`lazy unmap of "${u.m.dev}" ${hex(u.m.handle)} left IOVA ${hex(l.iova)} in the page table`);
  }
  for (const r of c.retired) {
    if (!r.flushed) out.push(`pfn ${hex(r.e.lo)} (+${r.e.pages}) left the flush queue without a completed flush_iotlb_all since it was queued`);
    if (r.iotlb > 0) out.push(`pfn ${hex(r.e.lo)} (+${r.e.pages}) left the flush queue with ${r.iotlb} stale IOTLB entries still covering it`);
  }
  for (const e of c.maps) {
    if (e.stale > 0) out.push(`${where(e)} was handed out while ${e.stale} stale IOTLB entries still cover its node`);
    if (e.inFq) out.push(`${where(e)} was handed out while its IOVA still waits in the flush queue`);
  }
  return out;
});

// ---- I-D6 / I-D7 ------------------------------------------------------------------------------

export const FQ_BOUNDED = domChecker({
  id: 'FQ-BOUNDED',
  statement: 'Each flush-queue ring holds at most fq_size − 1 entries (a full ring flushes before taking another), entries leave only by retirement, counters never decrease from head to tail nor exceed flush_start_cnt, and flush_finish_cnt ≤ flush_start_cnt with both never decreasing.',
  clause: 'iommu.md §3.13 I-D6, I-D7; §3.4',
  box: 'white',
}, (c) => {
  const fq = c.st.dd?.fq;
  if (!fq) return [];
  const out = [...c.fqTrouble];
  const start = fq.flush_start_cnt;
  const finish = fq.flush_finish_cnt;
  if (finish > start) out.push(`flush_finish_cnt ${finish} > flush_start_cnt ${start}`);
  if (start < c.fqBefore.start || finish < c.fqBefore.finish) out.push(`flush counters went backwards: start ${c.fqBefore.start} → ${start}, finish ${c.fqBefore.finish} → ${finish}`);
  for (const e of c.queuedGot) if (e.counter > start) out.push(`entry ${hex(e.lo)} has counter ${e.counter} > flush_start_cnt ${start}`);
  for (let r = 0; r < c.st.rings.length; r++) if (fq.ringLength(r) > fq.size - 1) out.push(`ring ${r} holds ${fq.ringLength(r)} entries, more than ${fq.size - 1}`);
  return out;
});

// ---- I-D8 -------------------------------------------------------------------------------------

export const DMA_IOMMU_HANDLE_IN_LIMIT = domChecker({
  id: 'DMA-IOMMU-HANDLE-IN-LIMIT',
  statement: 'Every handle is non-zero, at or above start_pfn, and the mapped range ends within min(mask, bus_dma_limit, aperture end) (streaming: dma_mask; coherent: coherent_dma_mask), to the granule holding that limit.',
  clause: 'iommu.md §3.13 I-D8; §3.3',
  box: 'white',
}, (c) => {
  const out: string[] = [];
  const v = c.st.view;
  const G = c.st.G;
  for (const e of c.maps) {
    const top = ((e.limit >> c.st.shift) << c.st.shift) + G - 1n;
    const last = e.m.iova + e.m.len - 1n;
    if (e.m.handle === 0n) out.push(`${where(e)}: handle 0`);
    if (v && e.m.lo < v.start_pfn) out.push(`${where(e)} starts below start_pfn ${hex(v.start_pfn)}`);
    if (last > top) out.push(`${where(e)} ends at ${hex(last)}, above its DMA limit ${hex(e.limit)}`);
  }
  return out;
});

// ---- I-D9 -------------------------------------------------------------------------------------

export const PCI_32BIT_STICKY: InvariantFactory = stateless({
  id: 'PCI-32BIT-STICKY',
  statement: 'pci_32bit_workaround starts true exactly for PCI devices without iommu.forcedac, is cleared by the first failed 32-bit attempt ("Using N-bit DMA addresses") and never becomes true again until the device is added anew.',
  clause: 'iommu.md §3.13 I-D9; §3.1 step 1; §3.3 step 5',
  box: 'white',
}, (ctx) => {
  const out: string[] = [];
  for (const f of iommuChanges(ctx).pci) {
    if (f.added && f.want !== undefined && f.after !== f.want) out.push(`"${f.dev}" starts with pci_32bit_workaround ${f.after}, expected ${f.want}`);
    if (!f.added && f.before === false && f.after) out.push(`"${f.dev}": pci_32bit_workaround became true again`);
    if (f.notice && f.after) out.push(`"${f.dev}" logged "Using N-bit DMA addresses" but kept pci_32bit_workaround set`);
  }
  return out;
});

// ---- I-D10 ------------------------------------------------------------------------------------

export const MAP_SG_SEGMENTS = domChecker({
  id: 'MAP-SG-SEGMENTS',
  statement: 'A merged dma_map_sg returns 1 ≤ count ≤ nents segments, ascending and disjoint inside one IOVA allocation, each a run of whole entries at their laid-out IOVAs, lengths summing to the entries\'; the rest read DMA_MAPPING_ERROR/0; when every aligned entry fits max_segment_size and the boundary, so does every segment.',
  clause: 'iommu.md §3.13 I-D10; §3.8',
  box: 'white',
}, (c) => {
  const out: string[] = [];
  for (const s of c.sgs) {
    const who = `dma_map_sg of "${s.m.dev}" at ${hex(s.m.iova)}`;
    if (s.count < 1 || s.count > s.ents.length) {
      out.push(`${who}: count ${s.count} for ${s.ents.length} entries`);
      continue;
    }
    for (let k = s.count; k < s.sg.length; k++) {
      if (s.sg[k]!.dma_address !== DMA_MAPPING_ERROR || s.sg[k]!.dma_length !== 0n) out.push(`${who}: entry ${k} beyond count ${s.count} reads ${hex(s.sg[k]!.dma_address)}/${hex(s.sg[k]!.dma_length)}`);
    }
    const total = s.ents.reduce((a, e) => a + e.length, 0n);
    const sum = s.sg.slice(0, s.count).reduce((a, e) => a + e.dma_length, 0n);
    if (sum !== total) out.push(`${who}: segments add up to ${hex(sum)} bytes, the entries to ${hex(total)}`);
    // After driver misuse (a tainted domain) the IOVA tree may hold what the misuse left, e.g. a
    // range freed from the middle of another allocation: its nodes no longer bound an allocation.
    const node = c.tainted ? undefined : c.st.view?.find_iova(s.m.lo);
    const end = node ? (node.pfn_hi + 1n) << c.st.shift : s.m.iova + s.m.len;
    for (let k = 0; k < s.count; k++) {
      const g = s.sg[k]!;
      if (g.dma_address < s.m.iova || g.dma_address + g.dma_length > end) out.push(`${who}: segment ${k} (${hex(g.dma_address)}+${hex(g.dma_length)}) leaves the allocation`);
      if (k > 0 && s.sg[k - 1]!.dma_address + s.sg[k - 1]!.dma_length > g.dma_address) out.push(`${who}: segment ${k} at ${hex(g.dma_address)} is not after segment ${k - 1}`);
    }
    const segs = segmentEntries(s);
    if (typeof segs === 'string') {
      out.push(`${who}: ${segs}`);
      continue;
    }
    segs.forEach((g, k) => {
      let at = s.sg[k]!.dma_address;
      for (let i = g.first; i < g.first + g.n; i++) {
        const slot = s.slots[i]!;
        const want = s.m.iova + slot.at + slot.off;
        if (at !== want) out.push(`${who}: entry ${i} sits at ${hex(at)} in segment ${k}, but the layout puts it at ${hex(want)}`);
        at += slot.length;
      }
    });
    const G = c.st.G;
    const fits = s.slots.every((sl) => alignUp(sl.length + sl.off, G) <= s.max_seg && (s.seg_mask === (1n << 64n) - 1n || alignUp(sl.length + sl.off, G) <= s.seg_mask + 1n));
    if (!fits) continue;
    for (let k = 0; k < s.count; k++) {
      const g = s.sg[k]!;
      if (g.dma_length > s.max_seg) out.push(`${who}: segment ${k} is ${hex(g.dma_length)} bytes, above max_segment_size ${hex(s.max_seg)}`);
      if ((g.dma_address & ~s.seg_mask) !== ((g.dma_address + g.dma_length - 1n) & ~s.seg_mask)) out.push(`${who}: segment ${k} (${hex(g.dma_address)}+${hex(g.dma_length)}) crosses the segment boundary ${hex(s.seg_mask)}`);
    }
  }
  return out;
});

// ---- G-4 --------------------------------------------------------------------------------------

export const QUIESCENCE: InvariantFactory = stateless({
  id: 'QUIESCENCE',
  statement: 'When model time has passed the flush-queue timeout since the last queue_iova, the flush queues are empty; right after the range caches were flushed (a failing allocation), they hold nothing, so the tree is only live, queued and reserved ranges.',
  clause: 'iommu.md §6.5 G-4; §3.4; §2.10 step 4',
  box: 'white',
}, (ctx) => {
  const ch = iommuChanges(ctx);
  const out: string[] = [];
  for (const d of ch.drained) {
    if (d.pending > 0) out.push(`domain "${d.st.name}": ${d.pending} entries still wait in the flush queue at ${ctx.platform.timers.now_ms} ms, though the last was queued at ${d.since} ms and the timeout is ${d.st.dd!.fq!.timeout_ms} ms`);
  }
  for (const c of ch.doms) {
    if (c.cacheFlush === undefined || c.tainted) continue;
    const n = c.st.cachedCount();
    if (n > c.cacheFlush) out.push(`domain "${c.st.name}": the range caches were flushed but hold ${n} pfns`);
  }
  return out;
});

export const DMA_IOMMU_INVARIANTS: readonly InvariantFactory[] = [
  DMA_IOMMU_TRANSLATES, DMA_IOMMU_OFFSET, DMA_IOMMU_NO_SHARED_GRANULE, STRICT_UNMAP_REVOKES, LAZY_NO_REUSE_BEFORE_FLUSH,
  FQ_BOUNDED, DMA_IOMMU_HANDLE_IN_LIMIT, PCI_32BIT_STICKY, MAP_SG_SEGMENTS, QUIESCENCE,
];
