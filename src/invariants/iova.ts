/**
 * IOVA allocator invariants (iommu.md §2.14 I-A1..I-A11, §6.5 G-2/G-3/G-5) over
 * every IOVA domain: the allocators of DMA domains (driven by dma-iommu) and
 * stand-alone ones (init_iova_domain, driven by the allocator ops). White-box:
 * they read IovaView and the facts iommu-tracker.ts derives per op. Each op
 * costs O(log n): the nodes it handed out or freed and their neighbours, the
 * cached nodes, the magazines of the size classes it used; I-A11's gap search
 * (O(n)) runs only when an allocation fails by walking the tree, which is
 * itself O(n) in the kernel.
 */
import { checkIovaAllocFailure, checkIovaRange } from '../iommu/iova-check';
import { IOVA_ANCHOR, IOVA_MAG_SIZE, iova_align_shift } from '../iommu/iova-types';
import type { DomChange } from './iommu-events';
import { iommuChanges } from './iommu-tracker';
import { sizeClass } from './iommu-expect';
import { hex } from './iommu-ranges';
import { stateless, type AfterOp, type InvariantFactory, type InvariantInfo } from './invariant';

const NO_FINDINGS: readonly string[] = Object.freeze([]);

/** A checker over the domains the op touched; messages are prefixed with the domain's name. */
export function domChecker(info: InvariantInfo, check: (c: DomChange, ctx: AfterOp) => string[]): InvariantFactory {
  return stateless(info, (ctx) => {
    const doms = iommuChanges(ctx).doms;
    if (doms.length === 0) return NO_FINDINGS;
    const out: string[] = [];
    for (const c of doms) for (const m of check(c, ctx)) out.push(`domain "${c.st.name}": ${m}`);
    return out;
  });
}

const rng = (lo: bigint, hi: bigint): string => `[${hex(lo)}, ${hex(hi)}]`;

/** The nodes whose neighbourhood an op may have changed: what it handed out or reserved, and both cached nodes. */
function touched(c: DomChange): [bigint, bigint][] {
  const v = c.st.view!;
  const out: [bigint, bigint][] = c.nodes.map((n) => [n.lo, n.hi]);
  for (const r of c.reserves) out.push([r.lo, r.hi]);
  for (const k of [v.cached_node, v.cached32_node]) {
    const n = v.node_at(k);
    if (n) out.push([n.pfn_lo, n.pfn_hi]);
  }
  return out;
}

/** I-A1/I-A2 can only break where a node was inserted; the neighbourhood is checked once per op for both. */
function rangeFindings(c: DomChange, prefix: string): string[] {
  const v = c.st.view;
  if (!v || !c.inserted) return [];
  if (!c.rangeFindings) {
    const seen = new Set<string>();
    for (const [lo, hi] of touched(c)) for (const m of checkIovaRange(v, lo, hi)) seen.add(m);
    c.rangeFindings = [...seen];
  }
  return c.rangeFindings.filter((m) => m.startsWith(prefix));
}

// ---- I-A1 -------------------------------------------------------------------------------------

export const IOVA_NO_OVERLAP = domChecker({
  id: 'IOVA-NO-OVERLAP',
  statement: 'The allocator\'s nodes are pairwise disjoint and each has pfn_lo ≤ pfn_hi (checked around every node an op hands out or reserves, and around both cached nodes, where the latest insert sits).',
  clause: 'iommu.md §2.14 I-A1',
  box: 'white',
}, (c) => rangeFindings(c, 'I-A1'));

// ---- I-A2 -------------------------------------------------------------------------------------

export const IOVA_IN_LIMIT = domChecker({
  id: 'IOVA-IN-LIMIT',
  statement: 'Every node other than the anchor and reserved ones lies in [start_pfn, ~0); a node handed out for a limit_pfn ends at or below it; a node that the 32-bit-first attempt of dma-iommu handed out ends below 4 GiB.',
  clause: 'iommu.md §2.14 I-A2; §3.3 step 5',
  box: 'white',
}, (c) => {
  const out = rangeFindings(c, 'I-A2');
  for (const n of c.nodes) if (n.hi > n.limit) out.push(`${rng(n.lo, n.hi)} handed out for limit_pfn ${hex(n.limit)} ends above it`);
  const lim32 = (1n << (32n - c.st.shift)) - 1n;
  for (const m of c.maps) if (m.below4G && m.m.hi > lim32) out.push(`${m.op} kept pci_32bit_workaround set, so its IOVA came from the 32-bit attempt, but ${rng(m.m.lo, m.m.hi)} lies above 4 GiB`);
  return out;
});

// ---- I-A3 -------------------------------------------------------------------------------------

