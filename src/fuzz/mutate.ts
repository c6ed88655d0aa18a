/**
 * Mutation: one fuzz input in, a related one out (syzkaller's mutation.go).
 * Insert generated ops (the generator's tracker replayed over the prefix),
 * delete, duplicate, reorder, splice ops from another corpus entry, or nudge
 * a number towards a value where the DMA stack changes behaviour. ops[0]
 * stays this input's platform op.
 *
 * Dangling handles: deleting or moving an op can leave later ops naming
 * something no longer defined before them (a handle, device, pool, domain or
 * IOVA state). repair() drops such ops, in one forward pass (so what they
 * defined goes too), and any op the engine would refuse as input (a CPU
 * beyond ncpus, nents past the list, the IOVA API on 6.12, ...). What repair
 * cannot see is a create that fails at run time; the executor meets that.
 */
import { isHandleRef, type HandleRef } from '../ops/kinds';
import { OPS, type OpName } from '../ops/table';
import type { Op } from '../ops/types';
import { generateOps, trackOps } from './generate';
import { DMA_BIT_MASK } from './platforms';
import { weighted } from './rng';
import type { FuzzInput, Rng } from './types';

type Ops = Op[];
type Strategy = (rng: Rng, ops: Ops, setup: number, corpus: readonly FuzzInput[]) => Ops;

const SETUP_OPS = new Set<OpName>(['iommu_add', 'device_add', 'iommu_domain_alloc', 'init_iova_domain']);

/** How many ops at the head set the machine up (the platform op and the iommu_add / device_add after it). */
export function setupLength(ops: readonly Op[]): number {
  let n = 1;
  while (n < ops.length && SETUP_OPS.has(ops[n]!.op)) n++;
  return n;
}

/**
 * mutate - a new input derived from @input: one to three strategies, then repair().
 * @corpus: entries to splice from (may be empty). Deterministic in @rng.
 * @allowed: for conformance runs, only these ops (and platform) survive; what used
 * a dropped op's handle goes too (repair), so the result stays handle-consistent.
 */
export function mutate(rng: Rng, input: FuzzInput, corpus: readonly FuzzInput[], allowed?: ReadonlySet<OpName>): Op[] {
  if (input.length === 0 || input[0]!.op !== 'platform') return [...input];
  let ops: Ops = [...input];
  const setup = setupLength(ops);
  const rounds = rng.chance(0.3) ? 2 + rng.int(2) : 1;
  for (let i = 0; i < rounds; i++) ops = STRATEGIES[weighted(rng, STRATEGY_WEIGHTS)]!(rng, ops, setup, corpus);
  return repair(allowed ? ops.filter((o, i) => i === 0 || opAllowed(o, allowed)) : ops);
}

/** @op and, for a repeat, every op inside it are in @allowed. */
function opAllowed(op: Op, allowed: ReadonlySet<OpName>): boolean {
  return allowed.has(op.op) && (op.op !== 'repeat' || (op.ops as readonly Op[]).every((o) => opAllowed(o, allowed)));
}

// ---- strategies --------------------------------------------------------------------------------

/** A position in the body (after the set-up ops), end included. */
const bodyPos = (rng: Rng, ops: Ops, setup: number): number => setup + rng.int(ops.length - setup + 1);

/** Generated ops at a random point, continuing from what the prefix left live (names kept fresh for the whole input). */
const insert: Strategy = (rng, ops, setup) => {
  const at = rng.chance(0.3) ? ops.length : bodyPos(rng, ops, setup);
  const st = trackOps(ops.slice(0, at));
  for (const n of namesIn(ops)) st.names.add(n);
  const fresh = generateOps(rng, st, 1 + rng.int(6), rng.chance(0.2) ? 0.5 : 0.05);
  return [...ops.slice(0, at), ...fresh, ...ops.slice(at)];
};

const remove: Strategy = (rng, ops, setup) => {
  if (ops.length <= setup) return ops;
  const at = setup + rng.int(ops.length - setup);
  return [...ops.slice(0, at), ...ops.slice(at + 1 + rng.int(3))];
};

