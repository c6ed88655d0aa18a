/**
 * Stand-alone IOVA domains (iommu.md §2): the allocator alone, as a component
 * under test. Roomy domains get named allocations that cannot fail and frees
 * by handle; tight windows under the 32-bit boundary force failures, the retry
 * from the top and max32_alloc_size; pressure domains free a batch of fast
 * allocations into the range caches to fill magazines and the depot, then let
 * time trim it. gen-iova-state.ts says what keeps each call legal.
 */
import type { OpName } from '../ops/table';
import { can, cpuArg, emit, pickOf, plat, type Action, type Gen } from './gen-core';
import {
  fastPfns, IOVA_DOM_PREFIX, isUnowned, reserveLegal, safeAlloc, type IovaDomKind, type IovaDomState, type IovaLive,
} from './gen-iova-state';
import { mk, ref } from './gen-vocab';
import { weighted } from './rng';

/** At most this many domains per sequence (each pressure batch takes a fresh one). */
const MAX_DOMAINS = 6;
const GRANULES = [0x1000n, 0x4000n, 0x1_0000n];
/** Sizes around the range-cache classes (1..32 pfns cached, 33+ never) and the alignment steps. */
const SIZES = [1n, 1n, 2n, 3n, 4n, 5n, 7n, 8n, 9n, 15n, 16n, 17n, 31n, 32n, 33n, 63n, 64n, 65n, 127n, 128n, 129n, 255n, 256n, 1000n];
const MS = [1, 50, 99, 100, 101, 200, 1000];

/** log2 of a power-of-two granule: iova_shift. */
const shiftOf = (granule: bigint): bigint => BigInt(granule.toString(2).length - 1);

const doms = (g: Gen, ...kinds: IovaDomKind[]): IovaDomState[] =>
  [...g.st.iova.doms.values()].filter((d) => kinds.length === 0 || kinds.includes(d.kind));
const liveOf = (g: Gen, pred: (l: IovaLive) => boolean): IovaLive[] => [...g.st.iova.live.values()].filter(pred);

/** The limits that matter for @d: the 32-bit boundary (0xfffff on 4K), 48-bit, the domain's maximum, just above 4 GiB. */
function bigLimit(g: Gen, d: IovaDomState): bigint {
  const top48 = (1n << (48n - d.shift)) - 1n;
  return g.rng.pick([d.d32 - 1n, d.d32 - 1n, d.d32 - 1n, top48, top48, d.max, d.d32 + g.rng.bigint(d.d32)]);
}

const alignedArg = (g: Gen): { size_aligned?: boolean } => (g.rng.chance(0.15) ? { size_aligned: false } : g.rng.chance(0.3) ? { size_aligned: true } : {});
const flushArg = (g: Gen): { flush_rcache?: boolean } => (g.rng.chance(0.3) ? { flush_rcache: g.rng.chance(0.5) } : {});
const repeatArg = (n: number): { repeat?: number } => (n === 1 ? {} : { repeat: n });

/** Reservations made at set-up, when nothing is allocated yet (where dma-iommu makes them, §2.8). */
function earlyReserves(g: Gen, d: IovaDomState): void {
  for (let n = 1 + g.rng.int(3); n > 0; n--) {
    if (d.kind === 'tight') {
      const lo = d.start + g.rng.bigint(d.d32 - d.start);
      emit(g, mk('reserve_iova', { domain: d.name, pfn_lo: lo, pfn_hi: lo + g.rng.bigint(2n) }));
    } else {
      const lo = g.rng.pick([d.d32 - 0x100n, d.d32, d.d32 + 0x1000n, (1n << (40n - d.shift)), d.start + 0x10n]);
      const r = d.reserves.length > 0 && g.rng.chance(0.4) ? overlapping(g, g.rng.pick(d.reserves)) : { lo, hi: lo + g.rng.pick([0n, 1n, 0xfn, 0x3fn]) };
      if (reserveLegal(d, r.lo, r.hi)) emit(g, mk('reserve_iova', { domain: d.name, pfn_lo: r.lo, pfn_hi: r.hi }));
    }
  }
}

export const iovaInit: Action = (g) => {
  if (g.st.iova.doms.size >= MAX_DOMAINS - 1) return false;
  const granule = g.rng.pick(GRANULES.filter((x) => x <= plat(g).page_size));
  const d32 = 1n << (32n - shiftOf(granule));
  const kind: IovaDomKind = g.rng.chance(0.55) ? 'roomy' : 'tight';
  const start = kind === 'roomy' ? g.rng.pick([0n, 1n, 1n, 3n, 0x11n, 0x101n, 0x1001n]) : d32 - g.rng.pick([8n, 16n, 24n, 40n, 64n]) - g.rng.pick([0n, 0n, 1n]);
  const name = g.st.fresh(IOVA_DOM_PREFIX[kind]);
  emit(g, mk('init_iova_domain', { name, granule, start_pfn: start }));
  const d = g.st.iova.doms.get(name);
  if (d && can(g, 'reserve_iova') && g.rng.chance(0.5)) earlyReserves(g, d);
  return true;
};