export const IOVA_ALIGNED = domChecker({
  id: 'IOVA-ALIGNED',
  statement: 'A node handed out for s pfns is exactly s pfns (alloc_iova_fast: s rounded up to a power of two below 32) and, for an aligned request, starts on a multiple of roundup_pow_of_two(s).',
  clause: 'iommu.md §2.14 I-A3; §2.3 step 1; §2.10 step 1',
  box: 'white',
}, (c) => {
  const out: string[] = [];
  for (const n of c.nodes) {
    const size = n.node ? n.node.pfn_hi - n.node.pfn_lo + 1n : n.hi - n.lo + 1n;
    // A cached node is as good as the frees that cached it: after driver misuse (taint) only fresh ones are judged;
    // a node dma_iova_destroy filed under a smaller class (§3.11 quirk) serves smaller requests.
    if (n.node && size !== n.pages && !(n.fromCache !== false && (c.tainted || (size > n.pages && c.st.quirk.has(n.lo))))) out.push(`${n.fromCache ? 'a cached' : 'a new'} node ${rng(n.node.pfn_lo, n.node.pfn_hi)} served a request of ${n.pages} pfns`);
    // Above 2^63 pfns Linux's mask shift wraps to 0 (iova_align_shift): no alignment is asked there.
    const align = 1n << iova_align_shift(n.pages);
    if (n.aligned && n.lo % align !== 0n && !(n.fromCache !== false && c.tainted)) out.push(`${rng(n.lo, n.hi)} for ${n.pages} pfns is not aligned to ${align}`);
  }
  return out;
});

// ---- I-A4 -------------------------------------------------------------------------------------

export const IOVA_ANCHOR_PRESENT = domChecker({
  id: 'IOVA-ANCHOR',
  statement: 'The anchor node [~0, ~0] is in the tree and is its highest node.',
  clause: 'iommu.md §2.14 I-A4',
  box: 'white',
}, (c) => {
  const v = c.st.view;
  if (!v || !v.alive) return [];
  const a = v.node_at(IOVA_ANCHOR);
  if (a === undefined || a.pfn_hi !== IOVA_ANCHOR) return ['the anchor [~0, ~0] is missing'];
  const above = v.node_after(IOVA_ANCHOR);
  return above ? [`node ${rng(above.pfn_lo, above.pfn_hi)} lies above the anchor`] : [];
});

// ---- I-A5 -------------------------------------------------------------------------------------

export const IOVA_CACHED_NODES_VALID = domChecker({
  id: 'IOVA-CACHED-NODES-VALID',
  statement: 'cached_node and cached32_node each name a node in the tree.',
  clause: 'iommu.md §2.14 I-A5; §2.6',
  box: 'white',
}, (c) => {
  const v = c.st.view;
  if (!v || !v.alive) return [];
  const out: string[] = [];
  if (v.node_at(v.cached_node) === undefined) out.push(`cached_node ${hex(v.cached_node)} is not a node`);
  if (v.node_at(v.cached32_node) === undefined) out.push(`cached32_node ${hex(v.cached32_node)} is not a node`);
  return out;
});

// ---- I-A6 / I-A10 ------------------------------------------------------------------------------

export const IOVA_RCACHE_CONSISTENT = domChecker({
  id: 'IOVA-RCACHE-CONSISTENT',
  statement: 'In the size classes an op used: magazines hold at most 127 pfns and depot magazines exactly 127; every pfn that enters or leaves class k starts a node of exactly 2^k pfns (or, the documented exception, a larger node that dma_iova_destroy with a shorter mapped_len filed there) and is cached once (while the driver frees what it mapped).',
  clause: 'iommu.md §2.14 I-A6, I-A10; §2.9; §3.11 destroy quirk',
  box: 'white',
}, (c) => {
  const v = c.st.view;
  if (!v) return [];
  const out: string[] = [];
  for (const k of c.classes) {
    const rc = v.rcaches[k];
    if (!rc) continue;
    for (let cpu = 0; cpu < v.ncpus; cpu++) {
      if (rc.loaded(cpu).length > IOVA_MAG_SIZE) out.push(`class ${k} cpu${cpu}.loaded holds ${rc.loaded(cpu).length} pfns`);
      if (rc.prev(cpu).length > IOVA_MAG_SIZE) out.push(`class ${k} cpu${cpu}.prev holds ${rc.prev(cpu).length} pfns`);
    }
    const top = rc.depot[rc.depot.length - 1];
    if (top && top.length !== IOVA_MAG_SIZE) out.push(`class ${k}: the newest depot magazine holds ${top.length} pfns, not ${IOVA_MAG_SIZE}`);
  }
  if (c.tainted) return out; // what was cached depends on the driver having freed what it mapped
  for (const f of c.freed) {
    if (f.dest === 'twice') out.push(`pfn ${hex(f.lo)} (freed by ${f.via}) is cached twice`);
    if ((f.dest === 'cache' || f.dest === 'twice') && f.node) {
      const want = 1n << BigInt(sizeClass(f.pages));
      const size = f.node.pfn_hi - f.node.pfn_lo + 1n;
      if (size !== want && !(size > want && c.st.quirk.has(f.lo))) out.push(`pfn ${hex(f.lo)} cached in class ${sizeClass(f.pages)} starts a node of ${size} pfns, not ${want}`);
    }
  }
  for (const n of c.nodes) {
    if (!n.fromCache) continue;
    if (!n.node) out.push(`cached pfn ${hex(n.lo)} handed out starts no node`);
    else if (n.node.pfn_hi - n.node.pfn_lo + 1n !== 1n << BigInt(sizeClass(n.pages)) && !(n.node.pfn_hi - n.node.pfn_lo + 1n > 1n << BigInt(sizeClass(n.pages)) && c.st.quirk.has(n.lo))) out.push(`cached pfn ${hex(n.lo)} of class ${sizeClass(n.pages)} starts the node ${rng(n.node.pfn_lo, n.node.pfn_hi)}`);
  }
  return out;
});

