/**
 * Scatter-gather maps: entries in runs of physically contiguous pieces (merge
 * candidates under an IOMMU) that share no cache line and cross no segment
 * boundary.
 */
import { physToDma } from './platforms';
import type { DevState, Seg } from './gen-state';
import { bytes, cpuArg, DATA_MAX, emit, min, pickBuffer, pickDev, plat, type Action, type Gen } from './gen-core';
import { cpuFills, DIRS, mk, roundUp, type Dir } from './gen-vocab';

/** An sg entry length: granule multiples (they merge under an IOMMU), slots and odd tails, within max_segment_size. */
function sgLength(g: Gen, d: DevState): bigint {
  const len = g.rng.chance(0.6) ? d.shape.granule * BigInt(1 + g.rng.int(3)) : g.rng.pick([512n, 1500n, 2048n, 4096n, 0x3000n, 0x8000n, 0x1_0000n]);
  return len > d.shape.max_segment_size ? d.shape.max_segment_size : len;
}

/** ARCH_DMA_MINALIGN or the cache line, whichever is larger: the unit two buffers must not share. */
const minAlign = (g: Gen): bigint => (plat(g).cache_line > 128n ? plat(g).cache_line : 128n);

/**
 * dma-debug check 20/21: no DMA segment may cross the segment boundary. dma-iommu lays
 * entries out around it, but one entry keeps its offset in the granule, so that plus its
 * length must fit; dma-direct keeps the entry's own DMA address.
 */
function crossesBoundary(d: DevState, phys: bigint, len: bigint): boolean {
  const m = d.shape.segment_boundary_mask;
  if (d.shape.path === 'dma-iommu') return (phys & (d.shape.granule - 1n)) + len > m + 1n;
  const dma = physToDma(d.shape, phys) ?? phys;
  return (dma | m) !== ((dma + len - 1n) | m);
}

/** Runs of physically contiguous entries (merge candidates), 1–6 entries in all. */
function sgEntries(g: Gen, d: DevState, dir: Dir): Seg[] {
  const ents: Seg[] = [];
  for (let run = 1 + g.rng.int(3); run > 0; run--) {
    // Entries of a run share no cache line (dma-debug's overlap check): aligned start, inner lengths in whole lines.
    const k = 1 + g.rng.int(2);
    const lens = Array.from({ length: k }, (_, i) => (i < k - 1 ? roundUp(sgLength(g, d), minAlign(g)) : sgLength(g, d)));
    const total = lens.reduce((a, b) => a + b, 0n);
    const buf = pickBuffer(g, d, total, dir, k > 1 ? { align: plat(g).page_size, offset: 0n } : {});
    if (!buf || ents.some((e) => e.phys < buf.phys + total && buf.phys < e.phys + e.length)) continue;
    let at = buf.phys;
    for (const length of lens) {
      if (!crossesBoundary(d, at, length) && g.st.bounceBytes(d, at, length, dir) >= 0n) ents.push({ phys: at, length });
      at += length;
    }
  }
  return ents;
}

export const mapSg: Action = (g) => {
  const d = pickDev(g);
  if (!d) return false;
  const dir = g.rng.pick(DIRS);
  const ents = sgEntries(g, d, dir);
  if (ents.length === 0) return false;
  if (cpuFills(dir)) for (const e of ents.slice(0, 2)) emit(g, mk('cpu_write', { phys: e.phys, data: bytes(g, min(e.length, DATA_MAX)) }));
  const fn = g.rng.chance(0.3) ? 'dma_map_sgtable' : 'dma_map_sg';
  emit(g, mk(fn, { dev: d.shape.name, sg: ents.map((e) => ({ phys: e.phys, length: e.length })), dir, ...cpuArg(g), as: g.st.fresh('s') }));
  return true;
};