/** A run of 1–3 ops again, later; what the copy defines gets fresh names, so the original stays intact. */
const duplicate: Strategy = (rng, ops, setup) => {
  if (ops.length <= setup) return ops;
  const from = setup + rng.int(ops.length - setup);
  const run = ops.slice(from, from + 1 + rng.int(3));
  const to = from + run.length + rng.int(ops.length - from - run.length + 1);
  const copy = freshen(run, namesIn(ops), emptyMaps());
  return [...ops.slice(0, to), ...copy, ...ops.slice(to)];
};

/** Swap two ops, or move one elsewhere: uses may now precede definitions (repair drops them). */
const reorder: Strategy = (rng, ops, setup) => {
  if (ops.length - setup < 2) return ops;
  const out = [...ops];
  const i = setup + rng.int(ops.length - setup);
  const j = setup + rng.int(ops.length - setup);
  if (rng.chance(0.5)) {
    [out[i], out[j]] = [out[j]!, out[i]!];
    return out;
  }
  const [op] = out.splice(i, 1);
  out.splice(j, 0, op!);
  return out;
};

/**
 * Ops 1–10 of another entry's body, inserted here. Every handle, state and pool name in them
 * is renamed fresh, so only ops whose names the chunk itself defines survive repair (a name that
 * happened to exist here too would mean something else); devices and domains are mapped onto
 * this machine's.
 */
const splice: Strategy = (rng, ops, setup, corpus) => {
  const donors = corpus.filter((c) => c.length > setupLength(c));
  if (donors.length === 0) return insert(rng, ops, setup, corpus);
  const other = rng.pick(donors);
  const os = setupLength(other);
  const from = os + rng.int(other.length - os);
  const chunk = other.slice(from, from + 1 + rng.int(10)).filter((o) => o.op !== 'platform');
  const here = envOf(ops.slice(0, setup));
  const maps = emptyMaps();
  for (const o of chunk) {
    const dev = 'dev' in o && typeof o.dev === 'string' ? o.dev : undefined;
    if (dev && !here.devices.has(dev) && !maps.devices.has(dev) && here.devices.size > 0) maps.devices.set(dev, rng.pick([...here.devices]));
    const dom = 'domain' in o && typeof o.domain === 'string' ? o.domain : undefined;
    if (dom && !here.domains.has(dom) && !maps.domains.has(dom) && here.domains.size > 0) maps.domains.set(dom, rng.pick([...here.domains.keys()]));
  }
  const taken = new Set([...namesIn(ops), ...namesIn(chunk)]);
  for (const n of namesIn(chunk)) maps.handles.set(n, freshName(n, taken));
  for (const o of chunk) {
    const pool = 'pool' in o && typeof o.pool === 'string' ? o.pool : o.op === 'dma_pool_create' ? o.name : undefined;
    if (pool !== undefined && !maps.pools.has(pool)) maps.pools.set(pool, freshName(pool, taken));
  }
  const at = bodyPos(rng, ops, setup);
  return [...ops.slice(0, at), ...chunk.map((o) => renameOp(o, maps)), ...ops.slice(at)];
};

const UNMAPS = new Set<OpName>(['dma_unmap_page', 'dma_unmap_phys', 'dma_unmap_single']);

/**
 * narrow - an unmap cut down to its last (sometimes first) page or 16/64 KiB: a partial unmap, the
 * misuse that splits a block mapping. Two coordinated changes (offset and size) a single tweak
 * would need two lucky draws for.
 */
const narrow: Strategy = (rng, ops, setup) => {
  const at = ops.map((o, i) => (i >= setup && UNMAPS.has(o.op) ? i : -1)).filter((i) => i >= 0);
  if (at.length === 0) return ops;
  const i = rng.pick(at);
  const rec = ops[i] as unknown as Record<string, unknown>;
  const size = rec.size;
  const addr = rec.dma_addr;
  const pieces = [0x1000n, 0x4000n, 0x1_0000n].filter((p) => typeof size === 'bigint' && p < size);
  if (typeof size !== 'bigint' || !isHandleRef(addr) || pieces.length === 0) return ops;
  const piece = rng.pick(pieces);
  const out = [...ops];
  out[i] = { ...rec, dma_addr: { ...addr, offset: addr.offset + (rng.chance(0.75) ? size - piece : 0n) }, size: piece } as unknown as Op;
  return out;
};

