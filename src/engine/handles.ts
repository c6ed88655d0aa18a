/**
 * Handle resolution: ops name what earlier ops created ("$buf", "$buf+0x200",
 * "$c.cpu_addr"), so a sequence never bakes in addresses an implementation chose.
 */
import { OpParseError } from '../ops/errors';
import { isHandleRef, type HandleRef } from '../ops/kinds';
import { OPS } from '../ops/table';
import type { Op, OpOf, ResultValues, SgResultEntry } from '../ops/types';
import type { OpName } from '../ops/table';

const U64_MAX = (1n << 64n) - 1n;

/** An op with every handle replaced by its value. */
export type Resolved<T> = T extends HandleRef
  ? never
  : T extends bigint | string | number | boolean
    ? T
    : T extends readonly (infer E)[]
      ? Resolved<E>[]
      : T extends object
        ? { [K in keyof T]: Resolved<T[K]> }
        : T;
export type ResolvedOp = { [N in OpName]: Resolved<OpOf<N>> }[OpName];

interface Stored {
  readonly op: OpName;
  readonly values: ResultValues;
}

export class HandleTable {
  private readonly table = new Map<string, Stored>();

  define(name: string, op: OpName, values: ResultValues): void {
    this.table.set(name, { op, values });
  }

  has(name: string): boolean {
    return this.table.has(name);
  }

  clear(): void {
    this.table.clear();
  }

  /** The value of `$name[.field][+off]` for an address argument. */
  address(ref: HandleRef, path: string): bigint {
    const s = this.lookup(ref, path);
    let v: unknown;
    if (Array.isArray(s.values.sg) && (ref.index !== undefined || ref.field === undefined)) {
      // An sg mapping: "$s" is segment 0's dma_address, "$s[i].field" any field of segment i.
      const seg = (s.values.sg as readonly SgResultEntry[])[ref.index ?? 0];
      if (!seg) throw new OpParseError(path, `a segment index below ${(s.values.sg as readonly SgResultEntry[]).length}`, `$${ref.handle}[${ref.index}]`);
      v = seg[(ref.field ?? 'dma_address') as keyof SgResultEntry];
    } else {
      if (ref.index !== undefined) throw new OpParseError(path, 'an index only on a handle of dma_map_sg', `$${ref.handle}[${ref.index}]`);
      const field = ref.field ?? OPS[s.op].handle;
      v = field === undefined ? undefined : s.values[field];
    }
    if (typeof v !== 'bigint') throw new OpParseError(path, `a handle with an address field${ref.field ? ` "${ref.field}"` : ''}`, `$${ref.handle}`);
    const r = v + ref.offset;
    if (r < 0n || r > U64_MAX) throw new OpParseError(path, 'a handle offset that stays within 64 bits', ref.offset.toString());
    return r;
  }

  /** The sg list an earlier dma_map_sg filled in. */
  sg(ref: HandleRef, path: string): SgResultEntry[] {
    const s = this.lookup(ref, path);
    const v = s.values.sg;
    if (!Array.isArray(v)) throw new OpParseError(path, 'a handle of an earlier dma_map_sg', `$${ref.handle}`);
    return (v as readonly SgResultEntry[]).map((e) => ({ ...e }));
  }

  private lookup(ref: HandleRef, path: string): Stored {
    const s = this.table.get(ref.handle);
    if (!s) throw new OpParseError(path, 'a handle defined earlier with "as"', `$${ref.handle}`);
    return s;
  }

  /** Replaces every handle in an op; errors name the field path. */
  resolve(op: Op, path: string): ResolvedOp {
    const out: Record<string, unknown> = {};
    for (const k in op) {
      const v = (op as Record<string, unknown>)[k];
      // Plain values (most fields) need neither a copy nor a field path.
      if (typeof v !== 'object' || v === null) out[k] = v;
      else if (k === 'sg' && isHandleRef(v)) out[k] = this.sg(v, `${path}.${k}`);
      else out[k] = this.resolveValue(v, `${path}.${k}`);
    }
    return out as ResolvedOp;
  }

  private resolveValue(v: unknown, path: string): unknown {
    if (typeof v !== 'object' || v === null) return v;
    if (isHandleRef(v)) return this.address(v, path);
    if (Array.isArray(v)) return v.map((x, i) => this.resolveValue(x, `${path}[${i}]`));
    if (typeof v === 'object' && v !== null) {
      const o: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) o[k] = this.resolveValue(x, `${path}.${k}`);
      return o;
    }
    return v;
  }
}
