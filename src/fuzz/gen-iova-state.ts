/**
 * What the generator knows about stand-alone IOVA domains (iommu.md §2), from
 * the ops alone. The generator never predicts addresses; it keeps only what
 * makes a call legal: which handles are live, the highest limit ever used
 * (allocated and cached pfns all lie in [start_pfn, that limit]), the
 * reservations, and an upper bound on the space taken below the 32-bit
 * boundary, so that a named allocation cannot fail.
 *
 * Three kinds of domain, told apart by the name the generator gives them:
 * - roomy ("iova…"): named allocations that must succeed; frees by handle.
 * - tight ("tight…"): a window of a few pfns under the 32-bit boundary where
 *   allocations fail, retry from the top and set max32_alloc_size; nothing is
 *   named and frees name raw pfns (no range caches here, so that is legal).
 * - pressure ("rc…"): a batch of fast allocations made first, freed into the
 *   range caches to fill magazines and the depot.
 * A domain some other input created (a corpus, a mutation) counts as tight.
 */
import type { HandleRef } from '../ops/kinds';
import type { Op } from '../ops/types';

export type IovaDomKind = 'roomy' | 'tight' | 'pressure';

export interface IovaLive {
  readonly h: string;
  readonly domain: string;
  /** Node size in pfns (alloc_iova_fast rounds below 32 up to a power of two). */
  readonly pfns: bigint;
  /** The size the caller passes back to free_iova_fast. */
  readonly size: bigint;
  readonly fast: boolean;
  /** A pressure batch: `count` nodes at h, h + pfns, h + 2·pfns, ... */
  readonly count: number;
}

export interface IovaDomState {
  readonly name: string;
  readonly kind: IovaDomKind;
  readonly shift: bigint;
  readonly start: bigint;
  /** dma_32bit_pfn: the first pfn at 4 GiB. */
  readonly d32: bigint;
  /** ULLONG_MAX >> shift: the highest pfn reserve_iova accepts. */
  readonly max: bigint;
  /** Highest limit_pfn any allocation used (-1: none yet). */
  maxLimit: bigint;
  /** Upper bound of the pfns taken below d32 (allocations doubled for alignment, cached ones included, reservations). */
  used: bigint;
  /** An allocation may have failed: max32_alloc_size may be below d32, so 32-bit-limited calls may fail at once. */
  scarred: boolean;
  allocs: number;
  readonly reserves: { lo: bigint; hi: bigint }[];
}

export const IOVA_DOM_PREFIX: Record<IovaDomKind, string> = { roomy: 'iova', tight: 'tight', pressure: 'rc' };

/** alloc_iova_fast's rounding (iommu.md §2.10): below 32 pfns, the next power of two. */
export function fastPfns(size: bigint): bigint {
  if (size >= 32n) return size;
  let p = 1n;
  while (p < size) p <<= 1n;
  return p;
}

const log2 = (x: bigint): bigint => {
  let k = 0n;
  while (1n << (k + 1n) <= x) k++;
  return k;
};

export function kindOf(name: string): IovaDomKind {
  for (const k of ['roomy', 'pressure'] as const) if (new RegExp(`^${IOVA_DOM_PREFIX[k]}\\d+$`).test(name)) return k;
  return 'tight';
}

/**
 * safeAlloc - whether an allocation of @pfns pfns below @limit_pfn in @d cannot fail:
 * the space under the 32-bit boundary is mostly free (an eighth at most is taken,
 * alignment waste counted), and a 32-bit-limited call is never made after a
 * failure could have lowered max32_alloc_size (iommu.md §2.5).
 */
export function safeAlloc(d: IovaDomState, pfns: bigint, limit_pfn: bigint): boolean {
  const space = d.d32 - d.start;
  return d.kind !== 'tight' && d.start <= d.d32 / 4n && limit_pfn >= d.d32 - 1n && limit_pfn <= d.max
    && (limit_pfn >= d.d32 || !d.scarred) && pfns >= 1n && pfns <= space / 64n && d.used + 2n * pfns <= space / 8n;
}

/** A pfn that no allocation or range cache can hold now: below start_pfn or above every limit used, and not reserved. */
export function isUnowned(d: IovaDomState, pfn: bigint): boolean {
  return (pfn < d.start || pfn > d.maxLimit) && pfn <= d.max && !d.reserves.some((r) => pfn >= r.lo && pfn <= r.hi);
}

