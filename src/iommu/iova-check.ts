/**
 * Pure checkers for the allocator invariants of iommu.md §2.14 (I-A1..I-A6,
 * I-A8, I-A10, I-A11), over IovaView only: they never change state and never
 * import the domain class, so the engine's invariant layer can reuse them.
 * Each returns one message per violation, prefixed with the digest's ID.
 *
 * Costs: checkIovaRange and checkIovaAlloc are O(log n + k) for the k nodes in
 * the range (call them on what an op touched); checkIovaRcaches is
 * O(cached pfns · log n); checkIovaDomain, checkIovaCoverage and the gap
 * search behind checkIovaAllocFailure are O(n) (full audits, failures only).
 */
import {
  IOVA_ANCHOR, IOVA_MAG_SIZE, U64_MAX, iova_align_shift, u64,
  type IovaNodeView, type IovaRange, type IovaView,
} from './iova-types';

const hex = (x: bigint): string => `0x${x.toString(16)}`;
const rng = (r: IovaRange): string => `[${hex(r.pfn_lo)}, ${hex(r.pfn_hi)}]`;

/** I-A1 and I-A2 (tree part) for one node, and I-A1 against the node before it. */
function checkNode(v: IovaView, n: IovaNodeView, before: IovaNodeView | undefined, out: string[]): void {
  if (n.pfn_lo > n.pfn_hi) out.push(`I-A1: node ${rng(n)} has pfn_lo > pfn_hi`);
  if (before !== undefined && before.pfn_hi >= n.pfn_lo) out.push(`I-A1: nodes ${rng(before)} and ${rng(n)} overlap`);
  if (n.pfn_lo === IOVA_ANCHOR) return;
  if (n.pfn_hi >= U64_MAX) out.push(`I-A2: node ${rng(n)} reaches the anchor pfn`);
  if (!n.reserved && n.pfn_lo < v.start_pfn) out.push(`I-A2: node ${rng(n)} starts below start_pfn ${hex(v.start_pfn)}`);
}

/** I-A4 and I-A5: O(log n). */
function checkAnchorAndCaches(v: IovaView, out: string[]): void {
  const a = v.node_at(IOVA_ANCHOR);
  if (a === undefined || a.pfn_hi !== IOVA_ANCHOR) out.push('I-A4: the anchor [~0, ~0] is missing');
  if (v.node_at(v.cached_node) === undefined) out.push(`I-A5: cached_node ${hex(v.cached_node)} is not a node`);
  if (v.node_at(v.cached32_node) === undefined) out.push(`I-A5: cached32_node ${hex(v.cached32_node)} is not a node`);
}

/**
 * checkIovaDomain() - full audit: I-A1, I-A2 (tree part), I-A4, I-A5, I-A6, I-A10.
 * @v: the domain's view
 * Returns the violations (empty when all hold). O(n).
 */
export function checkIovaDomain(v: IovaView): string[] {
  const out: string[] = [];
  let before: IovaNodeView | undefined;
  for (const n of v.nodes()) {
    checkNode(v, n, before, out);
    before = n;
  }
  if (before === undefined || before.pfn_lo !== IOVA_ANCHOR) out.push('I-A4: the anchor is not the highest node');
  checkAnchorAndCaches(v, out);
  out.push(...checkIovaRcaches(v));
  return out;
}

/**
 * checkIovaRange() - I-A1/I-A2 on the nodes meeting [@pfn_lo, @pfn_hi] and
 * their two neighbours, plus I-A4 and I-A5. For the engine, after an op that
 * touched that range. O(log n + k).
 * @v: the domain's view
 * @pfn_lo: first pfn the op touched
 * @pfn_hi: last pfn the op touched
 */
export function checkIovaRange(v: IovaView, pfn_lo: bigint, pfn_hi: bigint): string[] {
  const out: string[] = [];
  let before = v.node_before(pfn_lo);
  if (before !== undefined) checkNode(v, before, v.node_before(before.pfn_lo), out);
  for (const n of v.nodes(pfn_lo)) {
    checkNode(v, n, before, out);
    before = n;
    if (n.pfn_lo > pfn_hi) break; // the first node above the range is the right neighbour
  }
  checkAnchorAndCaches(v, out);
  return out;
}