const STRATEGIES: readonly Strategy[] = [insert, remove, duplicate, reorder, splice, (rng, ops, setup) => tweak(rng, ops, setup), narrow];
const STRATEGY_WEIGHTS = [30, 15, 10, 10, 10, 25, 4];

// ---- interesting numbers -------------------------------------------------------------------------

const G4 = 1n << 32n;
const U64_MAX = (1n << 64n) - 1n;
const MASK_BITS = [24, 32, 36, 39, 40, 48, 64];
/** DMA_BIT_MASK(n) and the values either side of it. */
const MASK_EDGES = MASK_BITS.map(DMA_BIT_MASK);
/**
 * Slots (2 KiB), pages (4/16/64 KiB), 2 MiB blocks, the 256 KiB (128-slot) swiotlb segment, 4 GiB: each ±1; and 0, 1.
 * Also a segment less one slot or one page (the longest bounce with min_align_mask 0x7ff / 0xfff: runs that end on
 * a segment boundary), and 2 MiB less a page (the tail of a block).
 */
const SIZE_EDGES = [
  0n, 1n, ...[2048n, 4096n, 0x4000n, 0x1_0000n, 0x4_0000n, 0x20_0000n].flatMap((v) => [v - 1n, v, v + 1n]), 128n * 2048n + 2048n,
  0x4_0000n - 0x800n, 0x4_0000n - 0x1000n, 0x20_0000n - 0x1000n, G4 - 0x1000n, G4,
];
/** 4 GiB ± a page, the top of each mask, the 16 MiB ZONE_DMA edge, a 2 MiB block start. */
const ADDR_EDGES = [G4 - 0x1000n, G4 - 1n, G4, G4 + 0x1000n, 0x100_0000n - 0x1000n, 0x100_0000n, 0x20_0000n, ...MASK_EDGES.map((m) => m - 0xfffn)];
const BOUNDARY_MASKS = [0xffffn, 0xf_ffffn, 0xffff_ffffn, U64_MAX];
const MIN_ALIGN_MASKS = [0n, 0x7ffn, 0xfffn, 0x3fffn];
const MS = [0, 1, 9, 10, 11, 100, 101, 1000];
/** Repeat counts: a magazine (127) and a flush queue (256) ±1, and two queues' worth (the ring wraps). */
const TIMES = [1, 2, 127, 128, 129, 255, 256, 257, 511, 512, 513];
const POOL_SIZES = [256n << 10n, 512n << 10n, 1n << 20n]; // swiotlb pools small enough to exhaust

/** v moved by a step that matters: ±1, a cache line, a slot, a page; rounded to a page or a 2 MiB block; doubled or halved. */
function nudge(rng: Rng, v: bigint): bigint {
  const step = rng.pick([1n, 64n, 128n, 2048n, 4096n]);
  const out = rng.pick([v + step, v - step, v & ~0xfffn, (v + 0x1f_ffffn) & ~0x1f_ffffn, v * 2n, v / 2n]);
  return out < 0n ? 0n : out > U64_MAX ? U64_MAX : out;
}

/** Probes copy real bytes: the engine refuses more than 64 MiB at once (an input error, not a finding). */
const MAX_PROBE = 1n << 26n;

/** A new value for a numeric argument of @op, chosen by what the argument means. */
function interesting(rng: Rng, op: OpName, field: string, v: bigint): bigint {
  const out = pickInteresting(rng, field, v);
  return OPS[op].layer === 'probe' && field === 'size' && out > MAX_PROBE ? MAX_PROBE : out;
}

function pickInteresting(rng: Rng, field: string, v: bigint): bigint {
  if (rng.chance(0.35)) return nudge(rng, v);
  if ((field.endsWith('mask') && field !== 'segment_boundary_mask' && field !== 'min_align_mask') || field === 'bus_dma_limit') return rng.pick(MASK_EDGES);
  if (field === 'segment_boundary_mask') return rng.pick(BOUNDARY_MASKS);
  if (field === 'min_align_mask') return rng.pick(MIN_ALIGN_MASKS);
  if (field === 'phys' || field === 'dma_addr' || field === 'iova' || field === 'paddr' || field === 'tlb_addr') return rng.pick(ADDR_EDGES);
  return rng.pick(SIZE_EDGES);
}