/** Whether reserve_iova [lo, hi] can overlap no allocated or cached range (iommu.md §2.7's precondition). */
export function reserveLegal(d: IovaDomState, lo: bigint, hi: bigint): boolean {
  if (lo > hi) return false;
  if (d.allocs === 0) return true;
  return hi < d.start || lo > d.maxLimit;
}

/** A repeat op that is one alloc_iova_fast repeated: the generator's pressure batch, each call seen by the checkers. */
export function isIovaBatch(op: Op): boolean {
  return op.op === 'repeat' && op.ops.length === 1 && (op.ops[0] as Op).op === 'alloc_iova_fast' && ((op.ops[0] as Op & { repeat?: number }).repeat ?? 1) === 1;
}

const handleOf = (v: unknown): HandleRef | undefined =>
  typeof v === 'object' && v !== null && 'handle' in v ? (v as HandleRef) : undefined;

/**
 * IovaDomains - the stand-alone domains of one sequence and their live handles.
 * observe() folds every op in; the generator (gen-iova.ts) only reads.
 */
export class IovaDomains {
  readonly doms = new Map<string, IovaDomState>();
  readonly live = new Map<string, IovaLive>();
  /** Freed handles (the misuse generator frees some twice). */
  readonly dead = new Map<string, IovaLive>();

  clear(): void {
    this.doms.clear();
    this.live.clear();
    this.dead.clear();
  }

  liveIn(domain: string): IovaLive[] {
    return [...this.live.values()].filter((l) => l.domain === domain);
  }

  /** @page_size: the platform's; init_iova_domain with a larger granule is refused, so it makes no domain. */
  observe(op: Op, page_size: bigint, names: Set<string>): void {
    switch (op.op) {
      case 'init_iova_domain': {
        names.add(op.name);
        if (this.doms.has(op.name) || op.granule === 0n || (op.granule & (op.granule - 1n)) !== 0n || op.granule > page_size) return;
        const shift = log2(op.granule);
        this.doms.set(op.name, {
          name: op.name, kind: kindOf(op.name), shift, start: op.start_pfn, d32: 1n << (32n - shift), max: ((1n << 64n) - 1n) >> shift,
          maxLimit: -1n, used: 0n, scarred: false, allocs: 0, reserves: [],
        });
        return;
      }
      case 'alloc_iova': case 'alloc_iova_fast': {
        const d = this.doms.get(op.domain);
        if (!d) return;
        const fast = op.op === 'alloc_iova_fast';
        const pfns = fast ? fastPfns(op.size) : op.size;
        const times = fast ? op.repeat ?? 1 : 1;
        const safe = times === 1 && safeAlloc(d, pfns, op.limit_pfn);
        const batch = fast && d.kind === 'pressure' && d.allocs === 0 && times > 1;
        if (!safe && !batch) d.scarred = true;
        if (op.limit_pfn > d.maxLimit) d.maxLimit = op.limit_pfn;
        d.used += 2n * pfns * BigInt(times);
        d.allocs++;
        if (op.as !== undefined && (safe || batch)) {
          names.add(op.as);
          this.live.set(op.as, { h: op.as, domain: d.name, pfns, size: op.size, fast, count: batch ? times : 1 });
        } else if (op.as !== undefined) names.add(op.as);
        return;
      }
      case 'repeat': {
        // isIovaBatch: the same as alloc_iova_fast's own repeat argument.
        const inner = op.ops[0] as Op;
        if (inner.op === 'alloc_iova_fast') this.observe({ ...inner, repeat: op.times }, page_size, names);
        return;
      }
      case 'free_iova': case 'free_iova_fast': {
        const r = handleOf(op.pfn);
        const l = r && this.live.get(r.handle);
        if (!l || l.domain !== op.domain) return;
        this.live.delete(l.h);
        this.dead.set(l.h, l);
        const d = this.doms.get(op.domain);
        // A tree free gives the space back; a cached range stays allocated in the tree.
        if (d && op.op === 'free_iova' && l.count === 1) d.used -= 2n * l.pfns;
        return;
      }
      case 'reserve_iova': {
        const d = this.doms.get(op.domain);
        if (!d || op.pfn_lo > op.pfn_hi || op.pfn_hi > d.max) return;
        d.reserves.push({ lo: op.pfn_lo, hi: op.pfn_hi });
        const lo = op.pfn_lo > d.start ? op.pfn_lo : d.start;
        const hi = op.pfn_hi < d.d32 - 1n ? op.pfn_hi : d.d32 - 1n;
        if (hi >= lo) d.used += hi - lo + 1n;
        return;
      }
      default:
    }
  }
}
