/**
 * swiotlb invariants (dma-core.md §4.9 INV-S1..S8) and SWIOTLB-NO-LEAK of
 * DESIGN.md. White-box: they read the slot arrays through IoTlbMem.view, but
 * only the slots the op touched (SwiotlbTracker works them out from the op), so
 * each op costs O(slots it touched), never a scan of the pool.
 */
import type { IoTlbMem } from '../dma/swiotlb';
import type { Platform } from '../platform';
import { toDma } from './devices';
import type { AfterOp, InvariantChecker, InvariantFactory, InvariantInfo } from './invariant';
import { hex, isEngineRefusal, isSingleMap } from './op-facts';
import { IO_TLB_SEGSIZE, IO_TLB_SIZE, swiotlbChanges, type Bounce, type SlotChanges, type SwiotlbTracker } from './swiotlb-tracker';

const INVALID = (1n << 64n) - 1n;

/** A checker over the shared tracker's per-op changes; `state` is whatever else it keeps. */
function slotChecker<S>(info: InvariantInfo, init: () => S, check: (c: SlotChanges, ctx: AfterOp, t: SwiotlbTracker, s: S) => string[]): InvariantFactory {
  return {
    info,
    create(): InvariantChecker {
      const s = init();
      return { info, after: (ctx) => {
        const { shadow: t, result: c } = swiotlbChanges(ctx);
        return c ? check(c, ctx, t, s) : [];
      } };
    },
  };
}

/** Segments (of 128 slots) the op's bounces lie in. */
function touchedSegments(c: SlotChanges): Set<number> {
  const segs = new Set<number>();
  for (const b of [...c.added, ...c.removed]) {
    for (let s = Math.floor(b.first / IO_TLB_SEGSIZE); s <= Math.floor((b.first + b.nslots - 1) / IO_TLB_SEGSIZE); s++) segs.add(s);
  }
  return segs;
}

const where = (b: Bounce): string => `bounce ${hex(b.tlb)} of "${b.dev}" (slots ${b.first}..${b.first + b.nslots - 1})`;

// ---- INV-S1 -----------------------------------------------------------------------------------

export const SWIOTLB_LIST_CONSISTENT = slotChecker({
  id: 'SWIOTLB-LIST-CONSISTENT',
  statement: 'In every segment an op touches: 0 ≤ list[i] ≤ 128 − (i mod 128); list[i] = 0 exactly for slots of live bounces; a free slot counts itself plus the free run after it in its segment.',
  clause: 'dma-core.md §4.9 INV-S1',
  box: 'white',
}, () => null, (c, { platform: p }, t) => {
  const v = p.swiotlb!.view;
  const out: string[] = [];
  for (const seg of touchedSegments(c)) {
    const end = Math.min((seg + 1) * IO_TLB_SEGSIZE, v.nslabs);
    for (let i = seg * IO_TLB_SEGSIZE; i < end; i++) {
      const l = v.list[i]!;
      const held = t.ownerOf(i) !== undefined;
      const next = i + 1 < end ? v.list[i + 1]! : 0;
      const want = held ? 0 : next > 0 ? next + 1 : 1;
      if (l > Math.min(IO_TLB_SEGSIZE - (i % IO_TLB_SEGSIZE), v.nslabs - i)) out.push(`slot ${i}: list ${l} runs past its segment`);
      else if (l !== want) out.push(`slot ${i}: list ${l}, expected ${want} (${held ? 'held by a live bounce' : 'free'})`);
      if (out.length >= 4) return out;
    }
  }
  return out;
});

// ---- INV-S2 -----------------------------------------------------------------------------------

export const SWIOTLB_USED_COUNT = slotChecker({
  id: 'SWIOTLB-USED-COUNT',
  statement: 'Each area’s used count equals its slots with list = 0, and io_tlb_used equals their sum.',
  clause: 'dma-core.md §4.9 INV-S2',
  box: 'white',
}, () => ({ seg: new Map<number, number>(), area: new Map<number, number>(), total: 0 }), (c, { platform: p }, _t, s) => {
  const v = p.swiotlb!.view;
  const areas = new Set<number>();
  // Zero counts are kept per segment and refreshed for the segments the op touched.
  for (const seg of touchedSegments(c)) {
    let zeros = 0;
    for (let i = seg * IO_TLB_SEGSIZE; i < Math.min((seg + 1) * IO_TLB_SEGSIZE, v.nslabs); i++) if (v.list[i] === 0) zeros++;
    const d = zeros - (s.seg.get(seg) ?? 0);
    s.seg.set(seg, zeros);
    const a = Math.floor((seg * IO_TLB_SEGSIZE) / v.area_nslabs);
    s.area.set(a, (s.area.get(a) ?? 0) + d);
    s.total += d;
    areas.add(a);
  }
  const out: string[] = [];
  for (const a of areas) {
    if (v.area_used[a] !== s.area.get(a)) out.push(`area ${a}: used ${v.area_used[a]}, but ${s.area.get(a)} of its slots have list 0`);
  }
  if (v.total_used !== s.total) out.push(`io_tlb_used ${v.total_used}, but ${s.total} slots have list 0`);
  return out;
});