/**
 * checkIovaAlloc() - I-A2 and I-A3 for one allocation result.
 * @v: the domain's view after the call
 * @iova: what alloc_iova returned (or {pfn_lo, pfn_hi: pfn_lo + size - 1} for alloc_iova_fast)
 * @size: the size the tree was asked for (alloc_iova_fast: after rounding)
 * @limit_pfn: the caller's inclusive limit
 * @size_aligned: whether alignment was requested (always true for alloc_iova_fast)
 */
export function checkIovaAlloc(v: IovaView, iova: IovaRange, size: bigint, limit_pfn: bigint, size_aligned: boolean): string[] {
  const out: string[] = [];
  const n = v.node_at(iova.pfn_lo);
  if (n === undefined || n.pfn_hi !== iova.pfn_hi) out.push(`I-A8: allocated ${rng(iova)} is not a node of the tree`);
  if (iova.pfn_hi - iova.pfn_lo + 1n !== size) out.push(`I-A2: ${rng(iova)} is not ${size} pfns`);
  if (iova.pfn_lo < v.start_pfn) out.push(`I-A2: ${rng(iova)} starts below start_pfn ${hex(v.start_pfn)}`);
  if (iova.pfn_hi > limit_pfn) out.push(`I-A2: ${rng(iova)} ends above limit_pfn ${hex(limit_pfn)}`);
  if (size_aligned) {
    const align = 1n << iova_align_shift(size);
    if (iova.pfn_lo % align !== 0n) out.push(`I-A3: ${rng(iova)} is not aligned to ${align}`);
  }
  return out;
}

/**
 * checkIovaRcaches() - I-A6 and I-A10: every cached pfn starts a node of exactly
 * 2^k pfns for its class k, no pfn is cached twice, magazines hold ≤ 127 pfns
 * and depot magazines exactly 127. O(cached · log n).
 * @v: the domain's view
 */
export function checkIovaRcaches(v: IovaView): string[] {
  const out: string[] = [];
  const seen = new Set<bigint>();
  for (const rc of v.rcaches) {
    const size = 1n << BigInt(rc.order);
    const mags: [string, readonly bigint[]][] = [];
    for (let cpu = 0; cpu < v.ncpus; cpu++) mags.push([`cpu${cpu}.loaded`, rc.loaded(cpu)], [`cpu${cpu}.prev`, rc.prev(cpu)]);
    rc.depot.forEach((m, i) => {
      mags.push([`depot[${i}]`, m]);
      if (m.length !== IOVA_MAG_SIZE) out.push(`I-A10: order-${rc.order} depot[${i}] holds ${m.length} pfns, not ${IOVA_MAG_SIZE}`);
    });
    for (const [where, mag] of mags) {
      if (mag.length > IOVA_MAG_SIZE) out.push(`I-A10: order-${rc.order} ${where} holds ${mag.length} pfns`);
      for (const pfn of mag) {
        if (seen.has(pfn)) out.push(`I-A6: pfn ${hex(pfn)} is cached twice`);
        seen.add(pfn);
        const n = v.node_at(pfn);
        if (n === undefined) out.push(`I-A6: cached pfn ${hex(pfn)} (order ${rc.order} ${where}) starts no node`);
        else if (n.pfn_hi - n.pfn_lo + 1n !== size) out.push(`I-A6: cached ${rng(n)} is not ${size} pfns (order ${rc.order})`);
      }
    }
  }
  return out;
}

/** Every pfn held by a magazine or the depot, in no particular order. */
export function cachedPfns(v: IovaView): bigint[] {
  const out: bigint[] = [];
  for (const rc of v.rcaches) {
    for (let cpu = 0; cpu < v.ncpus; cpu++) out.push(...rc.loaded(cpu), ...rc.prev(cpu));
    for (const m of rc.depot) out.push(...m);
  }
  return out;
}

/**
 * checkIovaCoverage() - I-A8: the tree's nodes minus the anchor are exactly the
 * live ranges, the cached ranges and the reserved nodes. O(n).
 * @v: the domain's view
 * @live: ranges handed to callers and not yet freed (flush-queue-pending ones count as live here)
 */
