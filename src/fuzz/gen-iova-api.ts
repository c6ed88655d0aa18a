/**
 * The IOVA-based two-step API (iommu.md §3.11, newest kernels only): an I/O is
 * try_alloc, back-to-back links and one sync; more links and unlinks follow.
 */
import { bytes, cpuArg, DATA_MAX, emit, linkedEnd, min, pickBuffer, pickDev, pickOf, plat, type Action } from './gen-core';
import { cpuFills, DIRS, mk } from './gen-vocab';

/**
 * An I/O through the IOVA-based API (iommu.md §3.11): try_alloc, links back to back
 * (the first may start part-way into a granule with try_alloc's offset; the others
 * granule-aligned; only the last may end mid-granule), then one dma_iova_sync.
 */
export const iovaBegin: Action = (g) => {
  if (plat(g).linux !== 'newest') return false;
  const d = pickDev(g, (x) => x.shape.path === 'dma-iommu');
  if (!d) return false;
  const G = d.shape.granule;
  const dir = g.rng.pick(DIRS);
  // A bounced head keeps only min_align_mask of its offset: unaligned heads need min_align_mask >= G - 1 (§3.11 step 5).
  const bounces = d.shape.untrusted || (plat(g).arch === 'arm64' && !d.shape.coherent);
  const pad = (!bounces || d.shape.min_align_mask >= G - 1n) && g.rng.chance(0.4) ? g.rng.pick([0x200n, 0x234n, G / 2n]) % G : 0n;
  const links: { phys: bigint; size: bigint }[] = [];
  const count = 1 + g.rng.int(4);
  for (let i = 0; i < count; i++) {
    let size = G * BigInt(1 + g.rng.int(3)) - (i === 0 ? pad : 0n);
    if (i === count - 1 && g.rng.chance(0.4) && size > 1n) size -= 1n + g.rng.bigint(min(size - 1n, G - 1n));
    const buf = pickBuffer(g, d, size, dir, { align: G, offset: i === 0 ? pad : 0n });
    if (!buf) return false;
    links.push({ phys: buf.phys, size });
  }
  const total = links.reduce((a, l) => a + l.size, 0n);
  const state = g.st.fresh('io');
  const dev = d.shape.name;
  const cpu = cpuArg(g);
  emit(g, mk('dma_iova_try_alloc', { dev, state, phys: links[0]!.phys, size: total + G * BigInt(g.rng.int(2)), ...cpu }));
  let offset = 0n;
  for (const l of links) {
    if (cpuFills(dir) && g.rng.chance(0.5)) emit(g, mk('cpu_write', { phys: l.phys, data: bytes(g, min(l.size, DATA_MAX)) }));
    emit(g, mk('dma_iova_link', { dev, state, phys: l.phys, offset, size: l.size, dir, ...cpu }));
    offset += l.size;
  }
  emit(g, mk('dma_iova_sync', { dev, state, offset: 0n, size: total, ...cpu }));
  return true;
};


/** One more granule-aligned link after the last one (room permitting), synced. */
export const iovaLinkMore: Action = (g) => {
  const r = pickOf(g, g.st.liveOf('iova').filter((x) => {
    const end = linkedEnd(x);
    return end !== undefined && (x.pad + end) % x.granule === 0n && x.size - end >= x.granule;
  }));
  const d = r && g.st.devices.get(r.dev);
  if (!r || !d) return false;
  const end = linkedEnd(r)!;
  const size = r.granule;
  const buf = pickBuffer(g, d, size, r.dir, { align: r.granule, offset: 0n });
  if (!buf) return false;
  emit(g, mk('dma_iova_link', { dev: r.dev, state: r.h, phys: buf.phys, offset: end, size, dir: r.dir }));
  emit(g, mk('dma_iova_sync', { dev: r.dev, state: r.h, offset: end, size }));
  return true;
};

export const iovaUnlinkLast: Action = (g) => {
  const r = pickOf(g, g.st.liveOf('iova').filter((x) => x.links.length > 1));
  if (!r) return false;
  const last = r.links.reduce((a, b) => (b.offset > a.offset ? b : a));
  emit(g, mk('dma_iova_unlink', { dev: r.dev, state: r.h, offset: last.offset, size: last.size, dir: r.dir }));
  return true;
};
