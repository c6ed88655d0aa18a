/**
 * One op sequence on the reference and on the implementation side by side. Each side resolves
 * `$handles` against its own earlier results (`$a` is what that side returned), then gets the op in
 * wire form; `repeat` is expanded here into its inner ops, round by round, so an implementation never
 * sees it. The run stops at the first divergence, implementation fault, or input the reference refuses.
 */
import { HandleTable } from '../engine/handles';
import { OpParseError } from '../ops/errors';
import { OPS } from '../ops/table';
import type { Op } from '../ops/types';
import { compareResults, type Diff, type Profile } from './compare';
import { ContractChecker } from './contract';
import { ImplFault, type Hello, type Implementation, type WireOp } from './implementation';
import { decodeResult, encodeOp, handleValues, type WireResult } from './wire';

export interface StepRecord {
  /** Index of the top-level op this step belongs to. */
  readonly index: number;
  /** "op[3]", or "op[3].ops[1] (round 2)" inside a repeat. */
  readonly path: string;
  readonly op: Op;
  readonly sent: WireOp;
  readonly ref: WireResult;
  readonly implSent?: WireOp;
  readonly impl?: WireResult;
}

export type RunResult =
  | { readonly kind: 'agree'; readonly steps: readonly StepRecord[]; readonly notCompared: ReadonlySet<string> }
  | { readonly kind: 'diverge'; readonly steps: readonly StepRecord[]; readonly diffs: readonly Diff[]; readonly at: number; readonly notCompared: ReadonlySet<string> }
  | { readonly kind: 'invalid'; readonly steps: readonly StepRecord[]; readonly reason: string }
  | { readonly kind: 'fault'; readonly steps: readonly StepRecord[]; readonly fault: ImplFault; readonly at: number; readonly implSent: readonly WireOp[] };

export interface SessionSides {
  readonly ref: Implementation;
  readonly impl: Implementation;
  readonly hello: Hello;
  readonly profile: Profile;
}

/** The ops a sequence sends (repeat's inner ops instead of repeat): what an implementation must support. */
export function opsSent(ops: readonly Op[]): Set<string> {
  const s = new Set<string>();
  const walk = (o: Op): void => {
    if (o.op === 'repeat') for (const inner of o.ops as Op[]) walk(inner);
    else s.add(o.op);
  };
  ops.forEach(walk);
  return s;
}

type Step = { stop: RunResult } | { ok: boolean };

export async function runSequence(sides: SessionSides, ops: readonly Op[]): Promise<RunResult> {
  const refHandles = new HandleTable();
  const implHandles = new HandleTable();
  const checker = new ContractChecker();
  const steps: StepRecord[] = [];
  const implSent: WireOp[] = [];
  const notCompared = new Set<string>();
  const supported = new Set<string>(sides.hello.ops);

  const define = (table: HandleTable, op: Op, r: WireResult): void => {
    const spec = OPS[op.op];
    const name = (op as Record<string, unknown>)[spec.handleArg ?? 'as'];
    if (r.ok && spec.handle && typeof name === 'string') table.define(name, op.op, handleValues(r));
  };

  const step = async (op: Op, index: number, path: string): Promise<Step> => {
    if (!supported.has(op.op)) return { stop: { kind: 'invalid', steps, reason: `${path}: ${op.op} is not among the implementation's ops` } };
    let sent: WireOp;
    let ref: WireResult;
    try {
      sent = encodeOp(refHandles.resolve(op, path));
      ref = decodeResult(await sides.ref.execute(sent));
    } catch (e) {
      const why = e instanceof OpParseError ? e.message : `the reference failed: ${(e as Error).message}`;
      return { stop: { kind: 'invalid', steps, reason: why } };
    }
    if (!ref.ok && ref.error === 'EPROTO') return { stop: { kind: 'invalid', steps, reason: ref.message ?? `${path}: the reference refused ${op.op}` } };
    // Past undefined behaviour the two states need not agree (and a real implementation may crash on
    // it): the input ends here, before the implementation sees the op.
    if (!ref.ok && ref.error === 'UNDEFINED') {
      return { stop: { kind: 'invalid', steps, reason: `${path}: ${op.op} is undefined behaviour (${ref.warnings[0]?.code ?? 'UNDEFINED'}); nothing after it is comparable` } };
    }
    let implWire: WireOp;
    try {
      implWire = encodeOp(implHandles.resolve(op, path));
    } catch (e) {
      if (!(e instanceof OpParseError)) throw e;
      steps.push({ index, path, op, sent, ref });
      const diffs = [{ key: `HANDLE@${op.op}`, message: `${op.op}: a handle does not resolve against the implementation's earlier results: ${e.message}` }];
      return { stop: { kind: 'diverge', steps, diffs, at: index, notCompared } };
    }
    implSent.push(implWire);
    let impl: WireResult;
    try {
      impl = decodeResult(await sides.impl.execute(implWire));
    } catch (e) {
      if (!(e instanceof ImplFault)) throw e;
      steps.push({ index, path, op, sent, ref, implSent: implWire });
      return { stop: { kind: 'fault', steps, fault: e, at: index, implSent } };
    }
    steps.push({ index, path, op, sent, ref, implSent: implWire, impl });
    const c = compareResults(sides.profile, op.op, ref, impl, sides.hello);
    c.notCompared.forEach((f) => notCompared.add(f));
    const diffs = [...c.diffs];
    if (sides.profile === 'contract') {
      for (const v of checker.check(implWire, ref, impl)) diffs.push({ key: `${v.id}@${op.op}`, message: `${v.id}: ${v.message}` });
    }
    if (diffs.length) return { stop: { kind: 'diverge', steps, diffs, at: index, notCompared } };
    define(refHandles, op, ref);
    define(implHandles, op, impl);
    return { ok: ref.ok };
  };

  for (let i = 0; i < ops.length; i++) {
    const op = ops[i]!;
    if (op.op !== 'repeat') {
      const s = await step(op, i, `op[${i}]`);
      if ('stop' in s) return s.stop;
      continue;
    }
    // As the engine runs repeat: round by round, stopping at the first failing inner op.
    let failed = false;
    for (let round = 0; round < op.times && !failed; round++) {
      for (let j = 0; j < op.ops.length && !failed; j++) {
        const s = await step(op.ops[j] as Op, i, `op[${i}].ops[${j}] (round ${round + 1})`);
        if ('stop' in s) return s.stop;
        failed = !s.ok;
      }
    }
  }
  return { kind: 'agree', steps, notCompared };
}
