/**
 * ARM LPAE page-table invariants (iommu.md §5.9 I-P1..I-P6), over the leaves
 * under the range each op touched (a dma-iommu mapping's node, an iommu_map or
 * iommu_unmap range, the blocks around a 6.12 split): the view's leaves_in walk
 * costs O(tables on the way + leaves found), never the whole table.
 */
import { IOMMU_READ, IOMMU_WRITE, type PgtableLeaf } from '../iommu/io-pgtable';
import { ARM_LPAE_PTE_AP_RDONLY, type ArmLpaeLeaf } from '../iommu/io-pgtable-arm';
import type { DomChange } from './iommu-events';
import { hex } from './iommu-ranges';
import { domChecker } from './iova';

/** Every leaf the op's ranges met, once. */
function leavesOf(c: DomChange): ArmLpaeLeaf[] {
  const seen = new Set<PgtableLeaf>();
  for (const r of c.pt) for (const l of r.leaves) seen.add(l);
  return [...seen] as ArmLpaeLeaf[];
}

const leaf = (l: PgtableLeaf): string => `leaf ${hex(l.iova)}+${hex(l.size)} → ${hex(l.paddr)} (level ${l.level})`;

type PgView = NonNullable<DomChange['st']['pgView']>;

/** A checker judging each leaf the op's ranges met, against the domain's table geometry. */
function leafChecker(info: Parameters<typeof domChecker>[0], check: (l: ArmLpaeLeaf, v: PgView, out: string[]) => void): ReturnType<typeof domChecker> {
  return domChecker(info, (c) => {
    const v = c.st.pgView;
    if (!v) return [];
    const out: string[] = [];
    for (const l of leavesOf(c)) check(l, v, out);
    return out;
  });
}

// ---- I-P1 / I-P3 ------------------------------------------------------------------------------

export const PGTABLE_MATCHES_MAPPINGS = domChecker({
  id: 'PGTABLE-MATCHES-MAPPINGS',
  statement: 'Under every range an op touched, the leaves translate exactly the live mappings (dma-iommu mappings, or what iommu_map/iommu_unmap left), to the same physical addresses with the same prot, and no two leaves cover one IOVA.',
  clause: 'iommu.md §5.9 I-P1, I-P3; §3.13 I-D11; §4.10 I-C1',
  box: 'white',
}, (c) => {
  const out: string[] = [];
  for (const r of c.pt) {
    for (let i = 1; i < r.leaves.length; i++) {
      const a = r.leaves[i - 1]!;
      const b = r.leaves[i]!;
      if (a.iova + a.size > b.iova) out.push(`${leaf(a)} and ${leaf(b)} overlap`);
    }
    if (!r.diff || r.edgeCase || r.why === 'split-window') continue;
    for (const d of r.diff) out.push(`${r.why} [${hex(r.start)}, ${hex(r.end)}): ${d.message}`);
  }
  return out;
});

// ---- I-P2 -------------------------------------------------------------------------------------

export const PGTABLE_ALIGNED = leafChecker({
  id: 'PGTABLE-ALIGNED',
  statement: 'A leaf is one of the bitmap\'s sizes, the block size of its level, and aligned to it in IOVA and in physical address.',
  clause: 'iommu.md §5.9 I-P2; §5.1',
  box: 'white',
}, (l, v, out) => {
  if (l.size !== v.block_size(l.level) || (l.size & v.pgsize_bitmap) !== l.size) out.push(`${leaf(l)}: size is not level ${l.level}'s block size ${hex(v.block_size(l.level))} or not in the bitmap`);
  if (l.iova % l.size !== 0n || l.paddr % l.size !== 0n) out.push(`${leaf(l)} is not aligned to its size`);
});

// ---- I-P4 -------------------------------------------------------------------------------------

export const PGTABLE_IN_RANGE = leafChecker({
  id: 'PGTABLE-IN-RANGE',
  statement: 'No leaf maps IOVA at or above 2^ias, nor output addresses at or above 2^oas.',
  clause: 'iommu.md §5.9 I-P4; §5.3 step 1',
  box: 'white',
}, (l, v, out) => {
  if (l.iova + l.size > 1n << BigInt(v.ias)) out.push(`${leaf(l)} reaches past the ${v.ias}-bit input range`);
  if (l.paddr + l.size > 1n << BigInt(v.oas)) out.push(`${leaf(l)} reaches past the ${v.oas}-bit output range`);
});

// ---- I-P5 -------------------------------------------------------------------------------------

export const PGTABLE_PERMS = domChecker({
  id: 'PGTABLE-PERMS',
  statement: 'Every leaf was mapped with READ or WRITE; its read-only bit (AP[2]) is set exactly when prot had READ without WRITE, and the device may read it always and write it exactly when that bit is clear (stage 1 cannot say write-only).',
  clause: 'iommu.md §5.9 I-P5; §5.4',
  box: 'white',
}, (c) => {
  const out: string[] = [];
  for (const l of leavesOf(c)) {
    const rw = l.prot & (IOMMU_READ | IOMMU_WRITE);
    if (rw === 0) out.push(`${leaf(l)} has prot ${hex(BigInt(l.prot))} without READ or WRITE`);
    const ro = (l.pte & ARM_LPAE_PTE_AP_RDONLY) !== 0n;
    const wantRo = rw === IOMMU_READ;
    if (ro !== wantRo) out.push(`${leaf(l)}: AP[2] read-only is ${ro ? 'set' : 'clear'} for prot ${hex(BigInt(l.prot))}`);
    if (!l.perms.read || l.perms.write === ro) out.push(`${leaf(l)}: the device may ${l.perms.read ? '' : 'not '}read and ${l.perms.write ? '' : 'not '}write, against AP[2] ${ro ? 'set' : 'clear'}`);
  }
  return out;
});

// ---- I-P6 -------------------------------------------------------------------------------------

export const PGTABLE_WHOLE_LEAVES = domChecker({
  id: 'PGTABLE-WHOLE-LEAVES',
  statement: 'A partial unmap of a block changes the translations only inside the range it reports: 6.12 splits the block and the rest translates exactly as before; newest refuses with 0 and changes nothing.',
  clause: 'iommu.md §5.9 I-P6; §5.5; §0.4',
  box: 'white',
}, (c) => {
  const out: string[] = [];
  for (const r of c.pt) {
    if (r.why !== 'split-window' || !r.diff) continue;
    const lo = r.opStart ?? r.start;
    const hi = lo + (r.unmapped ?? 0n);
    for (const d of r.diff) if (d.at < lo || d.at >= hi) out.push(`unmap of ${hex(lo)}+${hex(r.size ?? 0n)} (${hex(r.unmapped ?? 0n)} reported) changed the block around it: ${d.message}`);
  }
  return out;
});

export const PGTABLE_INVARIANTS = [PGTABLE_MATCHES_MAPPINGS, PGTABLE_ALIGNED, PGTABLE_IN_RANGE, PGTABLE_PERMS, PGTABLE_WHOLE_LEAVES];