const TWEAKABLE_DEVICE_FIELDS = ['dma_mask', 'coherent_dma_mask', 'min_align_mask', 'max_segment_size', 'segment_boundary_mask', 'bus_dma_limit'];

/**
 * tweak - one number of one op moves towards an interesting value: sizes and addresses,
 * handle offsets, sg entries, data lengths, nents, times, ms, device masks and the pool size.
 * Half the time every op carrying the same size moves with it (a map and its unmap stay paired).
 */
function tweak(rng: Rng, ops: Ops, setup: number): Ops {
  const out = [...ops];
  if (rng.chance(0.05)) return tweakPool(rng, out);
  const devAdds = out.map((o, i) => (o.op === 'device_add' ? i : -1)).filter((i) => i > 0);
  const i = devAdds.length > 0 && rng.chance(0.15) ? rng.pick(devAdds) : out.length > setup ? setup + rng.int(out.length - setup) : -1;
  if (i < 0) return out;
  const op = out[i]!;
  const rec = op as unknown as Record<string, unknown>;
  const fields = Object.keys(rec).filter((k) => k !== 'op' && (op.op !== 'device_add' || TWEAKABLE_DEVICE_FIELDS.includes(k)) && tweakable(rec[k], k));
  if (fields.length === 0) return out;
  const field = rng.pick(fields);
  const old = rec[field];
  const next = retune(rng, op.op, field, old, ops, i);
  out[i] = { ...rec, [field]: next } as unknown as Op;
  if (typeof old === 'bigint' && typeof next === 'bigint' && SIZE_FIELDS.has(field) && rng.chance(0.5)) {
    for (let j = setup; j < out.length; j++) {
      const r = out[j] as unknown as Record<string, unknown>;
      const capped = OPS[out[j]!.op].layer === 'probe' && next > MAX_PROBE;
      for (const f of SIZE_FIELDS) if (r[f] === old && !capped) out[j] = { ...r, [f]: next } as unknown as Op;
    }
  }
  return out;
}

const SIZE_FIELDS = new Set(['size', 'mapped_len', 'length']);
const COUNT_FIELDS = new Set(['nents', 'times', 'ms', 'repeat']);

function tweakable(v: unknown, field: string): boolean {
  if (isHandleRef(v)) return field !== 'sg'; // an sg handle takes no offset
  if (typeof v === 'bigint') return true;
  if (typeof v === 'number') return COUNT_FIELDS.has(field);
  if (field === 'data') return true;
  return field === 'sg' && Array.isArray(v);
}

function retune(rng: Rng, op: OpName, field: string, v: unknown, ops: Ops, at: number): unknown {
  if (typeof v === 'bigint') return interesting(rng, op, field, v);
    // Offsets into a mapping: 0, sub-slot, a slot, a page ±1, and the last page of a 2 MiB block (its tail).
  if (isHandleRef(v)) return { ...v, offset: rng.chance(0.5) ? 0n : rng.pick([1n, 64n, 0x7ffn, 0x800n, 0xfffn, 0x1000n, 0x1001n, 0x1f_f000n]) };
  if (field === 'nents') return 1 + rng.int(Math.max(1, sgLengthAt(ops, at)));
  if (field === 'times') return rng.pick(TIMES);
  if (field === 'ms') return rng.pick(MS);
  if (typeof v === 'number') return 1 + rng.int(300); // alloc_iova_fast / free_iova_fast repeat
  if (field === 'data') return { len: Number(rng.pick([1n, 63n, 64n, 65n, 2047n, 2048n, 4096n, 4097n])), seed: rng.int(1 << 16) };
  if (field === 'sg' && Array.isArray(v) && v.length > 0) {
    const ents = [...(v as Record<string, unknown>[])];
    const k = rng.int(ents.length);
    const e = ents[k]!;
    const key = rng.chance(0.5) ? 'length' : 'phys';
    if (typeof e[key] === 'bigint') ents[k] = { ...e, [key]: key === 'length' ? interesting(rng, op, 'size', e[key] as bigint) || 1n : nudge(rng, e[key] as bigint) };
    return ents;
  }
  return v;
}