/** A named allocation that cannot fail (safeAlloc), through the tree or the range caches. */
const allocNamed = (fast: boolean): Action => (g) => {
  const d = pickOf(g, doms(g, 'roomy', 'pressure'));
  if (!d) return false;
  const size = g.rng.chance(0.1) ? (d.d32 - d.start) / 64n : g.rng.pick(SIZES);
  const pfns = fast ? fastPfns(size) : size;
  let limit = bigLimit(g, d);
  if (!safeAlloc(d, pfns, limit)) limit = (1n << (48n - d.shift)) - 1n;
  if (!safeAlloc(d, pfns, limit)) return false;
  const as = g.st.fresh('v');
  if (fast) emit(g, mk('alloc_iova_fast', { domain: d.name, size, limit_pfn: limit, ...flushArg(g), ...cpuArg(g), as }));
  else emit(g, mk('alloc_iova', { domain: d.name, size, limit_pfn: limit, ...alignedArg(g), as }));
  return true;
};

/**
 * Allocations that may fail, unnamed: a tight window (failure, the retry from the top,
 * the max32_alloc_size shortcut), a limit below start_pfn or just above it, a size
 * larger than the space; in pressure domains, fast allocations that hit the caches.
 */
const allocRisky = (fast: boolean): Action => (g) => {
  // alloc_iova_fast returns 0 for failure, so a range it places at pfn 0 is lost: keep risky fast calls off start_pfn 0.
  const d = pickOf(g, fast ? doms(g).filter((x) => x.start > 0n) : doms(g, 'roomy', 'tight'));
  if (!d) return false;
  const w = d.d32 - d.start;
  let size: bigint;
  let limit: bigint;
  if (d.kind === 'tight') {
    size = g.rng.pick([1n, 1n, 2n, 3n, 4n, 5n, 8n, w / 2n, w + 1n]);
    limit = g.rng.chance(0.75) ? d.d32 - 1n : d.start + g.rng.bigint(w);
  } else if (d.kind === 'pressure' && fast) {
    size = g.rng.pick(SIZES);
    limit = g.rng.chance(0.8) ? d.d32 - 1n : bigLimit(g, d);
  } else {
    // Not exactly d32 pfns below a 32-bit limit: max32_alloc_size starts at d32, so that fails at once though it may fit.
    size = g.rng.chance(0.5) ? g.rng.pick([w + 1n, w === d.d32 ? w + 2n : w, d.d32 + 1n]) : g.rng.pick(SIZES);
    limit = g.rng.chance(0.5) ? d.start + g.rng.pick([-1n, 0n, 1n, 7n, 63n]) : d.d32 - 1n;
    if (limit < 0n) limit = 0n;
  }
  if (fast) {
    const times = d.kind === 'pressure' && g.rng.chance(0.5) ? g.rng.pick([2, 10, 127, 200]) : 1;
    emit(g, mk('alloc_iova_fast', { domain: d.name, size, limit_pfn: limit, ...flushArg(g), ...cpuArg(g), ...repeatArg(times) }));
  } else emit(g, mk('alloc_iova', { domain: d.name, size, limit_pfn: limit, ...alignedArg(g) }));
  return true;
};

/** free_iova of a live handle (any allocation, fast ones included), or of a raw pfn where that is harmless. */
const freeTree: Action = (g) => {
  const l = pickOf(g, liveOf(g, (x) => x.count === 1));
  if (l && g.rng.chance(0.8)) {
    emit(g, mk('free_iova', { domain: l.domain, pfn: ref(l.h, g.rng.chance(0.2) ? g.rng.bigint(l.pfns) : 0n) }));
    return true;
  }
  const d = pickOf(g, doms(g));
  if (!d) return false;
  // Tight domains hold nothing cached and nothing named: any pfn there is fair game.
  const pfn = d.kind === 'tight' ? d.start + g.rng.bigint(d.d32 - d.start)
    : g.rng.pick([d.start > 0n ? g.rng.bigint(d.start) : d.max, d.maxLimit + 1n + g.rng.bigint(0x100n), d.max]);
  const ok = d.kind === 'tight' ? !d.reserves.some((r) => pfn >= r.lo && pfn <= r.hi) : isUnowned(d, pfn);
  if (!ok) return false;
  emit(g, mk('free_iova', { domain: d.name, pfn }));
  return true;
};

