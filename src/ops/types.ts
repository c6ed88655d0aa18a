/** The op and result types, derived from the op table so there is one source of truth. */
import type { Shape } from './kinds';
import type { OpName, OpTable } from './table';
import type { Warning } from '../warn';

/** One op as parsed: `{ op: NAME, ...args }`, a discriminated union over every op. */
export type OpOf<N extends OpName> = { op: N } & Shape<OpTable[N]['args']>;
export type Op = { [N in OpName]: OpOf<N> }[OpName];

/** An sg entry as returned by dma_map_sg (the first `nents` carry DMA fields). */
export interface SgResultEntry {
  readonly phys: bigint;
  readonly length: bigint;
  readonly dma_address: bigint;
  readonly dma_length: bigint;
}

export type ResultValue = bigint | number | boolean | string | readonly SgResultEntry[];
export type ResultValues = { readonly [field: string]: ResultValue };

/**
 * What every op returns: the kernel's result, plus contract findings. On the
 * wire the values are flattened into the object (`{"ok":true,"dma_addr":"0x1000"}`).
 */
export type OpResult =
  | { readonly ok: true; readonly values: ResultValues; readonly warnings: readonly Warning[] }
  | { readonly ok: false; readonly error: string; readonly fault?: boolean; readonly warnings: readonly Warning[] };