/** The number of entries an op's sg argument has (for nents). */
function sgLengthAt(ops: Ops, at: number): number {
  const o = ops[at] as unknown as Record<string, unknown>;
  if (Array.isArray(o.sg)) return o.sg.length;
  if (!isHandleRef(o.sg)) return 1;
  const h = o.sg.handle;
  for (let j = at - 1; j >= 0; j--) {
    const d = ops[j] as unknown as Record<string, unknown>;
    if (d.as === h && Array.isArray(d.sg)) return d.sg.length;
  }
  return 1;
}

function tweakPool(rng: Rng, ops: Ops): Ops {
  const p = ops[0]!;
  if (p.op !== 'platform' || !p.swiotlb) return ops;
  return [{ ...p, swiotlb: { ...p.swiotlb, size: rng.pick(POOL_SIZES) } }, ...ops.slice(1)];
}

// ---- names: what an op defines and refers to ---------------------------------------------------

interface NameMaps {
  readonly handles: Map<string, string>;
  readonly devices: Map<string, string>;
  readonly domains: Map<string, string>;
  readonly pools: Map<string, string>;
}
const emptyMaps = (): NameMaps => ({ handles: new Map(), devices: new Map(), domains: new Map(), pools: new Map() });

/** The name an op defines as a handle (its `as`, or dma_iova_try_alloc's state). */
function definedHandle(op: Op): string | undefined {
  const spec = OPS[op.op];
  if (!spec.handle) return undefined;
  const v = (op as unknown as Record<string, unknown>)[spec.handleArg ?? 'as'];
  return typeof v === 'string' ? v : undefined;
}

/** Every handle, state and pool name an op list defines or uses (fresh names avoid them all). */
function namesIn(ops: readonly Op[]): Set<string> {
  const out = new Set<string>();
  const walk = (v: unknown): void => {
    if (isHandleRef(v)) out.add(v.handle);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (typeof v === 'object' && v !== null) Object.values(v).forEach(walk);
  };
  for (const op of ops) {
    const h = definedHandle(op);
    if (h) out.add(h);
    if (op.op === 'dma_pool_create') out.add(op.name);
    if (op.op === 'repeat') namesIn(op.ops as Op[]).forEach((n) => out.add(n));
    else walk(op);
  }
  return out;
}

function freshName(base: string, taken: Set<string>): string {
  const stem = base.replace(/\d+$/, '') || 'h';
  let k = 0;
  while (taken.has(`${stem}${k}`)) k++;
  taken.add(`${stem}${k}`);
  return `${stem}${k}`;
}

/** @run with what it defines renamed away from @taken, and names mapped per @maps. */
function freshen(run: readonly Op[], taken: Set<string>, maps: NameMaps): Op[] {
  const all = new Set([...taken, ...namesIn(run)]);
  for (const op of run) {
    const h = definedHandle(op);
    if (h && !maps.handles.has(h)) maps.handles.set(h, freshName(h, all));
    if (op.op === 'dma_pool_create' && !maps.pools.has(op.name)) maps.pools.set(op.name, freshName(op.name, all));
  }
  return run.map((op) => renameOp(op, maps));
}

/** The op with handle, device, domain and pool names replaced per @maps. */
function renameOp(op: Op, maps: NameMaps): Op {
  const rename = (v: unknown): unknown => {
    if (isHandleRef(v)) return { ...v, handle: maps.handles.get(v.handle) ?? v.handle } satisfies HandleRef;
    if (Array.isArray(v)) return v.map(rename);
    if (typeof v === 'object' && v !== null && typeof v !== 'bigint') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, rename(x)]));
    return v;
  };
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(op)) {
    if (typeof v !== 'string' || k === 'op') out[k] = k === 'ops' && Array.isArray(v) ? (v as Op[]).map((o) => renameOp(o, maps)) : rename(v);
    else if (k === 'as' || k === 'state') out[k] = maps.handles.get(v) ?? v;
    else if (k === 'dev' || (k === 'name' && op.op === 'device_remove')) out[k] = maps.devices.get(v) ?? v;
    else if (k === 'domain') out[k] = maps.domains.get(v) ?? v;
    else if (k === 'pool' || (k === 'name' && op.op === 'dma_pool_create')) out[k] = maps.pools.get(v) ?? v;
    else out[k] = v;
  }
  return out as unknown as Op;
}

// ---- repair: drop what the engine would refuse as input ----------------------------------------