/** free_iova_fast of a live fast allocation, with the size the caller asked for, on any CPU. */
const freeFast: Action = (g) => {
  const l = pickOf(g, liveOf(g, (x) => x.fast && x.count === 1));
  if (!l) return false;
  emit(g, mk('free_iova_fast', { domain: l.domain, pfn: ref(l.h), size: l.size, ...cpuArg(g) }));
  return true;
};

/**
 * Magazine and depot pressure (iommu.md §2.9): a fresh domain, a batch of N fast
 * allocations of one class (contiguous: the domain is empty, the sizes powers of
 * two), freed into the caches of one or two CPUs — past 254 frees on a CPU each
 * 127 push a magazine to the depot — then time (trimming runs 100 ms after a push
 * while the depot holds more magazines than there are CPUs) and fast allocations
 * that hit. Snug domains leave little else, so other sizes fail, flush and retry.
 */
export const pressure: Action = (g) => {
  if (g.st.iova.doms.size >= MAX_DOMAINS) return false;
  const granule = g.rng.pick(GRANULES.filter((x) => x <= plat(g).page_size));
  const shift = shiftOf(granule);
  const d32 = 1n << (32n - shift);
  const s = g.rng.pick([1n, 2n, 4n, 8n, 16n, 32n]);
  const ncpus = plat(g).ncpus;
  const n = g.rng.chance(0.5) ? 255 + 127 * (ncpus + g.rng.int(2)) : g.rng.pick([100, 127, 128, 254, 255, 382, 509]);
  const limit = g.rng.chance(0.8) ? d32 - 1n : (1n << (48n - shift)) - 1n;
  const span = BigInt(n) * s;
  const snug = g.rng.chance(0.35);
  const start = snug ? limit + 1n - span - g.rng.pick([0n, 1n, 3n, s]) : g.rng.pick([0n, 1n, 5n]);
  if (start < 0n) return false;
  const domain = g.st.fresh(IOVA_DOM_PREFIX.pressure);
  const h = g.st.fresh('q');
  emit(g, mk('init_iova_domain', { name: domain, granule, start_pfn: start }));
  const alloc = { domain, size: s, limit_pfn: limit, ...cpuArg(g) };
  // The fuzzer's own mix wraps the batch in a repeat op so the checkers see every call; a conformance run uses the op's repeat argument.
  if (g.allowed === undefined) emit(g, mk('repeat', { times: n, ops: [mk('alloc_iova_fast', { ...alloc, as: h })] }));
  else emit(g, mk('alloc_iova_fast', { ...alloc, repeat: n, as: h }));
  const k = g.rng.chance(0.5) ? n : 1 + g.rng.int(n);
  emit(g, mk('free_iova_fast', { domain, pfn: ref(h), size: s, ...repeatArg(k), ...cpuArg(g) }));
  if (k < n) emit(g, mk('free_iova_fast', { domain, pfn: ref(h, BigInt(k) * s), size: s, ...repeatArg(n - k), ...cpuArg(g) }));
  if (can(g, 'advance_time') && g.rng.chance(0.6)) emit(g, mk('advance_time', { ms: g.rng.pick([50, 99, 100, 101, 250]) }));
  if (g.rng.chance(0.6)) {
    const times = g.rng.pick([1, 10, 127, 200]);
    emit(g, mk('alloc_iova_fast', { domain, size: s > 2n && g.rng.chance(0.3) ? s - 1n : s, limit_pfn: limit, ...cpuArg(g), ...repeatArg(times) }));
  }
  if (snug && g.rng.chance(0.5)) emit(g, mk('alloc_iova_fast', { domain, size: s * 2n, limit_pfn: limit, ...flushArg(g), ...cpuArg(g) }));
  return true;
};

/** A range overlapping @r the ways reserve_iova treats specially: widened downwards, split above, swallowed, inside. */
function overlapping(g: Gen, r: { lo: bigint; hi: bigint }): { lo: bigint; hi: bigint } {
  const k = 1n + g.rng.bigint(8n);
  const lo = r.lo >= k ? r.lo - k : 0n;
  return g.rng.pick([{ lo, hi: r.hi }, { lo: r.lo + (r.hi > r.lo ? 1n : 0n), hi: r.hi + k }, { lo, hi: r.hi + k }, { lo: r.lo, hi: r.lo }, { lo, hi: r.lo }]);
}

