/**
 * minimize - the smallest input the predicate still calls failing, found greedily (syzkaller
 * prog/minimization.go; fast-check's command shrinker). It knows nothing about running: it proposes
 * candidates and asks `stillFails`, so the caller decides what "the same failure" means (usually the
 * same Failure.key: execute.ts failsWith).
 *
 * Passes, repeated while any of them makes progress:
 *  1. the shortest failing prefix (binary search: running a prefix is running the input up to there,
 *     so "prefix k fails" is monotone in k) — this drops every op after the failing one;
 *  2. delta debugging over ops (ddmin, complements only) that never removes ops[0] (the platform)
 *     nor the last op (the one that fails, as fast-check keeps its last command); removing an op
 *     that defines a name (`as`, a device, an IOMMU, a domain, a pool, an IOVA state) also removes
 *     the later ops that use it, since they could only be input errors;
 *  3. simpler numbers shared by several ops, all occurrences at once (a cpu_write and the map of
 *     the same buffer must move together, or the failure goes away);
 *  4. simpler arguments, op by op, on the printed JSON form: drop an optional field or a list element
 *     (RAM regions, sg entries, repeat's ops, the swiotlb pool), shrink numbers towards 0 and round
 *     values, drop handle offsets, shorten byte data; parseOp rejects what the op table forbids.
 * Every candidate is deduplicated by its printed form (json.ts printOp), so no input is tried twice.
 * Deterministic for a deterministic predicate, unless the wall-clock deadline cuts it short.
 */
import { performance } from 'node:perf_hooks';
import { OpParseError } from '../ops/errors';
import { parseOp, printOp } from '../ops/json';
import { isHandleRef, parseHandleRef, printHandleRef, type Json } from '../ops/kinds';
import { formatHex, parseU64 } from '../ops/numbers';
import { OPS } from '../ops/table';
import type { Op } from '../ops/types';
import type { FuzzInput } from './types';

export interface MinimizeOptions {
  /** Wall-clock budget in ms; the smallest failing input found by then is returned. Default: none. */
  readonly deadlineMs?: number;
  /** Budget in predicate calls (a deterministic alternative to the deadline). Default: none. */
  readonly maxTests?: number;
}

/**
 * minimize - shrink @input while @stillFails holds.
 * @input: a failing input (ops[0] the platform)
 * @stillFails: true when a candidate still shows the failure; never called twice on the same text
 * Returns the smallest failing input found (@input itself if it does not fail).
 */
export function minimize(input: FuzzInput, stillFails: (candidate: FuzzInput) => boolean, opts: MinimizeOptions = {}): FuzzInput {
  const steps = new Minimizer(opts).run(input);
  let step = steps.next();
  while (!step.done) step = steps.next(stillFails(step.value));
  return step.value;
}

/**
 * minimizeAsync - minimize() for a predicate that has to wait (a divergence between the reference
 * and a child process): the same passes and candidates in the same order, so the same result.
 */
export async function minimizeAsync(input: FuzzInput, stillFails: (candidate: FuzzInput) => Promise<boolean>, opts: MinimizeOptions = {}): Promise<FuzzInput> {
  const steps = new Minimizer(opts).run(input);
  let step = steps.next();
  while (!step.done) step = steps.next(await stillFails(step.value));
  return step.value;
}

/** The passes yield each candidate and resume with the predicate's verdict on it. */
type Asks<T> = Generator<FuzzInput, T, boolean>;

/** Ops whose `name` argument creates something later ops refer to by that name. */
const NAME_DEFINERS: ReadonlySet<string> = new Set(['device_add', 'iommu_add', 'iommu_domain_alloc', 'init_iova_domain', 'dma_pool_create']);
/** Arguments that name things: never simplified (another name is only an unknown-name input error). */
const NAME_KEYS: ReadonlySet<string> = new Set(['op', 'dev', 'name', 'domain', 'iommu', 'pool', 'state', 'as', 'group']);

interface Deps {
  readonly defs: readonly string[];
  readonly uses: readonly string[];
}

class Minimizer {
  private readonly seen = new Set<string>();
  private readonly deps = new WeakMap<Op, Deps>();
  private readonly deadline: number;
  private readonly maxTests: number;
  private tests = 0;
  private exhausted = false;

  constructor(opts: MinimizeOptions) {
    this.deadline = opts.deadlineMs === undefined ? Infinity : performance.now() + opts.deadlineMs;
    this.maxTests = opts.maxTests ?? Infinity;
  }

  *run(input: FuzzInput): Asks<FuzzInput> {
    if (input.length === 0 || !(yield* this.test(input))) return input;
    let best: readonly Op[] = input;
    for (;;) {
      const before = printed(best);
      best = yield* this.prefix(best);
      best = yield* this.removeOps(best);
      best = yield* this.simplifyShared(best);
      best = yield* this.simplifyArgs(best);
      if (this.exhausted || printed(best) === before) return best;
    }
  }