interface Def { readonly op: OpName; readonly sgLen?: number }
interface Env {
  ncpus: number;
  linux: string;
  arch: string;
  page: bigint;
  readonly devices: Set<string>;
  readonly iommus: Map<string, string>;
  /** Domain names, true for those with an IOVA allocator (DMA, DMA_FQ, init_iova_domain). */
  readonly domains: Map<string, boolean>;
  readonly pools: Set<string>;
  readonly defs: Map<string, Def>;
}

const newEnv = (): Env => ({ ncpus: 1, linux: 'newest', arch: 'x86_64', page: 0x1000n, devices: new Set(), iommus: new Map(), domains: new Map(), pools: new Set(), defs: new Map() });
const cloneEnv = (e: Env): Env => ({ ...e, devices: new Set(e.devices), iommus: new Map(e.iommus), domains: new Map(e.domains), pools: new Set(e.pools), defs: new Map(e.defs) });

function envOf(ops: readonly Op[]): Env {
  const env = newEnv();
  for (const op of ops) if (valid(op, env, ops[0] === op)) apply(op, env);
  return env;
}

/**
 * repair - @ops without the ops that would be input errors where they stand (and,
 * transitively, the ops that used what those defined). ops[0] must be the platform.
 */
export function repair(ops: readonly Op[]): Op[] {
  const env = newEnv();
  const out: Op[] = [];
  ops.forEach((op, i) => {
    if (!valid(op, env, i === 0)) return;
    apply(op, env);
    out.push(op);
  });
  return out;
}

const ADDRESS_RESULTS = new Set(['dma_addr', 'cpu_addr', 'tlb_addr', 'pfn_lo', 'pfn_hi', 'pfn', 'addr']);
const SG_FIELDS = new Set(['dma_address', 'dma_length', 'phys', 'length']);
const IOVA_API = new Set<OpName>(['dma_iova_try_alloc', 'dma_use_iova', 'dma_iova_size', 'dma_iova_link', 'dma_iova_sync', 'dma_iova_unlink', 'dma_iova_destroy', 'dma_iova_free']);
const IOVA_DOMAIN_OPS = new Set<OpName>(['alloc_iova', 'free_iova', 'alloc_iova_fast', 'free_iova_fast', 'reserve_iova', 'find_iova', 'iova_cpuhp_dead', 'iova_info']);

/** The engine resolves @r (handles.ts): defined, and naming a field the defining op returns. */
function refOk(r: HandleRef, env: Env, sgArg: boolean): boolean {
  const d = env.defs.get(r.handle);
  if (!d) return false;
  const isSg = d.op === 'dma_map_sg' || d.op === 'dma_map_sgtable';
  if (sgArg) return isSg;
  if (isSg) {
    if (r.index !== undefined) return r.index < (d.sgLen ?? 0) && (r.field === undefined || SG_FIELDS.has(r.field));
    return r.field === undefined;
  }
  if (r.index !== undefined) return false;
  const field = r.field ?? OPS[d.op].handle;
  return field !== undefined && ADDRESS_RESULTS.has(field) && (OPS[d.op].results as readonly string[]).includes(field);
}

function refsOk(op: Op, env: Env): boolean {
  let ok = true;
  const walk = (v: unknown, sgArg: boolean): void => {
    if (!ok) return;
    if (isHandleRef(v)) ok = refOk(v, env, sgArg);
    else if (Array.isArray(v)) v.forEach((x) => walk(x, false));
    else if (typeof v === 'object' && v !== null) Object.values(v).forEach((x) => walk(x, false));
  };
  for (const [k, v] of Object.entries(op)) if (k !== 'ops') walk(v, k === 'sg');
  return ok;
}

const pow2 = (v: bigint): boolean => v > 0n && (v & (v - 1n)) === 0n;

