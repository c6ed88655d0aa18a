/**
 * What dma-debug's ledger should hold, rebuilt from the op stream
 * (dma-core.md §6.1, §6.2, §6.4): one entry per successful map, mapped sg
 * segment, coherent allocation (dma_pool pages included), removed by the
 * unmap/free whose lookup finds it. The lookup is bucket_find_exact's best fit:
 * a perfect (size, type, direction, sg_call_ents) match, else the only
 * candidate, else nothing. White-box only in that it keys entries by the
 * model's device objects and reads dma_pool views for the pages pools allocate.
 */
import type { Device, DmaDirection } from '../dma/types';
import type { Platform } from '../platform';
import type { AfterOp } from './invariant';
import { hasWarning, isEngineRefusal, isSingleMap, mappedBy, resultBig, unmappedBy } from './op-facts';
import { SweepingMap } from '../sweeping-map';

interface Entry {
  readonly size: bigint;
  readonly type: string;
  readonly dir: DmaDirection;
  readonly sg_call_ents: number;
  readonly sg_mapped_ents: number;
}

type Ref = Omit<Entry, 'sg_mapped_ents'>;

interface PoolSnap {
  readonly dev: Device;
  readonly allocation: bigint;
  pages: { dma: bigint }[];
  nr_active: number;
}

export class LedgerShadow {
  private readonly byDev = new Map<Device, SweepingMap<bigint, Entry[]>>();
  private readonly pools = new Map<string, PoolSnap>();
  count = 0;

  observe({ op, result, platform: p }: AfterOp): void {
    if (isEngineRefusal(result)) return;
    const newest = p.linux === 'newest';
    const dev = 'dev' in op && typeof op.dev === 'string' ? p.devices.get(op.dev) : undefined;
    if (dev && isSingleMap(op)) {
      const dma = resultBig(result, 'dma_addr');
      const resource = op.op === 'dma_map_resource';
      // 6.12 records a failed dma_map_resource with the error value as address (§6.2).
      if (dma !== undefined) this.add(dev, dma, { size: op.size, type: newest ? 'phy' : resource ? 'resource' : 'single', dir: op.dir, sg_call_ents: 0, sg_mapped_ents: 0 });
      else if (resource && !newest && !result.ok && !hasWarning(result, 'WARN_NO_DMA_MASK')) {
        this.add(dev, (1n << 64n) - 1n, { size: op.size, type: 'resource', dir: op.dir, sg_call_ents: 0, sg_mapped_ents: 0 });
      }
    }
    if (dev && (op.op === 'dma_map_sg' || op.op === 'dma_map_sgtable')) {
      const ms = mappedBy(op, result);
      for (const m of ms) this.add(dev, m.dma, { size: m.size, type: 'scatter-gather', dir: m.dir, sg_call_ents: m.nents, sg_mapped_ents: ms.length });
    }
    if (dev) {
      const us = unmappedBy(op);
      if (us.length && us[0]!.kind === 'sg') {
        // debug_dma_unmap_sg: entry 0 tells how many were mapped; later ones are checked while i < that.
        let mapped = 0;
        for (const [i, u] of us.entries()) {
          if (mapped !== 0 && i >= mapped) break;
          const ref: Ref = { size: u.size, type: 'scatter-gather', dir: u.dir, sg_call_ents: u.nents };
          if (i === 0) mapped = this.find(dev, u.dma, ref)?.sg_mapped_ents ?? 0;
          this.remove(dev, u.dma, ref);
        }
      } else {
        for (const u of us) {
          const mmioPage = op.op === 'dma_unmap_page' && (u.attrs & (1 << 10)) !== 0;
          if (!mmioPage) this.remove(dev, u.dma, { size: u.size, type: newest ? 'phy' : u.kind === 'resource' ? 'resource' : 'single', dir: u.dir, sg_call_ents: 0 });
        }
      }
    }
    switch (op.op) {
      case 'dma_alloc_coherent': {
        const dma = resultBig(result, 'dma_addr');
        if (dev && dma !== undefined) this.add(dev, dma, { size: op.size, type: 'coherent', dir: 'DMA_BIDIRECTIONAL', sg_call_ents: 0, sg_mapped_ents: 0 });
        break;
      }
      case 'dma_free_coherent':
        if (dev && op.cpu_addr !== 0n) this.remove(dev, op.dma_addr, { size: op.size, type: 'coherent', dir: 'DMA_BIDIRECTIONAL', sg_call_ents: 0 });
        break;
      case 'dma_pool_create': case 'dma_pool_alloc': case 'dma_pool_free':
        this.poolOp(p, op.op === 'dma_pool_create' ? op.name : op.pool);
        break;
      case 'dma_pool_destroy': {
        const s = this.pools.get(op.pool);
        // A busy pool leaks its pages (R8); an idle one frees each through dma_free_coherent.
        if (s && s.nr_active === 0) for (const pg of s.pages) this.remove(s.dev, pg.dma, { size: s.allocation, type: 'coherent', dir: 'DMA_BIDIRECTIONAL', sg_call_ents: 0 });
        this.pools.delete(op.pool);
        break;
      }
      default:
    }
  }

  /** A new page of a dma_pool is a coherent allocation of pool->allocation bytes. */
  private poolOp(p: Platform, name: string): void {
    const pool = p.pools.get(name);
    if (!pool) return;
    const v = pool.view;
    const s = this.pools.get(name) ?? { dev: pool.dev, allocation: v.allocation, pages: [], nr_active: 0 };
    for (const pg of v.pages.slice(0, v.nr_pages - s.pages.length)) {
      this.add(pool.dev, pg.dma_addr, { size: v.allocation, type: 'coherent', dir: 'DMA_BIDIRECTIONAL', sg_call_ents: 0, sg_mapped_ents: 0 });
    }
    s.pages = v.pages.map((pg) => ({ dma: pg.dma_addr }));
    s.nr_active = v.nr_active;
    this.pools.set(name, s);
  }

  private add(dev: Device, addr: bigint, e: Entry): void {
    let m = this.byDev.get(dev);
    if (!m) this.byDev.set(dev, (m = new SweepingMap()));
    m.set(addr, [...(m.get(addr) ?? []), e]);
    this.count++;
  }

  /** bucket_find_exact's best fit (__hash_bucket_find). */
  private find(dev: Device, addr: bigint, ref: Ref): Entry | undefined {
    const c = this.byDev.get(dev)?.get(addr) ?? [];
    let best: Entry | undefined;
    let lvl = -1;
    for (const e of c) {
      const l = (e.size === ref.size ? 1 : 0) + (e.type === ref.type ? 1 : 0) + (e.dir === ref.dir ? 1 : 0) + (e.sg_call_ents === ref.sg_call_ents ? 1 : 0);
      if (l === 4) return e;
      if (l > lvl) {
        lvl = l;
        best = e;
      }
    }
    return c.length === 1 ? best : undefined;
  }

  private remove(dev: Device, addr: bigint, ref: Ref): void {
    const e = this.find(dev, addr, ref);
    if (!e) return;
    const m = this.byDev.get(dev)!;
    const rest = m.get(addr)!.filter((x) => x !== e);
    if (rest.length) m.set(addr, rest);
    else m.delete(addr);
    this.count--;
  }
}