// ---- INV-S3 -----------------------------------------------------------------------------------

export const SWIOTLB_MAPPING_SLOTS = slotChecker({
  id: 'SWIOTLB-MAPPING-SLOTS',
  statement: 'A new bounce holds ceil((alloc_size[first] + offset) / 2048) allocated slots, as many as its size asks, inside one segment and one area, not across the device segment boundary, overlapping no live bounce, each slot recording its part of orig.',
  clause: 'dma-core.md §4.9 INV-S3; §4.2 step 7 (iommu_is_span_boundary)',
  box: 'white',
}, () => null, (c, { platform: p }) => {
  const pool = p.swiotlb!;
  const v = pool.view;
  const out: string[] = [];
  for (const b of c.overlapping) out.push(`${where(b)} overlaps a live bounce`);
  for (const b of c.added) {
    // What swiotlb_release_slots will read back (§4.6 steps 1-2).
    const off = Number(b.tlb & BigInt(b.min_align_mask & (IO_TLB_SIZE - 1)));
    const idx = Number((b.tlb - BigInt(off) - pool.start) >> 11n);
    const first = idx - (v.pad_slots[idx] ?? 0);
    const n = Number((((v.alloc_size[first] ?? 0n) + BigInt(off) + 2047n) & INVALID) >> 11n);
    if (first !== b.first || n !== b.nslots) out.push(`${where(b)}: the slot array says slots ${first}..${first + n - 1}`);
    if ((b.first % IO_TLB_SEGSIZE) + b.nslots > IO_TLB_SEGSIZE) out.push(`${where(b)} crosses a segment`);
    if (Math.floor(b.first / v.area_nslabs) !== Math.floor((b.first + b.nslots - 1) / v.area_nslabs)) out.push(`${where(b)} crosses an area`);
    for (let i = b.first; i < b.first + b.nslots; i++) if (v.list[i] !== 0) { out.push(`${where(b)}: slot ${i} is not allocated`); break; }
    for (let k = 0; k < b.nslots - b.pad; k++) {
      const want = b.orig + BigInt(k * IO_TLB_SIZE);
      if (v.orig_addr[b.first + b.pad + k] !== want) { out.push(`${where(b)}: slot ${b.first + b.pad + k} records orig ${hex(v.orig_addr[b.first + b.pad + k] ?? 0n)}, not ${hex(want)}`); break; }
    }
    const max_slots = (b.boundary_mask >> 11n) + 1n;
    const base = ((startDma(pool, p, b) & b.boundary_mask) + 2047n) >> 11n;
    if ((base + BigInt(b.first)) % max_slots + BigInt(b.nslots) > max_slots) out.push(`${where(b)} crosses the device segment boundary ${hex(b.boundary_mask)}`);
  }
  return out;
});

/** phys_to_dma_unencrypted(dev, pool->start). */
const startDma = (pool: IoTlbMem, p: Platform, b: Bounce): bigint => toDma(p.devices.get(b.dev), pool.start);

// ---- INV-S4 -----------------------------------------------------------------------------------

