/**
 * The live bounce buffers, derived from the op stream, for the swiotlb
 * checkers (white-box: it reads the pool bounds and the device's
 * min_align_mask). From each op it works out which slots the op should have
 * allocated or released, so a checker looks at those slots only (O(size of the
 * op)) instead of scanning the pool. The slot counts come from the op's own
 * arguments (dma-core.md §4.2, §4.3), not from the model's slot array.
 *
 * When the driver breaks the rules the pool depends on (unmapping an address
 * that is no live bounce start, mapping the pool's own memory), the kernel
 * corrupts its free lists; the tracker then stops ("tainted") rather than
 * predict the corruption.
 *
 * model: bounces made by dma-iommu (untrusted devices) are not derived yet; an
 * op of a device behind an IOMMU that changes io_tlb_used stops the tracker too.
 */
import type { IoTlbMem } from '../dma/swiotlb';
import type { Platform } from '../platform';
import { toPhys } from './devices';
import type { AfterOp } from './invariant';
import { MMIO, REQUIRE_COHERENT, hex, isEngineRefusal, mappedBy, resultBig, unmappedBy } from './op-facts';
import { SweepingMap } from '../sweeping-map';
import { sharedShadow } from './shared';

export const IO_TLB_SIZE = 2048;
export const IO_TLB_SEGSIZE = 128;
const U32 = 0xffffffffn;

/** One live bounce buffer. */
export interface Bounce {
  readonly dev: string;
  readonly tlb: bigint;
  readonly orig: bigint;
  /** mapping_size */
  readonly size: bigint;
  /** ALIGN(mapping_size + offset, alloc_align_mask + 1): the bytes the slot search asked for */
  readonly alloc_size: bigint;
  /** first slot, padding slots included */
  readonly first: number;
  readonly nslots: number;
  readonly pad: number;
  /** swiotlb_align_offset(dev, alloc_align_mask, orig) before `&= IO_TLB_SIZE - 1` */
  readonly offset: number;
  readonly alloc_align_mask: number;
  readonly min_align_mask: number;
  readonly boundary_mask: bigint;
  /** from swiotlb_tbl_map_single directly, not through a DMA API map */
  readonly raw: boolean;
}

export interface SlotChanges {
  readonly added: readonly Bounce[];
  readonly removed: readonly Bounce[];
  /** added bounces whose slots were already held by a live bounce */
  readonly overlapping: readonly Bounce[];
}

const nrSlots = (bytes: bigint): number => Number((bytes + BigInt(IO_TLB_SIZE - 1)) >> 11n);

export class SwiotlbTracker {
  readonly live = new SweepingMap<bigint, Bounce>();
  private readonly owner = new SweepingMap<number, Bounce>();
  /** Σ nslots of live bounces: what io_tlb_used should read. */
  total = 0;
  tainted: string | null = null;
  private used = 0;