  /** Asks the predicate, once per printed form and within the budget. */
  private *test(c: readonly Op[]): Asks<boolean> {
    const key = printed(c);
    if (this.seen.has(key)) return false;
    if (this.exhausted || this.tests >= this.maxTests || performance.now() > this.deadline) {
      this.exhausted = true;
      return false;
    }
    this.seen.add(key);
    this.tests++;
    return yield c;
  }

  /** Pass 1: the shortest failing prefix; ops[0, hi) always fails. */
  private *prefix(ops: readonly Op[]): Asks<readonly Op[]> {
    let lo = 1;
    let hi = ops.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (yield* this.test(ops.slice(0, mid))) hi = mid;
      else lo = mid + 1;
    }
    return ops.slice(0, hi);
  }

  /** Pass 2: ddmin over ops[1 .. n-2], removing chunks (and what depends on them). */
  private *removeOps(ops: readonly Op[]): Asks<readonly Op[]> {
    let n = 2;
    while (!this.exhausted) {
      const body = ops.length - 2; // neither the platform nor the failing op
      if (body < 1) break;
      n = Math.min(n, body);
      const size = Math.ceil(body / n);
      let reduced = false;
      for (let from = 1; from < ops.length - 1 && !this.exhausted; from += size) {
        const cand = this.without(ops, from, Math.min(from + size, ops.length - 1), this.defsOf(ops));
        if (yield* this.test(cand)) {
          ops = cand;
          n = Math.max(n - 1, 2);
          reduced = true;
          break;
        }
      }
      if (!reduced) {
        if (n >= body) break;
        n = Math.min(n * 2, body);
      }
    }
    return ops;
  }

  /** Pass 3: a number that appears more than once, replaced everywhere by a simpler one. */
  private *simplifyShared(ops: readonly Op[]): Asks<readonly Op[]> {
    let progress = true;
    while (progress && !this.exhausted) {
      progress = false;
      const json = ops.map(printOp);
      for (const v of sharedNumbers(json)) {
        for (const c of smallerNumbers(v)) {
          const cand = reparse(json.map((o) => replaceNumber(o, v, formatHex(c), undefined)));
          if (cand && (yield* this.test(this.without(cand, 0, 0, this.defsOf(ops))))) {
            ops = this.without(cand, 0, 0, this.defsOf(ops));
            progress = true;
            break;
          }
          if (this.exhausted) break;
        }
        if (progress || this.exhausted) break;
      }
    }
    return ops;
  }

  /** Pass 4: for each op, the first simpler variant that still fails, until none does. */
  private *simplifyArgs(ops: readonly Op[]): Asks<readonly Op[]> {
    for (let i = 0; i < ops.length && !this.exhausted; i++) {
      let progress = true;
      while (progress && !this.exhausted && i < ops.length) {
        progress = false;
        for (const variant of opVariants(ops[i])) {
          const replaced = ops.slice();
          replaced[i] = variant;
          // A variant may drop a definition (`as`): its users go too, judged by the old definitions.
          const cand = this.without(replaced, 0, 0, this.defsOf(ops));
          if (yield* this.test(cand)) {
            ops = cand;
            progress = true;
            break;
          }
          if (this.exhausted) break;
        }
      }
    }
    return ops;
  }

  /**
   * ops without [from, to), and without every later op that uses a name (of `known`) that no
   * remaining op before it defines: such an op could only fail as an input error.
   */
  private without(ops: readonly Op[], from: number, to: number, known: ReadonlySet<string>): Op[] {
    const defined = new Set<string>();
    const out: Op[] = [];
    ops.forEach((op, i) => {
      if (i >= from && i < to) return;
      const d = this.depsOf(op);
      if (i > 0 && d.uses.some((u) => known.has(u) && !defined.has(u))) return;
      out.push(op);
      for (const n of d.defs) defined.add(n);
    });
    return out;
  }

  private defsOf(ops: readonly Op[]): Set<string> {
    const s = new Set<string>();
    for (const op of ops) for (const n of this.depsOf(op).defs) s.add(n);
    return s;
  }

  private depsOf(op: Op): Deps {
    let d = this.deps.get(op);
    if (!d) this.deps.set(op, (d = opDeps(op)));
    return d;
  }
}

const printed = (ops: readonly Op[]): string => JSON.stringify(ops.map(printOp));

/** What an op defines (names later ops may use) and the strings and handles it uses. */
function opDeps(op: Op): Deps {
  const spec = OPS[op.op];
  const defKeys = new Set<string>();
  if (NAME_DEFINERS.has(op.op)) defKeys.add('name');
  if (spec.handle) defKeys.add(spec.handleArg ?? 'as');
  const defs: string[] = [];
  const uses: string[] = [];
  for (const [k, v] of Object.entries(op)) {
    if (k === 'op') continue;
    if (defKeys.has(k) && typeof v === 'string') defs.push(v);
    else if (op.op === 'repeat' && k === 'ops' && Array.isArray(v)) {
      // Names an inner op defines are in scope for the inner ops after it.
      const local = new Set<string>();
      for (const inner of v as Op[]) {
        const d = opDeps(inner);
        for (const u of d.uses) if (!local.has(u)) uses.push(u);
        for (const n of d.defs) local.add(n), defs.push(n);
      }
    } else collectUses(v, uses);
  }
  return { defs, uses };
}

