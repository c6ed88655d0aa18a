/**
 * Black-box contract checks for the `contract` profile: what must hold of an implementation's results
 * whatever addresses it chooses, judged from the ops and results alone (no model internals). Each
 * check has a stable ID and one test that makes it fire (contract.test.ts). Adding one is adding an
 * entry to CHECKS.
 *
 * The IOVA checks keep, per stand-alone domain, the ranges the caller holds (allocations and
 * reservations, in B+ trees: O(log n) per op) and every range ever handed out. A caller that breaks
 * the allocator's own contract (frees a range it does not hold, or with another size to the range
 * caches) leaves the domain in a state where the kernel itself may hand out overlapping ranges, so
 * the checks that depend on that state stop judging that domain (`misused`), as the model's
 * invariants exempt misuse-poisoned range caches.
 */
import BTree from 'sorted-btree';
import { formatHex } from '../ops/numbers';
import { OPS, type OpName } from '../ops/table';
import type { WireOp } from './implementation';
import { wireNumber, type WireResult } from './wire';

const cmp = (a: bigint, b: bigint): number => (a < b ? -1 : a > b ? 1 : 0);

/** Disjoint inclusive ranges keyed by their first pfn. */
class Ranges<V> {
  readonly tree = new BTree<bigint, { hi: bigint; v: V }>(undefined, cmp);

  /** The range containing p, if any. */
  at(p: bigint): [bigint, bigint, V] | undefined {
    const e = this.tree.getPairOrNextLower(p);
    return e && e[1].hi >= p ? [e[0], e[1].hi, e[1].v] : undefined;
  }

  /** Some range overlapping [lo, hi] (the highest one starting at or below hi). */
  overlapping(lo: bigint, hi: bigint): [bigint, bigint] | undefined {
    const e = this.tree.getPairOrNextLower(hi);
    return e && e[1].hi >= lo ? [e[0], e[1].hi] : undefined;
  }

  /** Adds [lo, hi], merging it with every range it overlaps or touches. */
  merge(lo: bigint, hi: bigint, v: V): void {
    for (let e = this.tree.getPairOrNextLower(hi + 1n); e && e[1].hi + 1n >= lo; e = this.tree.getPairOrNextLower(hi + 1n)) {
      this.tree.delete(e[0]);
      if (e[0] < lo) lo = e[0];
      if (e[1].hi > hi) hi = e[1].hi;
    }
    this.tree.set(lo, { hi, v });
  }

  /** Removes every range overlapping [lo, hi]. */
  removeOverlapping(lo: bigint, hi: bigint): void {
    for (let e = this.overlapping(lo, hi); e; e = this.overlapping(lo, hi)) this.tree.delete(e[0]);
  }
}

interface Domain {
  readonly start_pfn: bigint;
  /** Allocations the caller holds. */
  readonly live: Ranges<'tree' | 'fast'>;
  /** Reserved ranges (merged). */
  readonly reserved: Ranges<true>;
  /** Every range ever allocated or reserved (merged): a pfn outside them belongs to no node. */
  readonly ever: Ranges<true>;
  /** Ranges freed with free_iova_fast (merged): a range cache may still hold them, so they count as taken. */
  readonly cached: Ranges<true>;
  /** An allocation failed: the kernel's max32_alloc_size shortcut may now fail later ones with room left. */
  failed: boolean;
  /** 1 << (32 - granule shift): iova.c's dma_32bit_pfn. */
  readonly dma32: bigint;
  /** A free took out a reservation of which only the implementation knows the nodes: what is free is uncertain. */
  inexact: boolean;
  /** The caller broke the allocator's contract: overlap and find checks no longer apply. */
  misused: boolean;
  /** Some allocations were not seen one by one (alloc_iova_fast with repeat): `ever` is incomplete. */
  blind: boolean;
}

/** What a check sees: the op as sent, both sides' results, and the domain state before the op. */
export interface CheckContext {
  readonly op: WireOp;
  readonly ref: WireResult;
  readonly impl: WireResult;
  readonly domain: Domain | undefined;
}

export interface ContractCheck {
  readonly id: string;
  readonly statement: string;
  /** A violation message, or undefined when the check holds (or does not apply). */
  check(c: CheckContext): string | undefined;
}

