/**
 * The wire form of ops and results (docs/conformance.md "Protocol"): ops go out canonical (every
 * address/size/pfn as a 0x string, counts as JSON integers), results come back leniently (numbers as
 * JSON integers or decimal/0x strings alike) and are compared by value, never by spelling.
 */
import type { ResolvedOp } from '../engine/handles';
import { isHandleRef, type Json } from '../ops/kinds';
import { printOp } from '../ops/json';
import { formatHex, parseU64 } from '../ops/numbers';
import { isOpName, OPS, type OpName } from '../ops/table';
import type { Op, ResultValue, ResultValues, SgResultEntry } from '../ops/types';
import { ImplFault, type Hello, type WireOp } from './implementation';

/** Result fields that are text, never numbers (hex byte data looks like a number sometimes). */
const TEXT_FIELDS: ReadonlySet<string> = new Set(['data', 'type', 'pgsizes']);

/** Pairs the parsed value with its printed form: bigints become 0x hex, the rest prints as the table says. */
function canonical(parsed: unknown, printed: Json): Json {
  if (typeof parsed === 'bigint') return formatHex(parsed);
  if (isHandleRef(parsed)) throw new Error('canonical: an unresolved handle reached the wire encoder');
  if (Array.isArray(parsed) && Array.isArray(printed) && parsed.length === printed.length) {
    return printed.map((p, i) => canonical(parsed[i], p));
  }
  if (parsed !== null && typeof parsed === 'object' && printed !== null && typeof printed === 'object' && !Array.isArray(printed)) {
    const src = parsed as Record<string, unknown>;
    return Object.fromEntries(Object.entries(printed).map(([k, p]) => [k, canonical(src[k], p)]));
  }
  return printed;
}

/** encodeOp - the wire form of a resolved op: without `as`, every number canonical. */
export function encodeOp(op: ResolvedOp): WireOp {
  const { as: _as, ...rest } = op as ResolvedOp & { as?: string };
  const printed = printOp(rest as Op);
  return canonical(rest, printed) as WireOp;
}

export interface WireWarning {
  readonly code: string;
  readonly source: string;
  readonly message: string;
}

/** A result as answered, checked for shape; values stay JSON (compare.ts compares them by value). */
export type WireResult =
  | { readonly ok: true; readonly values: { readonly [k: string]: Json }; readonly warnings: readonly WireWarning[] }
  | { readonly ok: false; readonly error: string; readonly fault: boolean; readonly message?: string; readonly warnings: readonly WireWarning[] };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const show = (v: unknown): string => {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 120 ? `${s.slice(0, 117)}...` : s;
};

/** decodeResult - checks an answer's shape; anything else is garbage (an ImplFault). */
export function decodeResult(raw: unknown): WireResult {
  const bad = (what: string): never => {
    throw new ImplFault('garbage', `answered ${show(raw)}: ${what}`);
  };
  if (!isObject(raw)) return bad('expected a result object {"ok": ...}');
  const warnings: WireWarning[] = [];
  if (raw.warnings !== undefined) {
    if (!Array.isArray(raw.warnings)) return bad('"warnings" must be a list');
    raw.warnings.forEach((w, i) => {
      if (!isObject(w) || typeof w.code !== 'string') return bad(`warnings[${i}] must be {"code": STRING, ...}`);
      warnings.push({ code: w.code, source: typeof w.source === 'string' ? w.source : '', message: typeof w.message === 'string' ? w.message : '' });
    });
  }
  if (raw.ok === true) {
    const values: { [k: string]: Json } = {};
    for (const [k, v] of Object.entries(raw)) if (k !== 'ok' && k !== 'warnings') values[k] = v as Json;
    return { ok: true, values, warnings };
  }
  if (raw.ok === false) {
    if (typeof raw.error !== 'string') return bad('a failure needs "error": STRING');
    return {
      ok: false, error: raw.error, fault: raw.fault === true, warnings,
      ...(typeof raw.message === 'string' ? { message: raw.message } : {}),
    };
  }
  return bad('"ok" must be true or false');
}

/** A JSON value as a u64: JSON integers and decimal or 0x strings. */
export const wireNumber = (v: Json | undefined): bigint | undefined => (typeof v === 'number' || typeof v === 'string' ? parseU64(v) : undefined);

/**
 * handleValues - the result values a HandleTable needs (addresses as bigint, sg lists as entries),
 * from an implementation's answer. Fields that are no numbers stay as they are.
 */