  /** Updates the live set from one op; null when there is no pool or the tracker has stopped. */
  observe({ op, result, platform: p }: AfterOp): SlotChanges | null {
    const pool = p.swiotlb;
    if (!pool || pool.nslabs === 0 || this.tainted) return null;
    const used = this.used;
    this.used = pool.stats.total_used;
    const viaIommu = 'dev' in op && typeof op.dev === 'string' && (p.devices.get(op.dev)?.iommu ?? null) !== null;
    if (viaIommu && used !== this.used) return this.taint(`${op.op} of "${op.dev}" bounced through dma-iommu`);
    if (isEngineRefusal(result) || viaIommu) return { added: [], removed: [], overlapping: [] };
    const added: Bounce[] = [];
    const removed: Bounce[] = [];
    for (const m of mappedBy(op, result)) {
      if (m.kind === 'resource' || (m.attrs & MMIO) !== 0) continue;
      const dev = p.devices.get(m.dev);
      const tlb = toPhys(dev, m.dma);
      if (!dev || !pool.is_swiotlb_buffer(tlb)) continue;
      if (pool.is_swiotlb_buffer(m.phys)) return this.taint(`${op.op} mapped swiotlb memory itself (${hex(m.phys)})`);
      added.push(this.bounce(pool, p, m.dev, tlb, m.phys, m.size, 0, false));
    }
    if (op.op === 'swiotlb_tbl_map_single') {
      const tlb = resultBig(result, 'tlb_addr');
      if (tlb !== undefined) added.push(this.bounce(pool, p, op.dev, tlb, op.phys, op.size, Number((op.alloc_align_mask ?? 0n) & U32), true));
    }
    for (const u of unmappedBy(op)) {
      // dma_direct_unmap_phys returns at once for these; resources never bounce (§2.7).
      if (u.kind === 'resource' || (u.attrs & (MMIO | REQUIRE_COHERENT)) !== 0) continue;
      const tlb = toPhys(p.devices.get(u.dev), u.dma);
      if (!pool.is_swiotlb_buffer(tlb)) continue;
      const b = this.live.get(tlb);
      if (!b || b.dev !== u.dev || b.raw) return this.taint(`${op.op} of ${hex(u.dma)}, which is no live bounce of "${u.dev}"`);
      removed.push(b);
    }
    if (op.op === 'swiotlb_tbl_unmap_single' && pool.is_swiotlb_buffer(op.tlb_addr)) {
      const b = this.live.get(op.tlb_addr);
      if (!b || b.dev !== op.dev) return this.taint(`swiotlb_tbl_unmap_single of ${hex(op.tlb_addr)}, which is no live bounce`);
      removed.push(b);
    }
    for (const b of removed) {
      this.live.delete(b.tlb);
      for (let i = b.first; i < b.first + b.nslots; i++) if (this.owner.get(i) === b) this.owner.delete(i);
      this.total -= b.nslots;
    }
    const overlapping: Bounce[] = [];
    for (const b of added) {
      let clash = false;
      for (let i = b.first; i < b.first + b.nslots; i++) {
        if (this.owner.has(i)) clash = true;
        this.owner.set(i, b);
      }
      if (clash) overlapping.push(b);
      this.live.set(b.tlb, b);
      this.total += b.nslots;
    }
    return { added, removed, overlapping };
  }

  /** The live bounce holding slot i, if any. */
  ownerOf(i: number): Bounce | undefined {
    return this.owner.get(i);
  }

  private taint(why: string): null {
    this.tainted = why;
    return null;
  }

  /** The slots a map should take, from its arguments (§4.2 offsets and sizes, §4.3 steps 4-8). */
  private bounce(pool: IoTlbMem, p: Platform, devName: string, tlb: bigint, orig: bigint, size: bigint, alloc_align_mask: number, raw: boolean): Bounce {
    const dev = p.devices.get(devName);
    const min_align_mask = Number((dev?.min_align_mask ?? 0n) & U32);
    const offset = (Number(orig & U32) & min_align_mask & (alloc_align_mask | (IO_TLB_SIZE - 1))) >>> 0;
    const a = BigInt((alloc_align_mask + 1) >>> 0) || 1n;
    const total = ((size + BigInt(offset) + a - 1n) / a) * a;
    const pad = offset >>> 11;
    const index = Number((tlb - BigInt(offset & (IO_TLB_SIZE - 1)) - pool.start) >> 11n);
    const boundary_mask = !dev || dev.segment_boundary_mask === 0n ? (1n << 64n) - 1n : dev.segment_boundary_mask;
    return { dev: devName, tlb, orig, size, alloc_size: total, first: index - pad, nslots: nrSlots(total), pad, offset, alloc_align_mask, min_align_mask, boundary_mask, raw };
  }
}

/** The one tracker of a Platform and what the current op changed (null: no pool, or stopped); shared by every swiotlb checker. */
export const swiotlbChanges = sharedShadow(() => new SwiotlbTracker(), (t, ctx) => t.observe(ctx));
