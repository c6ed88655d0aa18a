/**
 * Runs one fuzz input on a fresh Engine and says what it found: the first invariant violation or
 * model crash (a Failure with its deduplication key), or that the input itself is invalid, plus the
 * coverage features it reached (coverage.ts). Nothing else: no corpus, no minimisation, no files.
 *
 * STYLE.md "Errors are typed results; exceptions are only for bugs": OpParseError (an unknown
 * handle, a bad configuration) means the input is invalid, not a finding; any other exception is
 * the model's BUG_ON and is a finding of kind 'crash'.
 */
import { relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Engine, type StepOutcome } from '../engine/engine';
import type { FaultName } from '../faults';
import type { Violation } from '../invariants/invariant';
import { OpParseError } from '../ops/errors';
import type { Op } from '../ops/types';
import { ModelFeatures, type CodeFeatures } from './coverage';
import type { ExecOutcome, Failure, FuzzInput } from './types';

export interface ExecOptions {
  /** Planted faults (src/faults.ts), for the fuzzer's self-test. */
  readonly faults?: readonly FaultName[];
  /** Invariant IDs to check; default all. */
  readonly invariants?: readonly string[];
  /** Code coverage of the model (BranchCoverage in the instrumented tree, or V8's CodeCoverage); absent: model-level features only. */
  readonly code?: CodeFeatures;
  /** false: collect no features at all (a minimiser's predicate only needs the failure). Default true. */
  readonly features?: boolean;
}

/** Runs `input` op by op, stopping at the first failure or input error. */
export function execute(input: FuzzInput, opts: ExecOptions = {}): ExecOutcome {
  const engine = new Engine({ faults: opts.faults, invariants: opts.invariants });
  const collect = opts.features ?? true;
  const model = collect ? new ModelFeatures() : undefined;
  const code = collect ? opts.code : undefined;
  const features = new Set<string>();
  let failure: Failure | undefined;
  let invalid: string | undefined;
  let ran = 0;
  code?.begin();
  for (let i = 0; i < input.length; i++) {
    const op = input[i];
    model?.beforeOp(engine.platform);
    let step: StepOutcome;
    try {
      step = engine.execute(op, `op[${i}]`);
    } catch (e) {
      if (e instanceof OpParseError) invalid = e.message;
      else {
        failure = crashFailure(e, op, i);
        ran = i + 1;
      }
      break;
    }
    ran = i + 1;
    if (model && engine.platform) model.afterOp(engine.platform, step);
    if (step.violations.length) {
      failure = violationFailure(step.violations[0], op, i);
      break;
    }
  }
  model?.finish(features);
  code?.collect(features);
  return { features, ran, ...(failure ? { failure } : {}), ...(invalid !== undefined ? { invalid } : {}) };
}

/** A predicate for minimize(): the candidate fails with the same deduplication key. */
export function failsWith(key: string, opts: Omit<ExecOptions, 'code' | 'features'> = {}): (candidate: FuzzInput) => boolean {
  return (candidate) => execute(candidate, { ...opts, features: false }).failure?.key === key;
}

function violationFailure(v: Violation, op: Op, index: number): Failure {
  return { kind: 'invariant', id: v.id, message: v.message, index, key: `${v.id}@${op.op}` };
}

/** A crash is keyed by the op and the first stack frame inside src/ outside the fuzzer: where the model threw. */
function crashFailure(e: unknown, op: Op, index: number): Failure {
  const err = e instanceof Error ? e : new Error(String(e));
  const frame = crashSite(err.stack ?? '');
  return {
    kind: 'crash',
    id: 'CRASH',
    message: `${err.name}: ${err.message}${frame ? ` (at ${frame})` : ''}`,
    index,
    key: `CRASH@${op.op}@${frame ?? err.name}`,
  };
}

/** The model's source tree: crash sites are named relative to it. */
const SRC = resolve(__dirname, '..');

/**
 * "fn (src/dma/swiotlb.ts:200)" from the first stack frame inside src/ but outside the fuzzer,
 * without the column so that the key survives small edits on the same line; undefined if none.
 */
export function crashSite(stack: string): string | undefined {
  for (const line of stack.split('\n').slice(1)) {
    const m = /^\s*at (?:(.*?) \()?(.*?):(\d+):\d+\)?$/.exec(line);
    if (!m) continue;
    const file = m[2].startsWith('file://') ? fileURLToPath(m[2]) : m[2];
    const rel = relative(SRC, file).split(sep).join('/');
    if (rel.startsWith('..') || rel.startsWith('/') || rel.startsWith('fuzz/')) continue;
    const where = `src/${rel}:${m[3]}`;
    return m[1] ? `${m[1]} (${where})` : where;
  }
  return undefined;
}