/** Whether the engine would run @op in @env rather than refuse it as input (engine.ts, setup.ts, dispatch*.ts). */
function valid(op: Op, env: Env, first: boolean): boolean {
  if ((op.op === 'platform') !== first) return false;
  if (first) return true;
  const a = op as unknown as Record<string, unknown>;
  if (typeof a.cpu === 'number' && a.cpu >= env.ncpus) return false;
  if (typeof a.dev === 'string' && !env.devices.has(a.dev)) return false;
  if (typeof a.pool === 'string' && !env.pools.has(a.pool)) return false;
  if (typeof a.domain === 'string' && (IOVA_DOMAIN_OPS.has(op.op) ? env.domains.get(a.domain) !== true : !env.domains.has(a.domain))) return false;
  if (IOVA_API.has(op.op) && env.linux === '6.12') return false;
  if (op.op === 'dma_need_unmap' && env.linux === '6.12') return false;
  if (IOVA_API.has(op.op) && op.op !== 'dma_iova_try_alloc' && env.defs.get(a.state as string)?.op !== 'dma_iova_try_alloc') return false;
  if ((op.op === 'alloc_iova_fast' || op.op === 'free_iova_fast') && op.repeat === 0) return false;
  if (!refsOk(op, env)) return false;
  if (typeof a.nents === 'number' && a.nents > sgLen(a.sg, env)) return false;
  switch (op.op) {
    case 'device_add':
      return !env.devices.has(op.name) && (op.iommu === undefined || env.iommus.has(op.iommu)) && (op.coherent !== false || env.arch === 'arm64')
        && (op.segment_boundary_mask === undefined || op.segment_boundary_mask === U64_MAX || pow2(op.segment_boundary_mask + 1n))
        && !(op.dma_range_map ?? []).some((m) => m.size === 0n);
    case 'device_remove': return env.devices.has(op.name);
    case 'iommu_add': return !env.iommus.has(op.name) && !env.domains.has(op.name);
    case 'iommu_domain_alloc': return !env.domains.has(op.name) && env.iommus.has(op.iommu);
    case 'init_iova_domain': return !env.domains.has(op.name) && pow2(op.granule) && op.granule <= env.page;
    case 'dma_pool_create': return !env.pools.has(op.name);
    // The allocator model refuses these with a RangeError (undefined in the kernel): a tweaked number must not turn into a crash finding.
    case 'alloc_iova': case 'alloc_iova_fast': return op.size >= 1n;
    case 'reserve_iova': return op.pfn_lo <= op.pfn_hi;
    case 'free_iova': return op.pfn !== U64_MAX;
    case 'repeat': {
      const inner = cloneEnv(env);
      for (const o of op.ops as Op[]) {
        if (!valid(o, inner, false)) return false;
        apply(o, inner);
      }
      return true;
    }
    default: return true;
  }
}

function sgLen(sg: unknown, env: Env): number {
  if (Array.isArray(sg)) return sg.length;
  return isHandleRef(sg) ? env.defs.get(sg.handle)?.sgLen ?? 0 : 0;
}

function apply(op: Op, env: Env): void {
  switch (op.op) {
    case 'platform':
      env.ncpus = op.ncpus ?? 1;
      env.linux = op.linux ?? 'newest';
      env.arch = op.arch ?? 'x86_64';
      env.page = op.page_size ?? 0x1000n;
      return;
    case 'iommu_add':
      env.iommus.set(op.name, op.mode ?? 'strict');
      env.domains.set(op.name, false);
      return;
    case 'iommu_domain_alloc':
      env.domains.set(op.name, op.type === 'DMA' || op.type === 'DMA_FQ');
      return;
    case 'init_iova_domain':
      env.domains.set(op.name, true);
      return;
    case 'device_add': {
      env.devices.add(op.name);
      const mode = op.iommu === undefined ? undefined : op.untrusted ? 'strict' : env.iommus.get(op.iommu);
      const dom = op.group ?? op.name;
      if (mode !== undefined && !env.domains.has(dom)) env.domains.set(dom, mode === 'strict' || mode === 'lazy');
      return;
    }
    case 'device_remove':
      env.devices.delete(op.name);
      return;
    case 'dma_pool_create':
      env.pools.add(op.name);
      return;
    case 'dma_pool_destroy':
      env.pools.delete(op.pool);
      return;
    case 'repeat':
      for (const o of op.ops as Op[]) apply(o, env);
      return;
    default: {
      const h = definedHandle(op);
      if (h === undefined) return;
      const sg = (op as unknown as Record<string, unknown>).sg;
      env.defs.set(h, { op: op.op, ...(sg !== undefined ? { sgLen: sgLen(sg, env) } : {}) });
    }
  }
}