export const SWIOTLB_ALIGN = slotChecker({
  id: 'SWIOTLB-ALIGN',
  statement: 'tlb_addr & (alloc_align_mask | 2047) == offset, and the first slot’s DMA address is aligned to the allocation mask (page-aligned for a ≥ PAGE_SIZE map with no masks) and matches orig under min_align_mask.',
  clause: 'dma-core.md §4.9 INV-S4; §4.2 steps 3-7',
  box: 'white',
}, () => null, (c, { platform: p }) => {
  const pool = p.swiotlb!;
  const out: string[] = [];
  for (const b of c.added) {
    const low = Number(b.tlb & 0xffffffffn);
    if (((low & (b.alloc_align_mask | (IO_TLB_SIZE - 1))) >>> 0) !== (b.offset & (b.alloc_align_mask | (IO_TLB_SIZE - 1))) >>> 0) {
      out.push(`${where(b)}: low bits ${hex(b.tlb & 0x7ffn)} do not keep offset ${hex(BigInt(b.offset))}`);
    }
    // The search's postconditions on slot `first`, in DMA space and 32-bit masks as the kernel computes them.
    let align = b.alloc_align_mask;
    if (align === 0 && b.min_align_mask === 0 && b.alloc_size >= p.page_size) align = Number(p.page_size) - 1;
    align = (align | (IO_TLB_SIZE - 1)) >>> 0;
    const iotlb = (b.min_align_mask & ~align) >>> 0;
    const t = Number((((startDma(pool, p, b) & b.boundary_mask) + BigInt(b.first) * 2048n)) & 0xffffffffn);
    if (((t & align) >>> 0) !== 0) out.push(`${where(b)}: first slot at DMA ${hex(BigInt(t))} is not aligned to ${hex(BigInt(align))}`);
    if (b.orig !== 0n && ((t & iotlb) >>> 0) !== ((Number(b.orig & 0xffffffffn) & iotlb) >>> 0)) out.push(`${where(b)}: first slot DMA ${hex(BigInt(t))} differs from orig ${hex(b.orig)} under ${hex(BigInt(iotlb))}`);
  }
  return out;
});

// ---- INV-S5 -----------------------------------------------------------------------------------

export const SWIOTLB_BOUNCE_FILLED = slotChecker({
  id: 'SWIOTLB-BOUNCE-FILLED',
  statement: 'Right after a successful map, the bounce bytes [tlb, tlb + size) read as the original bytes (whatever the direction: CVE-2022-0854).',
  clause: 'dma-core.md §4.9 INV-S5; §4.3 step 9',
  box: 'white',
}, () => null, (c, { platform: p }) => {
  const out: string[] = [];
  for (const b of c.added) {
    const n = Number(b.size);
    const bounce = p.cache.peek(b.tlb, n);
    const orig = p.cache.peek(b.orig, n);
    if (Buffer.from(bounce.buffer, bounce.byteOffset, n).equals(Buffer.from(orig.buffer, orig.byteOffset, n))) continue; // native compare first
    let i = 0;
    while (i < n && bounce[i] === orig[i]) i++;
    if (i < n) out.push(`${where(b)}: byte ${i} is ${hex(BigInt(bounce[i]!))}, orig has ${hex(BigInt(orig[i]!))}`);
  }
  return out;
});

// ---- INV-S6 -----------------------------------------------------------------------------------

export const SWIOTLB_FREED_SLOTS_CLEAR = slotChecker({
  id: 'SWIOTLB-FREED-SLOTS-CLEAR',
  statement: 'After unmap every slot of the bounce is free with orig_addr INVALID_PHYS_ADDR, alloc_size 0 and pad_slots 0.',
  clause: 'dma-core.md §4.9 INV-S6; §4.6',
  box: 'white',
}, () => null, (c, { platform: p }) => {
  const v = p.swiotlb!.view;
  const out: string[] = [];
  for (const b of c.removed) {
    for (let i = b.first; i < b.first + b.nslots; i++) {
      if (v.list[i] === 0 || v.orig_addr[i] !== INVALID || v.alloc_size[i] !== 0n || v.pad_slots[i] !== 0) {
        out.push(`${where(b)} unmapped, but slot ${i} has list ${v.list[i]}, orig ${hex(v.orig_addr[i] ?? 0n)}, alloc_size ${v.alloc_size[i]}, pad ${v.pad_slots[i]}`);
        break;
      }
    }
  }
  return out;
});

// ---- INV-S7 -----------------------------------------------------------------------------------

/** Where the claim holds: segments line up with device boundaries (the swiotlb engineer's finding). */
function fitsClaimApplies(pool: IoTlbMem, p: Platform, devName: string): boolean {
  const d = p.devices.get(devName);
  if (!d) return false;
  const boundary = d.segment_boundary_mask === 0n ? INVALID : d.segment_boundary_mask;
  const m = d.min_align_mask & 0xffffffffn;
  const start = toDma(d, pool.start);
  return boundary >= 0x3ffffn && (m & (m + 1n)) === 0n && m < 0x40000n && start % 0x40000n === 0n;
}

