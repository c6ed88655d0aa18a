/**
 * Argument kinds of the op language. Each kind parses a JSON value (Gherkin
 * values are parsed into the same JSON-like tree first, so there is one
 * parser) and prints the canonical JSON form back: parse(print(x)) = x.
 */
import { OpParseError } from './errors';
import { formatHex, formatSize, parseU64 } from './numbers';

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

export interface Kind<T> {
  /** What the value should look like, for error messages and docs. */
  readonly expected: string;
  parse(v: unknown, path: string): T;
  print(v: T): Json;
}

/**
 * A reference to something an earlier op created: `$name`, `$name.field`,
 * `$name+0x200`, and for sg mappings `$name[i]` (segment i's dma_address) or
 * `$name[i].dma_length`.
 */
export interface HandleRef {
  readonly handle: string;
  readonly index?: number;
  readonly field?: string;
  readonly offset: bigint;
}
export const isHandleRef = (v: unknown): v is HandleRef =>
  typeof v === 'object' && v !== null && typeof (v as HandleRef).handle === 'string';

// A '-' inside a name must not start a number, so "$buf-0x100" is $buf minus 0x100.
const HANDLE_RE = /^\$([A-Za-z_]\w*(?:-(?!\d)\w+)*)(?:\[(\d+)\])?(?:\.([a-z_]+))?(?:([+-])(.+))?$/;

export function parseHandleRef(text: string): HandleRef | undefined {
  const m = HANDLE_RE.exec(text);
  if (!m) return undefined;
  let offset = 0n;
  if (m[5] !== undefined) {
    const n = parseU64(m[5]);
    if (n === undefined) return undefined;
    offset = m[4] === '-' ? -n : n;
  }
  return {
    handle: m[1],
    ...(m[2] !== undefined ? { index: Number(m[2]) } : {}),
    ...(m[3] !== undefined ? { field: m[3] } : {}),
    offset,
  };
}

export function printHandleRef(h: HandleRef): string {
  const off = h.offset === 0n ? '' : h.offset < 0n ? `-${formatHex(-h.offset)}` : `+${formatHex(h.offset)}`;
  return `$${h.handle}${h.index !== undefined ? `[${h.index}]` : ''}${h.field ? '.' + h.field : ''}${off}`;
}

const fail = (path: string, expected: string, got: unknown): never => {
  throw new OpParseError(path, expected, got);
};

function u64Kind(expected: string, print: (v: bigint) => Json): Kind<bigint> {
  return {
    expected,
    parse: (v, path) => parseU64(v) ?? fail(path, expected, v),
    print,
  };
}

/** An address (printed hex). */
export const addr = u64Kind('an address (decimal, 0x hex, or a size like 4K)', formatHex);
/** A byte count (printed with a size suffix where exact). */
export const size = u64Kind('a size (decimal, 0x hex, or 4K/2M/1G)', (v) => formatSize(v));

/** An address that may name a handle instead. */
export const addrOrHandle: Kind<bigint | HandleRef> = {
  expected: 'an address or a handle like "$buf" / "$buf+0x200"',
  parse(v, path) {
    if (typeof v === 'string' && v.startsWith('$')) return parseHandleRef(v) ?? fail(path, this.expected, v);
    return parseU64(v) ?? fail(path, this.expected, v);
  },
  print: (v) => (typeof v === 'bigint' ? formatHex(v) : printHandleRef(v)),
};

/** A small non-negative integer (counts, CPU numbers, ms). */
export const count: Kind<number> = {
  expected: 'a non-negative integer',
  parse(v, path) {
    const n = parseU64(v);
    if (n === undefined || n > BigInt(Number.MAX_SAFE_INTEGER)) return fail(path, this.expected, v);
    return Number(n);
  },
  print: (v) => v,
};

export const bool: Kind<boolean> = {
  expected: 'true or false',
  parse: (v, path) => (v === true || v === 'true' ? true : v === false || v === 'false' ? false : fail(path, 'true or false', v)),
  print: (v) => v,
};

export const name = (what: string): Kind<string> => ({
  expected: what,
  parse: (v, path) => (typeof v === 'string' && /^[A-Za-z_][\w.-]*$/.test(v) ? v : fail(path, what, v)),
  print: (v) => v,
});