// ---- I-A7 -------------------------------------------------------------------------------------

export const IOVA_CACHED_NOT_LIVE = domChecker({
  id: 'IOVA-CACHED-NOT-LIVE',
  statement: 'A range in a range cache or a flush queue is never also live: nothing handed out is still cached or queued, nothing cached or queued is handed out.',
  clause: 'iommu.md §2.14 I-A7',
  box: 'white',
}, (c) => {
  if (c.tainted) return [];
  const out: string[] = [];
  for (const n of c.nodes) {
    if (n.stillCached > 0) out.push(`${rng(n.lo, n.hi)} was handed out but is still in a magazine of this CPU`);
    if (n.inFq) out.push(`${rng(n.lo, n.hi)} was handed out while still waiting in the flush queue`);
    if (n.wasLive) out.push(`${rng(n.lo, n.hi)} was handed out while live`);
  }
  for (const f of c.freed) if (f.live && f.dest !== 'tree') out.push(`pfn ${hex(f.lo)} is in a range cache and live`);
  for (const e of c.queuedGot) if (c.st.live.get(e.lo)) out.push(`pfn ${hex(e.lo)} is in the flush queue and live`);
  return out;
});

// ---- I-A8 / G-5 -------------------------------------------------------------------------------

const NO_LOST: InvariantInfo = {
  id: 'IOVA-NO-LOST-RANGES',
  statement: 'The tree holds exactly the live (mappings, and dma_iova_state allocations from try_alloc to free or destroy), cached, flush-queue and reserved ranges plus the anchor (and a range alloc_iova_fast lost at pfn 0, warned as IOVA-FAST-PFN0-LOST): its node count equals their sum (sizes are checked where ranges are handed out and cached; a node dma_iova_destroy filed under a smaller class still counts once, at its node size). A discrepancy is reported when it appears or changes, not again on every op.',
  clause: 'iommu.md §2.14 I-A8; §6.5 G-5',
  box: 'white',
};

export const IOVA_NO_LOST_RANGES: InvariantFactory = {
  info: NO_LOST,
  create() {
    const reported = new WeakMap<object, number>();
    // Domains holding the node alloc_iova_fast put at pfn 0 and reported as failure (Linux's own
    // loss, IOVA-FAST-PFN0-LOST): it counts as a node until something removes pfn 0 from the tree.
    const lostAt0 = new WeakSet<object>();
    return {
      info: NO_LOST,
      after: (ctx) => {
        const out: string[] = [];
        const pfn0Lost = ctx.result.warnings.some((w) => w.code === 'IOVA-FAST-PFN0-LOST' && w.source === 'kernel');
        for (const c of iommuChanges(ctx).doms) {
          const st = c.st;
          const v = st.view;
          if (c.tainted || !v || !v.alive) continue;
          if (pfn0Lost && 'domain' in ctx.op && ctx.op.domain === st.name) lostAt0.add(st);
          if (lostAt0.has(st) && v.node_at(0n) === undefined) lostAt0.delete(st);
          const cached = st.cachedCount();
          const want = 1 + st.reserved + st.live.size + st.fqCount + cached + (lostAt0.has(st) ? 1 : 0);
          const gap = v.node_count - want;
          if (gap === (reported.get(st) ?? 0)) continue;
          reported.set(st, gap);
          if (gap !== 0) out.push(`domain "${st.name}": the tree holds ${v.node_count - 1} nodes besides the anchor, but live ${st.live.size} + queued ${st.fqCount} + cached ${cached} + reserved ${st.reserved} = ${want - 1}`);
        }
        return out;
      },
    };
  },
};

// ---- I-A9 -------------------------------------------------------------------------------------