function collectUses(v: unknown, out: string[]): void {
  if (typeof v === 'string') out.push(v);
  else if (isHandleRef(v)) out.push(v.handle);
  else if (Array.isArray(v)) for (const x of v) collectUses(x, out);
  else if (typeof v === 'object' && v !== null) for (const x of Object.values(v)) collectUses(x, out);
}

// ---- argument variants, simplest first ------------------------------------------------------

/** Numeric leaves (outside name fields) that occur at least twice, in order of first appearance. */
function sharedNumbers(json: readonly Json[]): bigint[] {
  const seen = new Map<bigint, number>();
  const walk = (v: Json, key: string | undefined): void => {
    if (key !== undefined && NAME_KEYS.has(key)) return;
    if (typeof v === 'string') {
      const n = v.startsWith('$') ? undefined : parseU64(v);
      if (n !== undefined && n > 0n) seen.set(n, (seen.get(n) ?? 0) + 1);
    } else if (Array.isArray(v)) for (const x of v) walk(x, undefined);
    else if (typeof v === 'object' && v !== null) for (const [k, x] of Object.entries(v)) walk(x, k);
  };
  for (const o of json) walk(o, undefined);
  return [...seen].filter(([, n]) => n > 1).map(([v]) => v);
}

function replaceNumber(v: Json, from: bigint, to: string, key: string | undefined): Json {
  if (key !== undefined && NAME_KEYS.has(key)) return v;
  if (typeof v === 'string') return !v.startsWith('$') && parseU64(v) === from ? to : v;
  if (Array.isArray(v)) return v.map((x) => replaceNumber(x, from, to, undefined));
  if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, replaceNumber(x, from, to, k)]));
  return v;
}

/** Parses a printed op list back, or undefined if the table refuses any op. */
function reparse(json: readonly Json[]): Op[] | undefined {
  try {
    return json.map((o) => parseOp(o));
  } catch (e) {
    if (e instanceof OpParseError) return undefined;
    throw e;
  }
}

/** Valid ops simpler than `op`: each variant of its printed form that parseOp accepts. */
function* opVariants(op: Op): Generator<Op> {
  for (const v of jsonVariants(printOp(op), undefined)) {
    try {
      yield parseOp(v);
    } catch (e) {
      if (!(e instanceof OpParseError)) throw e;
    }
  }
}

function* jsonVariants(v: Json, key: string | undefined): Generator<Json> {
  if (key !== undefined && NAME_KEYS.has(key)) return;
  if (Array.isArray(v)) {
    for (let i = v.length - 1; i >= 0; i--) yield [...v.slice(0, i), ...v.slice(i + 1)];
    for (let i = 0; i < v.length; i++) for (const w of jsonVariants(v[i], undefined)) yield [...v.slice(0, i), w, ...v.slice(i + 1)];
  } else if (typeof v === 'object' && v !== null) {
    const keys = Object.keys(v).filter((k) => k !== 'op');
    for (const k of keys) {
      const { [k]: _dropped, ...rest } = v;
      yield rest;
    }
    for (const k of keys) for (const w of jsonVariants(v[k], k)) yield { ...v, [k]: w };
  } else if (typeof v === 'string') {
    yield* stringVariants(v);
  } else if (typeof v === 'number') {
    for (const n of [0, 1, Math.floor(v / 2)]) if (n < v) yield n;
  } else if (v === true) {
    yield false;
  }
}

function* stringVariants(s: string): Generator<Json> {
  if (s.startsWith('$')) {
    const ref = parseHandleRef(s);
    if (ref && ref.offset !== 0n) yield printHandleRef({ ...ref, offset: 0n });
    return;
  }
  const n = parseU64(s);
  if (n !== undefined) {
    for (const c of smallerNumbers(n)) yield formatHex(c);
    return;
  }
  // Byte data as hex: keep the first half.
  if (/^(?:[0-9a-f]{2}){2,}$/.test(s)) yield s.slice(0, Math.floor(s.length / 4) * 2);
}

/** Simpler values below v, ascending: 0, 1, v rounded down to large powers of two, 2^floor(log2 v), v/2. */
export function smallerNumbers(v: bigint): bigint[] {
  const out = new Set<bigint>([0n, 1n]);
  for (const k of [40n, 32n, 30n, 21n, 16n, 12n, 9n, 6n]) out.add(v & ~((1n << k) - 1n));
  out.add(1n << BigInt(v.toString(2).length - 1));
  out.add(v >> 1n);
  return [...out].filter((c) => c < v).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