const num = (op: WireOp, f: string): bigint | undefined => wireNumber(op[f]);
const val = (r: WireResult, f: string): bigint | undefined => (r.ok ? wireNumber(r.values[f]) : undefined);
const hex = formatHex;
/** roundup_pow_of_two, for n >= 1. */
const pow2Up = (n: bigint): bigint => (n <= 1n ? 1n : 1n << BigInt((n - 1n).toString(2).length));
/** alloc_iova_fast rounds sizes below the largest cached class up to a power of two (iova.c). */
const fastSize = (n: bigint): bigint => (n < 32n ? pow2Up(n) : n);

/** The range an allocation op returned, or undefined if it failed or is not one. */
function allocated(op: WireOp, r: WireResult): [bigint, bigint] | undefined {
  if (!r.ok) return undefined;
  if (op.op === 'alloc_iova') {
    const lo = val(r, 'pfn_lo');
    const hi = val(r, 'pfn_hi');
    return lo !== undefined && hi !== undefined ? [lo, hi] : undefined;
  }
  if (op.op === 'alloc_iova_fast') {
    const pfn = val(r, 'pfn');
    const size = num(op, 'size');
    return pfn !== undefined && size !== undefined && size > 0n ? [pfn, pfn + fastSize(size) - 1n] : undefined;
  }
  return undefined;
}