export const IOVA_MAX32_RULE = domChecker({
  id: 'IOVA-MAX32-RULE',
  statement: 'max32_alloc_size changes only to the size of a failed search or back to the 32-bit pfn count, and goes back whenever a node below 4 GiB leaves the tree after the last failure.',
  clause: 'iommu.md §2.14 I-A9; §2.5',
  box: 'white',
}, (c) => {
  const v = c.st.view;
  if (!v || !v.alive) return [];
  const now = v.max32_alloc_size;
  const d32 = v.dma_32bit_pfn;
  const out: string[] = [];
  if (now !== c.max32Before && now !== d32) {
    if (c.failures === 0) out.push(`max32_alloc_size went ${hex(c.max32Before)} → ${hex(now)} without a failed allocation`);
    else if (c.failSizes.length > 0 && !c.failSizes.includes(now)) out.push(`max32_alloc_size became ${hex(now)}, not the size of a failed search (${c.failSizes.map(hex).join(', ')})`);
  }
  if (c.removedLow && c.failures === 0 && now !== d32) out.push(`a node below 4 GiB left the tree but max32_alloc_size is still ${hex(now)}, not ${hex(d32)}`);
  return out;
});

// ---- I-A11 ------------------------------------------------------------------------------------

export const IOVA_COMPLETE = domChecker({
  id: 'IOVA-COMPLETE',
  statement: 'An allocation fails only when no free, suitably aligned gap of its size exists in [start_pfn, limit_pfn] (after the range caches were flushed when flushing is allowed; flush-queue ranges count as allocated). Not claimed for a failure decided only by the max32_alloc_size shortcut set by a failure with a lower limit or weaker alignment, nor for domains that allocate unaligned (iova-check.ts caveat).',
  clause: 'iommu.md §2.14 I-A11; §2.3, §2.5, §2.10',
  box: 'white',
}, (c) => {
  const f = c.failure;
  const v = c.st.view;
  if (!f || f.excused || !v || c.st.unaligned) return [];
  return checkIovaAllocFailure(v, f.pages, f.limit, f.aligned).map((m) => `${f.what}: ${m.replace(/^I-A11: /, '')}`);
});

// ---- G-2 / G-3 --------------------------------------------------------------------------------

export const IOVA_STATES = domChecker({
  id: 'IOVA-STATES',
  statement: 'Every range an op moves is in exactly one state afterwards and moved along an allowed edge: free or cached → live (a map, dma_iova_try_alloc); live → queued (lazy unmap, lazy dma_iova_destroy), cached or free (strict unmap, free_iova_fast, dma_iova_free, strict dma_iova_destroy — which files the pfn under align_up(mapped_len + pad), not the allocated size); queued → cached or free; free_iova → free; reserved ranges are never handed out.',
  clause: 'iommu.md §6.5 G-2, G-3; §3.11',
  box: 'white',
}, (c) => {
  if (c.tainted) return [];
  const out: string[] = [];
  const v = c.st.view;
  for (const n of c.nodes) if (n.node?.reserved) out.push(`reserved ${rng(n.node.pfn_lo, n.node.pfn_hi)} was handed out`);
  for (const f of c.freed) {
    if (f.dest === 'lost') out.push(`pfn ${hex(f.lo)} (freed by ${f.via}) is still a node but in no range cache: neither cached nor free`);
    if (f.via === 'free_iova' && f.dest !== 'tree') out.push(`free_iova(${hex(f.lo)}) left the node in the tree`);
    if (sizeClass(f.pages) >= 6 && f.dest !== 'tree') out.push(`pfn ${hex(f.lo)} of ${f.pages} pfns is too large to cache but was not freed`);
  }
  if (!c.looseFrees) {
    const want = c.queuedWant.map((q) => `${hex(q.lo)}+${q.pages}`).join(' ');
    const got = c.queuedGot.map((q) => `${hex(q.lo)}+${q.pages}`).join(' ');
    if (want !== got) out.push(`a lazy unmap should queue [${want}] but the flush queue took [${got}]`);
  }
  if (v) for (const q of c.queuedWant) if (v.node_at(q.lo) === undefined) out.push(`pfn ${hex(q.lo)} was queued for a lazy free but its node already left the tree`);
  return out;
});

export const IOVA_INVARIANTS: readonly InvariantFactory[] = [
  IOVA_NO_OVERLAP, IOVA_IN_LIMIT, IOVA_ALIGNED, IOVA_ANCHOR_PRESENT, IOVA_CACHED_NODES_VALID, IOVA_RCACHE_CONSISTENT,
  IOVA_CACHED_NOT_LIVE, IOVA_NO_LOST_RANGES, IOVA_MAX32_RULE, IOVA_COMPLETE, IOVA_STATES,
];
