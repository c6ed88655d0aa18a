/**
 * The two profiles (docs/conformance.md "Profiles"): what must match between the reference's result
 * and the implementation's for one op.
 *  - linux-exact: success or failure, the error code, the fault flag, and every result field by value
 *    (only those the hello's `fields` lists for the op, if it lists any); the codes of the kernel's
 *    warnings (source "kernel") when the hello declares `"warnings": true`.
 *  - contract: success or failure and the failure's family (errorFamily); values are free, and the
 *    black-box checks of contract.ts judge them instead. Where success itself depends on the
 *    addresses chosen (OUTCOME_BY_ADDRESS: an allocation in a differently fragmented space, a lookup
 *    of a literal pfn), the checks judge that too.
 * An EPROTO answer is a protocol error under both. Nothing is compared for an op whose reference
 * result is UNDEFINED (docs/protocol.md "Undefined behaviour"): any answer conforms.
 */
import type { Json } from '../ops/kinds';
import { OPS, type OpName } from '../ops/table';
import type { Hello } from './implementation';
import { valueEqual, type WireResult } from './wire';

export type Profile = 'contract' | 'linux-exact';
export const PROFILES: readonly Profile[] = ['contract', 'linux-exact'];

export interface Diff {
  /** Stable per kind of difference and op: divergences with the same key are one finding. */
  readonly key: string;
  readonly message: string;
}

export interface Comparison {
  readonly diffs: readonly Diff[];
  /** Result fields the profile or the hello left out, for the report. */
  readonly notCompared: readonly string[];
}

/**
 * errorFamily - the class a failure code belongs to under contract: "could not allocate or map"
 * (NULL, 0, DMA_MAPPING_ERROR, -ENOMEM, -ENOSPC), a kernel BUG or undefined behaviour, and any
 * other errno on its own (-EINVAL and -EIO say different things to a driver).
 */
export function errorFamily(code: string): string {
  if (['NULL', '0', 'DMA_MAPPING_ERROR', '-ENOMEM', '-ENOSPC'].includes(code)) return 'no-resource';
  if (code === 'BUG' || code === 'UNDEFINED') return 'bug';
  return code;
}

/** Ops whose success depends on the addresses an implementation chose earlier. */
export const OUTCOME_BY_ADDRESS: ReadonlySet<string> = new Set(['alloc_iova', 'alloc_iova_fast', 'find_iova']);

const kernelCodes = (r: WireResult): string[] => r.warnings.filter((w) => w.source === 'kernel').map((w) => w.code).sort();
const show = (v: Json | undefined): string => (v === undefined ? 'nothing' : JSON.stringify(v));

export function compareResults(profile: Profile, op: OpName, ref: WireResult, impl: WireResult, hello: Hello): Comparison {
  const diffs: Diff[] = [];
  const notCompared: string[] = [];
  // Undefined behaviour: the kernel may do anything, so any answer (a refusal included) conforms.
  if (!ref.ok && ref.error === 'UNDEFINED') return { diffs, notCompared: [`${op} (undefined behaviour)`] };
  if (!impl.ok && impl.error === 'EPROTO') {
    return { diffs: [{ key: `EPROTO@${op}`, message: `protocol error: the implementation refused ${op}${impl.message ? `: ${impl.message}` : ''}` }], notCompared };
  }
  if (profile === 'contract' && OUTCOME_BY_ADDRESS.has(op)) {
    notCompared.push(`${op}.ok`);
    for (const field of Object.keys(ref.ok ? ref.values : {})) notCompared.push(`${op}.${field}`);
    return { diffs, notCompared };
  }
  if (ref.ok !== impl.ok) {
    const said = (r: WireResult): string => (r.ok ? 'succeeded' : `failed with ${r.error}`);
    diffs.push({ key: `OK@${op}`, message: `${op}: the reference ${said(ref)}, the implementation ${said(impl)}` });
    return { diffs, notCompared };
  }
  if (!ref.ok && !impl.ok) {
    if (profile === 'linux-exact' ? ref.error !== impl.error : errorFamily(ref.error) !== errorFamily(impl.error)) {
      diffs.push({ key: `ERROR@${op}`, message: `${op}: the reference failed with ${ref.error}, the implementation with ${impl.error}` });
    }
    if (profile === 'linux-exact' && ref.fault !== impl.fault) {
      diffs.push({ key: `FAULT@${op}`, message: `${op}: fault is ${ref.fault} on the reference, ${impl.fault} on the implementation` });
    }
  }
  if (ref.ok && impl.ok) {
    const wanted = hello.fields?.[op];
    for (const field of Object.keys(ref.values)) {
      if (profile === 'contract' || (wanted && !wanted.includes(field))) {
        notCompared.push(`${op}.${field}`);
        continue;
      }
      if (!valueEqual(field, ref.values[field]!, impl.values[field])) {
        diffs.push({ key: `${field}@${op}`, message: `${op}: ${field} is ${show(ref.values[field])} on the reference, ${show(impl.values[field])} on the implementation` });
      }
    }
  }
  if (profile === 'linux-exact') {
    if (hello.warnings) {
      const a = kernelCodes(ref);
      const b = kernelCodes(impl);
      if (a.join() !== b.join()) diffs.push({ key: `WARNINGS@${op}`, message: `${op}: kernel warnings ${a.join(', ') || 'none'} on the reference, ${b.join(', ') || 'none'} on the implementation` });
    } else if (kernelCodes(ref).length) notCompared.push(`${op}.warnings`);
  }
  return { diffs, notCompared };
}

/** The result fields of an op (from the table), for listing what a hello's `fields` leaves out. */
export const resultFields = (op: OpName): readonly string[] => OPS[op].results;