export const CHECKS: readonly ContractCheck[] = [
  {
    id: 'C-HANDLE-FIELD',
    statement: 'A successful op that creates something returns its address field (what later "$name" handles stand for), as the reference does.',
    check({ op, ref, impl }) {
      const field = OPS[op.op].handle;
      if (!field || !ref.ok || !impl.ok || !(field in ref.values)) return undefined;
      if (Array.isArray(ref.values[field])) return Array.isArray(impl.values[field]) ? undefined : `${op.op} returned no list "${field}"`;
      return wireNumber(impl.values[field]) === undefined ? `${op.op} returned no number "${field}" (got ${JSON.stringify(impl.values[field]) ?? 'nothing'})` : undefined;
    },
  },
  {
    id: 'C-IOVA-IN-LIMIT',
    statement: 'An allocated range starts at or above the domain\'s start_pfn and, from the tree, ends at or below limit_pfn (alloc_iova_fast\'s range cache only checks the first pfn, against limit_pfn + 1, as iova.c does).',
    check({ op, impl, domain }) {
      const r = allocated(op, impl);
      const limit = num(op, 'limit_pfn');
      if (!r || !domain || limit === undefined) return undefined;
      // iova.c alloc_iova_fast: iova_rcache_get(iovad, size, limit_pfn + 1) pops any pfn <= limit_pfn + 1.
      const [last, bound] = op.op === 'alloc_iova' ? [r[1], limit] : [r[0], limit + 1n];
      if (r[0] < domain.start_pfn) return `${op.op} returned [${hex(r[0])}, ${hex(r[1])}] below start_pfn ${hex(domain.start_pfn)}`;
      if (last > bound) return `${op.op} returned [${hex(r[0])}, ${hex(r[1])}] above limit_pfn ${hex(limit)}`;
      return undefined;
    },
  },
  {
    id: 'C-IOVA-SIZE',
    statement: 'alloc_iova returns exactly size pfns.',
    check({ op, impl }) {
      const r = op.op === 'alloc_iova' ? allocated(op, impl) : undefined;
      const size = num(op, 'size');
      if (!r || size === undefined) return undefined;
      return r[1] - r[0] + 1n === size ? undefined : `alloc_iova of ${size} pfns returned [${hex(r[0])}, ${hex(r[1])}] (${r[1] - r[0] + 1n} pfns)`;
    },
  },
  {
    id: 'C-IOVA-ALIGNED',
    statement: 'A size-aligned allocation (alloc_iova with size_aligned, every alloc_iova_fast) starts at a multiple of its size rounded up to a power of two.',
    check({ op, impl, domain }) {
      if (op.op === 'alloc_iova' && op.size_aligned === false) return undefined;
      if (op.op === 'alloc_iova_fast' && domain?.misused) return undefined; // a wrongly sized free can seed a cache with any pfn
      const r = allocated(op, impl);
      const size = num(op, 'size');
      if (!r || size === undefined) return undefined;
      const align = pow2Up(op.op === 'alloc_iova_fast' ? fastSize(size) : size);
      if (align >= 1n << 64n) return undefined; // iova.c: ~0UL << fls_long(size - 1) shifts by 64 and aligns nothing
      return r[0] % align === 0n ? undefined : `${op.op} of ${size} pfns returned ${hex(r[0])}, not a multiple of ${hex(align)}`;
    },
  },
  {
    id: 'C-IOVA-NO-OVERLAP',
    statement: 'An allocated range overlaps no range the caller still holds and no reserved range.',
    check({ op, impl, domain }) {
      const r = allocated(op, impl);
      if (!r || !domain || domain.misused) return undefined;
      const live = domain.live.overlapping(r[0], r[1]);
      if (live) return `${op.op} returned [${hex(r[0])}, ${hex(r[1])}], overlapping [${hex(live[0])}, ${hex(live[1])}], allocated earlier and not freed`;
      const res = domain.reserved.overlapping(r[0], r[1]);
      if (res) return `${op.op} returned [${hex(r[0])}, ${hex(r[1])}], overlapping the reserved [${hex(res[0])}, ${hex(res[1])}]`;
      return undefined;
    },
  },
  {
    id: 'C-IOVA-ALLOC-FITS',
    statement: 'The first allocation that fails in a domain fails for want of room: no suitably aligned gap of its size lies in [start_pfn, limit_pfn] outside the ranges held, reserved or freed to the range caches.',
    check({ op, impl, domain }) {
      const d = domain;
      if ((op.op !== 'alloc_iova' && op.op !== 'alloc_iova_fast') || impl.ok || !d || d.failed || d.misused || d.blind || d.inexact) return undefined;
      const size = num(op, 'size');
      const limit = num(op, 'limit_pfn');
      if (size === undefined || limit === undefined || size === 0n) return undefined;
      const n = op.op === 'alloc_iova_fast' ? fastSize(size) : size;
      if (limit <= d.dma32 && n >= d.dma32) return undefined; // iova.c fails these at once (max32_alloc_size starts at dma_32bit_pfn)
      const align = op.op === 'alloc_iova' && op.size_aligned === false ? 1n : pow2Up(n);
      if (align >= 1n << 64n) return undefined;
      const gap = freeGap(d, n, align, limit);
      return gap ? `${op.op} of ${size} pfns below ${hex(limit)} failed with ${impl.error}, but [${hex(gap)}, ${hex(gap + n - 1n)}] is free (nothing held, reserved or cached there)` : undefined;
    },
  },
  {
    id: 'C-IOVA-FIND',
    statement: 'find_iova(pfn) returns a range containing pfn; inside a held allocation, one containing all of it; inside a reservation, a range; where nothing was ever allocated or reserved, NULL.',
    check({ op, impl, domain }) {
      const pfn = op.op === 'find_iova' ? num(op, 'pfn') : undefined;
      if (pfn === undefined || !domain) return undefined;
      const lo = val(impl, 'pfn_lo');
      const hi = val(impl, 'pfn_hi');
      if (impl.ok && (lo === undefined || hi === undefined || lo > pfn || hi < pfn)) return `find_iova(${hex(pfn)}) returned [${lo === undefined ? '?' : hex(lo)}, ${hi === undefined ? '?' : hex(hi)}], which does not contain it`;
      if (domain.misused) return undefined;
      const a = domain.live.at(pfn);
      if (a && !(impl.ok && lo! <= a[0] && hi! >= a[1])) return `find_iova(${hex(pfn)}) ${impl.ok ? `returned [${hex(lo!)}, ${hex(hi!)}]` : `failed with ${impl.error}`}, but [${hex(a[0])}, ${hex(a[1])}] is allocated`;
      if (!a && domain.reserved.at(pfn) && !impl.ok) return `find_iova(${hex(pfn)}) failed with ${impl.error}, but ${hex(pfn)} is reserved`;
      if (impl.ok && !domain.blind && !domain.ever.at(pfn)) return `find_iova(${hex(pfn)}) returned [${hex(lo!)}, ${hex(hi!)}], but nothing was ever allocated or reserved there`;
      return undefined;
    },
  },
  {
    id: 'C-IOVA-FREE-UNKNOWN',
    statement: 'free_iova of a pfn that belongs to no range is harmless: it succeeds (and the ranges held stay findable: C-IOVA-FIND).',
    check({ op, impl, domain }) {
      const pfn = op.op === 'free_iova' ? num(op, 'pfn') : undefined;
      if (pfn === undefined || !domain || domain.blind || domain.ever.at(pfn)) return undefined;
      return impl.ok ? undefined : `free_iova(${hex(pfn)}) of a pfn no range holds failed with ${impl.error}`;
    },
  },
];