/** A handle or state name: letters, digits and _, so `$name-0x10` reads as an offset. */
export const identifier = (what: string): Kind<string> => ({
  expected: what,
  parse: (v, path) => (typeof v === 'string' && /^[A-Za-z_]\w*$/.test(v) ? v : fail(path, what, v)),
  print: (v) => v,
});

export function oneOf<const T extends readonly string[]>(values: T, what: string): Kind<T[number]> {
  const expected = `${what} (${values.join(' | ')})`;
  return {
    expected,
    parse: (v, path) => (typeof v === 'string' && (values as readonly string[]).includes(v) ? (v as T[number]) : fail(path, expected, v)),
    print: (v) => v,
  };
}

/** A u64 or a keyword standing for a special value (dma_mask none = NULL pointer). */
export function addrOr<const W extends string>(word: W, expected: string): Kind<bigint | W> {
  return {
    expected,
    parse: (v, path) => (v === word ? word : parseU64(v) ?? fail(path, expected, v)),
    print: (v) => (typeof v === 'bigint' ? formatHex(v) : v),
  };
}

export function list<T>(item: Kind<T>, opts: { min?: number; max?: number } = {}): Kind<T[]> {
  const expected = `a list of ${item.expected}`;
  return {
    expected,
    parse(v, path) {
      if (!Array.isArray(v)) return fail(path, expected, v);
      if (opts.min !== undefined && v.length < opts.min) return fail(path, `${expected} with at least ${opts.min} item(s)`, v);
      if (opts.max !== undefined && v.length > opts.max) return fail(path, `${expected} with at most ${opts.max} items`, v);
      return v.map((x, i) => item.parse(x, `${path}[${i}]`));
    },
    print: (v) => v.map((x) => item.print(x)),
  };
}

export interface Field<T> {
  readonly kind: Kind<T>;
  readonly optional: boolean;
  readonly doc?: string;
}
export const req = <T>(kind: Kind<T>, doc?: string): Field<T> & { optional: false } => ({ kind, optional: false, doc });
export const opt = <T>(kind: Kind<T>, doc?: string): Field<T> & { optional: true } => ({ kind, optional: true, doc });

export type Fields = Record<string, Field<unknown>>;
type ValueOf<F> = F extends Field<infer T> ? T : never;
/** The TS type of a record of fields: required ones plain, optional ones `?`. */
export type Shape<F extends Fields> = {
  -readonly [K in keyof F as F[K] extends { optional: false } ? K : never]: ValueOf<F[K]>;
} & {
  -readonly [K in keyof F as F[K] extends { optional: true } ? K : never]?: ValueOf<F[K]>;
};

/** Parses a JSON object against fields; unknown fields are errors (a typo must not pass silently). */
export function parseFields<F extends Fields>(fields: F, v: unknown, path: string, skip: readonly string[] = []): Shape<F> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return fail(path, 'an object', v);
  const src = v as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(src)) {
    if (skip.includes(key)) continue;
    if (!(key in fields)) fail(`${path}.${key}`, `one of the fields ${Object.keys(fields).join(', ')}`, key);
  }
  for (const [key, field] of Object.entries(fields)) {
    const raw = src[key];
    if (raw === undefined) {
      if (!field.optional) fail(`${path}.${key}`, `${field.kind.expected} (required)`, undefined);
      continue;
    }
    out[key] = field.kind.parse(raw, `${path}.${key}`);
  }
  return out as Shape<F>;
}

export function printFields<F extends Fields>(fields: F, v: Shape<F>): { [k: string]: Json } {
  const out: { [k: string]: Json } = {};
  const src = v as Record<string, unknown>;
  for (const [key, field] of Object.entries(fields)) {
    if (src[key] !== undefined) out[key] = field.kind.print(src[key]);
  }
  return out;
}

export function object<F extends Fields>(fields: F, what: string): Kind<Shape<F>> {
  return {
    expected: `${what} {${Object.keys(fields).join(', ')}}`,
    parse: (v, path) => parseFields(fields, v, path),
    print: (v) => printFields(fields, v),
  };
}