export const SWIOTLB_MAX_MAPPING_FITS = slotChecker({
  id: 'SWIOTLB-MAX-MAPPING-FITS',
  statement: 'No bounce exceeds 128 slots, and on an empty pool every streaming map of at most swiotlb_max_mapping_size(dev) finds slots — for devices whose segment boundary is at least 256 KiB, whose min_align_mask is 2^k − 1 below 256 KiB, with the pool 256 KiB-aligned in DMA space (below that the claim is false: a boundary can split every segment).',
  clause: 'dma-core.md §4.9 INV-S7; §4.8 case 3',
  box: 'white',
}, () => ({ used: 0, failures: 0 }), (c, { op, result, platform: p }, _t, s) => {
  const pool = p.swiotlb!;
  const out: string[] = [];
  for (const b of c.added) if (b.nslots > IO_TLB_SEGSIZE) out.push(`${where(b)} takes ${b.nslots} slots, more than ${IO_TLB_SEGSIZE}`);
  const failed = pool.stats.failures > s.failures;
  const streaming = isSingleMap(op) || (op.op === 'swiotlb_tbl_map_single' && (op.alloc_align_mask ?? 0n) === 0n);
  if (failed && s.used === 0 && streaming && !result.ok && !isEngineRefusal(result) && 'dev' in op && fitsClaimApplies(pool, p, op.dev)) {
    const max = pool.swiotlb_max_mapping_size(p.devices.get(op.dev)!);
    if (op.size <= max) out.push(`${op.op} of ${op.size} bytes (≤ swiotlb_max_mapping_size ${max}) found no slots in an empty pool`);
  }
  s.used = pool.stats.total_used;
  s.failures = pool.stats.failures;
  return out;
});

// ---- INV-S8 -----------------------------------------------------------------------------------

export const SWIOTLB_FAILED_MAP_NO_CHANGE = slotChecker({
  id: 'SWIOTLB-FAILED-MAP-NO-CHANGE',
  statement: 'A failed map leaves io_tlb_used and every area’s used count as they were.',
  clause: 'dma-core.md §4.9 INV-S8',
  box: 'white',
}, () => ({ used: 0, areas: null as Float64Array | null }), (c, { op, result, platform: p }, _t, s) => {
  const v = p.swiotlb!.view;
  s.areas ??= Float64Array.from(v.area_used);
  const out: string[] = [];
  const map = isSingleMap(op) || op.op === 'swiotlb_tbl_map_single';
  if (map && !result.ok && !isEngineRefusal(result)) {
    if (v.total_used !== s.used) out.push(`${op.op} failed but io_tlb_used went ${s.used} → ${v.total_used}`);
    // O(nareas), on failed maps only; nareas is bounded by the CPU count, not by live mappings.
    for (let a = 0; a < v.nareas; a++) {
      if (v.area_used[a] !== s.areas[a]) out.push(`${op.op} failed but area ${a} used went ${s.areas[a]} → ${v.area_used[a]}`);
      s.areas[a] = v.area_used[a]!;
    }
  } else {
    for (const b of [...c.added, ...c.removed]) {
      const a = Math.floor(b.first / v.area_nslabs);
      s.areas[a] = v.area_used[a]!;
    }
  }
  s.used = v.total_used;
  return out;
});

// ---- SWIOTLB-NO-LEAK ----------------------------------------------------------------------------

export const SWIOTLB_NO_LEAK = slotChecker({
  id: 'SWIOTLB-NO-LEAK',
  statement: 'After every op, io_tlb_used equals the slots of the bounces the driver has mapped and not unmapped, counted from the map arguments.',
  clause: 'DESIGN.md Invariants; dma-core.md §4.2, §4.6',
  box: 'white',
}, () => null, (_c, { op, platform: p }, t) => {
  const used = p.swiotlb!.view.total_used;
  return used === t.total ? [] : [`after ${op.op}: io_tlb_used ${used}, but ${t.live.size} live bounces hold ${t.total} slots`];
});

export const SWIOTLB_INVARIANTS: readonly InvariantFactory[] = [
  SWIOTLB_LIST_CONSISTENT, SWIOTLB_USED_COUNT, SWIOTLB_MAPPING_SLOTS, SWIOTLB_ALIGN, SWIOTLB_BOUNCE_FILLED,
  SWIOTLB_FREED_SLOTS_CLEAR, SWIOTLB_MAX_MAPPING_FITS, SWIOTLB_FAILED_MAP_NO_CHANGE, SWIOTLB_NO_LEAK,
];
