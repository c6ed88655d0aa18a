/**
 * IOMMU core invariants (iommu.md §4.10 I-C1..I-C5; I-C4 is STRICT-UNMAP-REVOKES
 * in dma-iommu.ts), for the iommu_* ops called directly on any domain. The
 * checkers hold each op to a flat interval model of the translations
 * (iommu-ranges.ts TranslationMap, kept by iommu-tracker.ts from the ops'
 * arguments and results) over the op's own range: O(log n + leaves in range).
 */
import { min_pagesz } from '../iommu/iommu';
import type { PtRange } from './iommu-events';
import { pgsizeChoice } from './iommu-expect';
import { hex } from './iommu-ranges';
import { domChecker } from './iova';

const span = (r: PtRange): string => `[${hex(r.start)}, ${hex(r.end)})`;

// ---- I-C1 -------------------------------------------------------------------------------------

export const IOMMU_TRANSLATION = domChecker({
  id: 'IOMMU-TRANSLATION',
  statement: 'iommu_iova_to_phys is non-zero exactly where a leaf covers the IOVA and then equals leaf base + offset, which is what the ops mapped there (IDENTITY: the IOVA itself; BLOCKED: 0).',
  clause: 'iommu.md §4.10 I-C1; §4.8',
  box: 'white',
}, (c) => {
  const out: string[] = [];
  const paging = c.st.pgtable !== undefined;
  for (const l of c.lookups) {
    if (paging && l.got !== l.leaf) out.push(`iommu_iova_to_phys(${hex(l.iova)}) = ${hex(l.got)}, but the leaves give ${hex(l.leaf)}`);
    else if (l.want !== undefined && l.got !== l.want) out.push(`iommu_iova_to_phys(${hex(l.iova)}) = ${hex(l.got)}, expected ${hex(l.want)}`);
  }
  return out;
});

// ---- I-C2 -------------------------------------------------------------------------------------

export const IOMMU_MAP_ALL_OR_NOTHING = domChecker({
  id: 'IOMMU-MAP-ALL-OR-NOTHING',
  statement: 'A successful iommu_map(i, p, s) makes i + k translate to p + k for every k < s (iommu_map_sg: the mapped bytes to the entries in order); a failed one leaves every translation in the range as it was, except when the kernel tore down a table under a block it then could not install (§5.3).',
  clause: 'iommu.md §4.10 I-C2; §4.4; §4.7',
  box: 'white',
}, (c) => {
  const out: string[] = [];
  for (const r of c.pt) {
    if ((r.why !== 'iommu_map' && r.why !== 'iommu_map_sg') || !r.diff || r.edgeCase) continue;
    for (const d of r.diff) if (d.kind !== 'prot') out.push(`${r.ok ? 'after' : 'after a failed'} ${r.why} of ${span(r)}: ${d.message}`);
  }
  return out;
});

// ---- I-C3 -------------------------------------------------------------------------------------

export const IOMMU_UNMAP_EXACT = domChecker({
  id: 'IOMMU-UNMAP-EXACT',
  statement: 'iommu_unmap(i, s) returns r ≤ s, a multiple of the smallest page; nothing in [i, i + r) translates afterwards and everything else in [i, i + s) translates as before.',
  clause: 'iommu.md §4.10 I-C3; §4.5',
  box: 'white',
}, (c) => {
  const out: string[] = [];
  const min = c.st.dd && c.st.dd.domain.pgsize_bitmap ? min_pagesz(c.st.dd.domain.pgsize_bitmap) : 1n;
  for (const r of c.pt) {
    if (r.why !== 'iommu_unmap') continue;
    const got = r.unmapped ?? 0n;
    if (got > (r.size ?? 0n)) out.push(`iommu_unmap of ${span(r)} reported ${hex(got)} bytes, more than asked`);
    if (got % min !== 0n) out.push(`iommu_unmap of ${span(r)} reported ${hex(got)} bytes, not a multiple of ${hex(min)}`);
    const cut = r.start + got;
    const left = cut > r.start ? r.leaves.find((l) => l.iova < cut && l.iova + l.size > r.start) : undefined;
    if (left) out.push(`iommu_unmap of ${span(r)} reported ${hex(got)} bytes, but IOVA ${hex(left.iova > r.start ? left.iova : r.start)} still translates to ${hex(left.paddr)}+`);
    for (const d of r.diff ?? []) if (d.at >= cut && d.kind !== 'prot') out.push(`iommu_unmap of ${span(r)} (${hex(got)} bytes): ${d.message}`);
  }
  return out;
});

// ---- I-C5 -------------------------------------------------------------------------------------

export const IOMMU_PGSIZE_VALID = domChecker({
  id: 'IOMMU-PGSIZE-VALID',
  statement: 'Every map_pages call of an iommu_map uses a page size from the bitmap and exactly the (pgsize, count) iommu_pgsize\'s rules give for the addresses and length left (the largest size alignment and length allow, stopping where a larger page could start).',
  clause: 'iommu.md §4.10 I-C5; §4.3',
  box: 'white',
}, (c) => {
  const d = c.st.dd?.domain;
  if (!d || !c.mapCalls) return [];
  const got = d.stats.last_map_pages;
  const calls = c.mapCalls.slice(c.st.dma && c.maps.some((e) => e.m.kind === 'sg-entry') ? -1 : 0);
  // A map_pages call never crosses a table (iommu.md §5.3): it maps at most the entries left in it.
  const ptes = (c.st.pgView?.granule ?? 4096n) / 8n;
  const want: { pgsize: bigint; count: bigint }[] = [];
  for (const k of calls) {
    let { iova, paddr, size } = k;
    while (size > 0n) {
      const ch = pgsizeChoice(d.pgsize_bitmap, iova, paddr, size);
      if (!ch) break;
      const left = ptes - ((iova / ch.pgsize) % ptes);
      const n = ch.pgsize * (ch.count < left ? ch.count : left);
      want.push(ch);
      iova += n;
      paddr += n;
      size -= n;
    }
  }
  const out: string[] = [];
  got.forEach((g, i) => {
    if ((g.pgsize & d.pgsize_bitmap) !== g.pgsize || g.pgsize === 0n) out.push(`map_pages call ${i} used page size ${hex(g.pgsize)}, not in the bitmap ${hex(d.pgsize_bitmap)}`);
    const w = want[i];
    if (w && (w.pgsize !== g.pgsize || w.count !== g.count)) out.push(`map_pages call ${i} was ${g.count} × ${hex(g.pgsize)}, iommu_pgsize gives ${w.count} × ${hex(w.pgsize)}`);
  });
  if (got.length > want.length) out.push(`${got.length} map_pages calls, iommu_pgsize gives ${want.length}`);
  return out.slice(0, 6);
});

export const IOMMU_INVARIANTS = [IOMMU_TRANSLATION, IOMMU_MAP_ALL_OR_NOTHING, IOMMU_UNMAP_EXACT, IOMMU_PGSIZE_VALID];