/** reserve_iova where nothing allocated or cached can be: over earlier reservations, below start_pfn, above every limit used. */
const reserve: Action = (g) => {
  const d = pickOf(g, doms(g));
  if (!d) return false;
  for (let tries = 0; tries < 4; tries++) {
    let r: { lo: bigint; hi: bigint };
    const how = g.rng.int(4);
    if (how === 0 && d.reserves.length > 0) r = overlapping(g, g.rng.pick(d.reserves));
    else if (how === 1 && d.start > 0n) {
      const lo = g.rng.bigint(d.start);
      r = { lo, hi: lo + g.rng.bigint(d.start - lo) };
    } else if (how === 2 && g.rng.chance(0.2)) r = { lo: d.max + 1n, hi: d.max + 1n }; // past ULLONG_MAX >> shift: WARN, NULL
    else {
      const base = d.maxLimit < d.d32 ? d.d32 : d.maxLimit + 1n;
      const lo = base + g.rng.bigint(0x1000n);
      r = { lo, hi: lo + g.rng.pick([0n, 1n, 0xffn]) };
    }
    if (r.lo <= r.hi && (r.lo > d.max || reserveLegal(d, r.lo, r.hi))) {
      emit(g, mk('reserve_iova', { domain: d.name, pfn_lo: r.lo, pfn_hi: r.hi }));
      return true;
    }
  }
  return false;
};

const find: Action = (g) => {
  const l = pickOf(g, liveOf(g, () => true));
  if (l && g.rng.chance(0.5)) {
    emit(g, mk('find_iova', { domain: l.domain, pfn: ref(l.h, g.rng.bigint(l.pfns)) }));
    return true;
  }
  const d = pickOf(g, doms(g));
  if (!d) return false;
  const r = pickOf(g, d.reserves);
  const pfn = g.rng.pick([d.d32 - 1n - g.rng.bigint(0x40n), d.start + g.rng.bigint(0x40n), r ? r.lo : d.start, d.max]);
  emit(g, mk('find_iova', { domain: d.name, pfn }));
  return true;
};

const info: Action = (g) => {
  const d = pickOf(g, doms(g));
  if (!d) return false;
  emit(g, mk('iova_info', { domain: d.name }));
  return true;
};

const time: Action = (g) => {
  if (g.st.iova.doms.size === 0) return false;
  emit(g, mk('advance_time', { ms: g.rng.pick(MS) }));
  return true;
};

/** Misuse: free_iova of a handle freed before (its pfn may belong to someone else by now, or to nobody). */
export const iovaDoubleFree: Action = (g) => {
  const l = pickOf(g, [...g.st.iova.dead.values()].filter((x) => !x.fast && g.st.iova.doms.has(x.domain)));
  if (!l) return false;
  emit(g, mk('free_iova', { domain: l.domain, pfn: ref(l.h) }));
  return true;
};

/** An action of the family with its weight and the ops it may emit (the conformance filter needs all of them allowed; optional extras are checked with can()). */
export interface FamilyAction { readonly w: number; readonly run: Action; readonly ops: readonly OpName[] }

export const IOVA_ACTIONS: readonly FamilyAction[] = [
  { w: 3, run: iovaInit, ops: ['init_iova_domain'] },
  { w: 5, run: allocNamed(false), ops: ['alloc_iova'] },
  { w: 4, run: allocNamed(true), ops: ['alloc_iova_fast'] },
  { w: 3, run: allocRisky(false), ops: ['alloc_iova'] },
  { w: 2, run: allocRisky(true), ops: ['alloc_iova_fast'] },
  { w: 4, run: freeTree, ops: ['free_iova'] },
  { w: 3, run: freeFast, ops: ['free_iova_fast'] },
  { w: 1, run: pressure, ops: ['init_iova_domain', 'alloc_iova_fast', 'free_iova_fast'] },
  { w: 2, run: reserve, ops: ['reserve_iova'] },
  { w: 2, run: find, ops: ['find_iova'] },
  { w: 2, run: info, ops: ['iova_info'] },
  { w: 1.5, run: time, ops: ['advance_time'] },
];

export const IOVA_MISUSE: readonly FamilyAction[] = [{ w: 1, run: iovaDoubleFree, ops: ['free_iova'] }];

/** runFamily - one action drawn from @table (a few redraws if it does not apply); false if none did. */
export function runFamily(g: Gen, table: readonly FamilyAction[], tries = 4): boolean {
  if (table.length === 0) return false;
  const ws = table.map((a) => a.w);
  for (let t = 0; t < tries; t++) if (table[weighted(g.rng, ws)]!.run(g)) return true;
  return false;
}

/** The family as one action of the fuzzer's mix: a domain first, then anything. */
export const iovaDomains: Action = (g) => {
  if (g.st.iova.doms.size === 0 && !iovaInit(g)) return false;
  runFamily(g, IOVA_ACTIONS);
  return true;
};