export function handleValues(r: WireResult): ResultValues {
  if (!r.ok) return {};
  const out: Record<string, ResultValue> = {};
  for (const [k, v] of Object.entries(r.values)) {
    if (Array.isArray(v)) {
      out[k] = v.map((e) => {
        const o = isObject(e) ? (e as Record<string, Json>) : {};
        const n = (f: string): bigint => wireNumber(o[f]) ?? 0n;
        return { phys: n('phys'), length: n('length'), dma_address: n('dma_address'), dma_length: n('dma_length') } satisfies SgResultEntry;
      });
      continue;
    }
    const n = TEXT_FIELDS.has(k) ? undefined : wireNumber(v);
    if (n !== undefined) out[k] = n;
    else if (typeof v === 'string' || typeof v === 'boolean' || typeof v === 'number') out[k] = v;
  }
  return out;
}

/**
 * valueEqual - the reference's value and the implementation's, compared by value: numbers whatever
 * their spelling, booleans as JSON or "true"/"false", lists element by element, objects on the
 * reference's keys. Text fields compare exactly.
 */
export function valueEqual(field: string, ref: Json, impl: Json | undefined): boolean {
  if (impl === undefined) return false;
  if (typeof ref === 'boolean') return impl === ref || impl === String(ref);
  if (Array.isArray(ref)) {
    return Array.isArray(impl) && impl.length === ref.length && ref.every((r, i) => valueEqual(field, r, impl[i]));
  }
  if (ref !== null && typeof ref === 'object') {
    return isObject(impl) && Object.entries(ref).every(([k, r]) => valueEqual(k, r, (impl as Record<string, Json>)[k]));
  }
  if (!TEXT_FIELDS.has(field)) {
    const a = wireNumber(ref);
    if (a !== undefined) return wireNumber(impl) === a;
  }
  return impl === ref;
}

export interface ParsedHello {
  readonly hello: Hello;
  /** Names in `ops` that are no op of the table: ignored, and listed in the report. */
  readonly unknownOps: readonly string[];
}

/** parseHello - checks the first line an implementation wrote; an unusable hello is an ImplFault. */
export function parseHello(raw: unknown): ParsedHello {
  const bad = (what: string): never => {
    throw new ImplFault('hello', `hello ${show(raw)}: ${what}`);
  };
  if (!isObject(raw) || !isObject(raw.hello)) return bad('expected {"hello": {"protocol": 1, "implementation": ..., "ops": [...]}}');
  const h = raw.hello;
  if (h.protocol !== 1) return bad(`hello.protocol: expected 1 (the version this harness speaks), got ${show(h.protocol)}`);
  if (typeof h.implementation !== 'string') return bad('hello.implementation: expected a string');
  if (!Array.isArray(h.ops) || !h.ops.every((o) => typeof o === 'string')) return bad('hello.ops: expected a list of op names');
  const names = h.ops as string[];
  const ops = names.filter(isOpName);
  const unknownOps = names.filter((n) => !isOpName(n));
  if (!ops.includes('platform')) return bad('hello.ops: must include "platform" (every sequence starts with it)');
  if (ops.includes('repeat')) return bad('hello.ops: "repeat" is expanded by the harness; list the ops it runs instead');
  let fields: { [op: string]: string[] } | undefined;
  if (h.fields !== undefined) {
    if (!isObject(h.fields)) return bad('hello.fields: expected {OP: [FIELD, ...]}');
    fields = {};
    for (const [op, list] of Object.entries(h.fields)) {
      if (!isOpName(op)) return bad(`hello.fields.${op}: not an op name`);
      if (!Array.isArray(list) || !list.every((f) => typeof f === 'string')) return bad(`hello.fields.${op}: expected a list of result field names`);
      const unknown = list.filter((f) => !(OPS[op].results as readonly string[]).includes(f));
      if (unknown.length) return bad(`hello.fields.${op}: ${unknown.join(', ')} is no result field of ${op} (it has ${OPS[op].results.join(', ') || 'none'})`);
      fields[op] = list as string[];
    }
  }
  if (h.warnings !== undefined && typeof h.warnings !== 'boolean') return bad('hello.warnings: expected true or false');
  return {
    hello: { protocol: 1, implementation: h.implementation, ops: ops as OpName[], ...(fields ? { fields } : {}), ...(h.warnings === true ? { warnings: true } : {}) },
    unknownOps,
  };
}