/** The lowest aligned start of n free pfns in [start_pfn, limit], or undefined. Runs once per domain (until its first failure). */
function freeGap(d: Domain, n: bigint, align: bigint, limit: bigint): bigint | undefined {
  const taken: [bigint, bigint][] = [];
  for (const r of [d.live, d.reserved, d.cached]) for (const [lo, e] of r.tree.entries()) taken.push([lo, e.hi]);
  taken.sort((a, b) => cmp(a[0], b[0]));
  let from = d.start_pfn;
  const fits = (to: bigint): bigint | undefined => {
    const start = ((from + align - 1n) / align) * align;
    return start + n - 1n <= to && start + n - 1n <= limit ? start : undefined;
  };
  for (const [lo, hi] of taken) {
    if (lo > from) {
      const g = fits(lo - 1n);
      if (g !== undefined) return g;
    }
    if (hi + 1n > from) from = hi + 1n;
    if (from > limit) return undefined;
  }
  return fits(limit);
}

export interface ContractViolation {
  readonly id: string;
  readonly message: string;
}

/** The checks for one session: run check() on each op's results in order. */
export class ContractChecker {
  private domains = new Map<string, Domain>();

  constructor(private readonly checks: readonly ContractCheck[] = CHECKS) {}

  check(op: WireOp, ref: WireResult, impl: WireResult): ContractViolation[] {
    const domain = typeof op.domain === 'string' ? this.domains.get(op.domain) : undefined;
    const out: ContractViolation[] = [];
    for (const c of this.checks) {
      const m = c.check({ op, ref, impl, domain });
      if (m !== undefined) out.push({ id: c.id, message: m });
    }
    this.update(op, impl, domain);
    return out;
  }

  private update(op: WireOp, r: WireResult, d: Domain | undefined): void {
    switch (op.op as OpName) {
      case 'platform':
        this.domains.clear();
        return;
      case 'init_iova_domain':
        if (r.ok && typeof op.name === 'string') {
          const granule = num(op, 'granule') ?? 0x1000n;
          const shift = BigInt(granule.toString(2).length - 1);
          this.domains.set(op.name, {
            start_pfn: num(op, 'start_pfn') ?? 0n, live: new Ranges(), reserved: new Ranges(), ever: new Ranges(), cached: new Ranges(),
            dma32: shift < 32n ? 1n << (32n - shift) : 1n, failed: false, inexact: false, misused: false, blind: false,
          });
        }
        return;
      default:
        break;
    }
    if (!d) return;
    if ((op.op === 'alloc_iova' || op.op === 'alloc_iova_fast') && !r.ok) d.failed = true;
    const a = allocated(op, r);
    if (a) {
      if (!d.live.overlapping(a[0], a[1])) d.live.tree.set(a[0], { hi: a[1], v: op.op === 'alloc_iova' ? 'tree' : 'fast' });
      d.ever.merge(a[0], a[1], true);
      if (op.op === 'alloc_iova_fast' && (num(op, 'repeat') ?? 1n) > 1n) d.blind = true;
      return;
    }
    if (op.op === 'reserve_iova' && r.ok) {
      const lo = num(op, 'pfn_lo');
      const hi = num(op, 'pfn_hi');
      if (lo !== undefined && hi !== undefined && lo <= hi) {
        d.reserved.merge(lo, hi, true);
        d.ever.merge(lo, hi, true);
      }
    } else if (op.op === 'free_iova') {
      const pfn = num(op, 'pfn');
      if (pfn === undefined) return;
      const held = d.live.at(pfn);
      const res = d.reserved.at(pfn);
      if (held) {
        d.live.tree.delete(held[0]);
        if (d.reserved.overlapping(held[0], held[1])) {
          d.reserved.removeOverlapping(held[0], held[1]); // a reservation may have widened the node
          d.inexact = true;
        }
      } else if (res) {
        d.reserved.removeOverlapping(res[0], res[1]); // which node goes is the implementation's business
        d.inexact = true;
      }
      else if (d.ever.at(pfn)) d.misused = true; // perhaps a range in a range cache: the cache may hand it out twice
    } else if (op.op === 'free_iova_fast') {
      const pfn = num(op, 'pfn');
      const size = num(op, 'size');
      if (pfn === undefined || size === undefined) return;
      const times = num(op, 'repeat') ?? 1n;
      for (let k = 0n; k < times; k++) {
        const p = pfn + k * size;
        const held = d.live.at(p);
        // Freed by its start with the size it was allocated with, or the caches mix up size classes.
        if (!held || held[0] !== p || held[1] - held[0] + 1n !== fastSize(size)) d.misused = true;
        if (held) {
          d.live.tree.delete(held[0]);
          d.cached.merge(held[0], held[1], true);
        }
      }
    }
  }
}
