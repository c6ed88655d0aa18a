/**
 * The executor: resolves handles, runs one op on the model, collects warnings,
 * then runs every invariant. The same engine serves Gherkin steps, corpus
 * replay and (later) the fuzzer and conformance.
 */
import { KernelBug } from '../dma/mapping';
import { INVARIANTS } from '../invariants/registry';
import type { InvariantChecker, Violation } from '../invariants/invariant';
import { ConfigError, Platform, type FaultName } from '../platform';
import { OpParseError } from '../ops/errors';
import { OPS } from '../ops/table';
import type { Op, OpResult } from '../ops/types';
import type { Warning } from '../warn';
import { HANDLERS, Undefined, type Outcome } from './dispatch';
import { HandleTable, type ResolvedOp } from './handles';
import { createPlatform } from './setup';

export interface StepOutcome {
  readonly op: ResolvedOp;
  readonly result: OpResult;
  readonly violations: readonly Violation[];
}

export interface EngineOptions {
  /** Invariant IDs to run; default all. */
  readonly invariants?: readonly string[];
  /** Planted faults, for fault-injection tests. */
  readonly faults?: readonly FaultName[];
}

export class Engine {
  platform: Platform | null = null;
  readonly handles = new HandleTable();
  private checkers: InvariantChecker[] = [];
  private index = 0;

  constructor(private readonly options: EngineOptions = {}) {}

  /**
   * Runs one op. Malformed input (unknown handle, bad configuration) throws
   * OpParseError naming `path`; kernel failures are results; an exception of
   * any other kind is a bug in the model.
   */
  execute(op: Op, path = `op[${this.index}]`): StepOutcome {
    if (op.op === 'repeat') return this.repeat(op, path);
    const resolved = this.handles.resolve(op, path);
    const index = this.index++;
    if (resolved.op === 'platform') return this.startPlatform(resolved, path, index);
    if (resolved.op === 'repeat') throw new Error('repeat is run before handles are resolved');
    const p = this.platform;
    if (!p) throw new OpParseError(`${path}.op`, 'a "platform" op first (the machine must exist before anything runs on it)', op.op);
    p.current_cpu = 'cpu' in resolved && typeof resolved.cpu === 'number' ? resolved.cpu : 0;
    if (p.current_cpu >= p.config.ncpus) throw new OpParseError(`${path}.cpu`, `a CPU number below ncpus (${p.config.ncpus})`, p.current_cpu);
    const outcome = this.run(p, resolved, path);
    const result: OpResult = outcome.ok
      ? { ok: true, values: outcome.values, warnings: p.warn.drain() }
      : { ...outcome, warnings: p.warn.drain() };
    const handleArg = OPS[resolved.op].handleArg ?? 'as';
    const as = handleArg in resolved ? (resolved as Record<string, unknown>)[handleArg] : undefined;
    if (result.ok && typeof as === 'string' && OPS[resolved.op].handle) this.handles.define(as, resolved.op, result.values);
    return { op: resolved, result, violations: this.check(p, resolved, result, index) };
  }

  /**
   * repeat: the inner ops run as steps of their own (handles resolved when each runs, invariants
   * after each); the outcome carries every warning, every violation, and the first failure if any.
   */
  private repeat(op: Extract<Op, { op: 'repeat' }>, path: string): StepOutcome {
    const warnings: Warning[] = [];
    const violations: Violation[] = [];
    let runs = 0;
    let failed: OpResult | undefined;
    const inner = op.ops as readonly Op[];
    for (let round = 0; round < op.times && !failed; round++) {
      for (let j = 0; j < inner.length && !failed; j++) {
        const out = this.execute(inner[j]!, `${path}.ops[${j}] (round ${round + 1})`);
        // Plain loops: a flood runs hundreds of rounds, and most add nothing.
        for (const w of out.result.warnings) warnings.push(w);
        for (const v of out.violations) violations.push(v);
        if (!out.result.ok) failed = out.result;
      }
      if (!failed) runs++;
    }
    const result: OpResult = failed ? { ...failed, warnings } : { ok: true, values: { runs }, warnings };
    return { op: op as ResolvedOp, result, violations };
  }

  private startPlatform(op: Extract<ResolvedOp, { op: 'platform' }>, path: string, index: number): StepOutcome {
    try {
      this.platform = createPlatform(op);
    } catch (e) {
      if (e instanceof ConfigError) throw OpParseError.invalid(`${path}.${e.field}`, e.message.slice(e.field.length + 2));
      throw e;
    }
    for (const f of this.options.faults ?? []) this.platform.faults.add(f);
    this.handles.clear();
    const wanted = this.options.invariants;
    this.checkers = INVARIANTS.filter((f) => !wanted || wanted.includes(f.info.id)).map((f) => f.create());
    const result: OpResult = { ok: true, values: {}, warnings: [] };
    return { op, result, violations: this.check(this.platform, op, result, index) };
  }

  private run(p: Platform, op: Exclude<ResolvedOp, { op: 'platform' | 'repeat' }>, path: string): Outcome {
    const handler = HANDLERS[op.op] as (p: Platform, op: ResolvedOp) => Outcome;
    try {
      return handler(p, op);
    } catch (e) {
      if (e instanceof KernelBug) {
        p.warn.warn('kernel', e.code, e.message);
        return { ok: false, error: 'BUG' };
      }
      if (e instanceof Undefined) {
        p.warn.warn('model', e.code, e.message);
        return { ok: false, error: 'UNDEFINED' };
      }
      if (e instanceof ConfigError) {
        p.warn.drain();
        throw OpParseError.invalid(`${path}.${e.field}`, e.message.slice(e.field.length + 2));
      }
      throw e;
    }
  }

  private check(p: Platform, op: ResolvedOp, result: OpResult, index: number): Violation[] {
    const out: Violation[] = [];
    // One context for every checker: families that share a shadow key their per-op memo on it.
    const ctx = { op, result, platform: p, index };
    for (const c of this.checkers) {
      const messages = c.after(ctx);
      for (let i = 0; i < messages.length; i++) out.push({ id: c.info.id, message: messages[i]!, index });
    }
    return out;
  }
}