export function checkIovaCoverage(v: IovaView, live: Iterable<IovaRange>): string[] {
  const out: string[] = [];
  const owner = new Map<bigint, string>();
  const claim = (lo: bigint, hi: bigint | undefined, what: string): void => {
    const prev = owner.get(lo);
    if (prev !== undefined) out.push(`I-A8: pfn ${hex(lo)} is both ${prev} and ${what}`);
    owner.set(lo, what);
    const n = v.node_at(lo);
    if (n === undefined) out.push(`I-A8: ${what} ${hex(lo)} is not a node of the tree`);
    else if (hi !== undefined && n.pfn_hi !== hi) out.push(`I-A8: ${what} [${hex(lo)}, ${hex(hi)}] but the node is ${rng(n)}`);
  };
  for (const r of live) claim(r.pfn_lo, r.pfn_hi, 'live');
  for (const pfn of cachedPfns(v)) claim(pfn, undefined, 'cached');
  for (const n of v.nodes()) {
    if (n.pfn_lo === IOVA_ANCHOR) continue;
    if (n.reserved) claim(n.pfn_lo, n.pfn_hi, 'reserved');
    else if (!owner.has(n.pfn_lo)) out.push(`I-A8: node ${rng(n)} is neither live, cached nor reserved`);
  }
  return out;
}

/**
 * iova_highest_gap() - the highest start pfn alloc_iova could use for @size
 * pfns at or below @limit_pfn in the current tree, or null when none exists.
 * The limit is made exclusive with the kernel's wrap (limit_pfn = ~0 → nothing).
 * O(n): for failure checks only.
 */
export function iova_highest_gap(v: IovaView, size: bigint, limit_pfn: bigint, size_aligned: boolean): bigint | null {
  const end = u64(limit_pfn + 1n); // exclusive
  const k = size_aligned ? iova_align_shift(size) : 0n;
  let best: bigint | null = null;
  let free_lo = v.start_pfn; // lowest pfn not yet known to be taken
  const consider = (gap_end: bigint): void => {
    // [free_lo, gap_end) is free; the highest aligned start that fits in it.
    const top = gap_end < end ? gap_end : end;
    if (top < size) return;
    const cand = ((top - size) >> k) << k;
    if (cand >= free_lo) best = cand;
  };
  for (const n of v.nodes()) {
    if (n.pfn_hi < free_lo) continue;
    if (n.pfn_lo > free_lo) consider(n.pfn_lo);
    if (n.pfn_lo >= end || n.pfn_hi === U64_MAX) break;
    free_lo = n.pfn_hi + 1n;
  }
  return best;
}

/**
 * checkIovaAllocFailure() - I-A11 completeness: an allocation that failed must
 * have had no fitting gap in [start_pfn, limit_pfn]. Call after the failing
 * call (a failure leaves the tree as the last search saw it).
 * Caveat (kernel behaviour, not a violation): a failure by the max32_alloc_size
 * shortcut is only complete when the failure that set it had a limit ≥ this
 * one and was no more aligned; the caller excuses those cases.
 */
export function checkIovaAllocFailure(v: IovaView, size: bigint, limit_pfn: bigint, size_aligned: boolean): string[] {
  const gap = iova_highest_gap(v, size, limit_pfn, size_aligned);
  return gap === null ? [] : [`I-A11: alloc of ${size} pfns ≤ ${hex(limit_pfn)} failed but [${hex(gap)}, ${hex(gap + size - 1n)}] is free`];
}

/**
 * checkReservePrecondition() - iommu.md §2.7: reserving over a node that is not
 * itself reserved (a live or cached range) is a precondition violation the DMA
 * layer never commits; reserve_iova would widen that node. O(log n + k).
 */
export function checkReservePrecondition(v: IovaView, pfn_lo: bigint, pfn_hi: bigint): string[] {
  const out: string[] = [];
  const first = v.find_iova(pfn_lo);
  const check = (n: IovaNodeView): void => {
    if (!n.reserved) out.push(`reserve_iova [${hex(pfn_lo)}, ${hex(pfn_hi)}] overlaps allocated ${rng(n)}`);
  };
  if (first !== undefined) check(first);
  for (const n of v.nodes(pfn_lo + 1n)) {
    if (n.pfn_lo > pfn_hi) break;
    check(n);
  }
  return out;
}
