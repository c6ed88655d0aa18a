/**
 * Conformance reports on disk, each file written atomically the moment it is found (nothing found is
 * lost if the run is cut short): per divergence `<slug>.json` (the op list, both sides' results op by
 * op, the differences) and `<slug>.feature` (a scenario that replays on the reference, pinning the
 * reference's results, with a comment table of both sides' results); per implementation fault
 * `<slug>.json` and a `.feature` of the op sequence that did it.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Engine, type StepOutcome } from '../engine/engine';
import { writeFileAtomic } from '../fuzz/corpus';
import { findingSlug } from '../fuzz/findings';
import type { Json } from '../ops/kinds';
import { printOp } from '../ops/json';
import { OpParseError } from '../ops/errors';
import { printScenario } from '../ops/scenario';
import type { Op, OpResult } from '../ops/types';
import type { Diff, Profile } from './compare';
import type { ImplFault, WireOp } from './implementation';
import type { StepRecord } from './session';
import type { WireResult } from './wire';

export interface ReportContext {
  readonly outDir: string;
  readonly implementation: string;
  readonly profile: Profile;
}

const wireJson = (r: WireResult | undefined): Json => {
  if (!r) return null;
  const out: { [k: string]: Json } = { ok: r.ok };
  if (r.ok) Object.assign(out, r.values);
  else {
    out.error = r.error;
    if (r.fault) out.fault = true;
    if (r.message) out.message = r.message;
  }
  if (r.warnings.length) out.warnings = r.warnings.map((w) => ({ code: w.code, source: w.source }));
  return out;
};
const oneLine = (s: string): string => s.replace(/\s+/g, ' ').trim();

/** The reference's results for the Then steps: a fresh engine with every invariant, as cucumber runs it. */
function referenceOutcomes(ops: readonly Op[]): ({ result: OpResult } | undefined)[] {
  const engine = new Engine();
  const out: ({ result: OpResult } | undefined)[] = [];
  for (let i = 0; i < ops.length; i++) {
    let o: StepOutcome;
    try {
      o = engine.execute(ops[i]!, `op[${i}]`);
    } catch (e) {
      if (e instanceof OpParseError) break;
      throw e;
    }
    out.push({ result: o.result });
  }
  return out;
}

/** Comment lines: one row per op sent, reference's result beside the implementation's. */
function sideBySide(steps: readonly StepRecord[]): string[] {
  const rows = steps.map((s) => `# | ${s.path} ${s.op.op} | ${JSON.stringify(wireJson(s.ref))} | ${s.impl ? JSON.stringify(wireJson(s.impl)) : s.implSent ? '(no answer)' : '(not sent)'} |`);
  return ['# | op | reference | implementation |', '# |----|-----------|----------------|', ...rows];
}

function stepsJson(steps: readonly StepRecord[]): Json {
  return steps.map((s) => ({ path: s.path, sent: s.sent, reference: wireJson(s.ref), ...(s.implSent && JSON.stringify(s.implSent) !== JSON.stringify(s.sent) ? { sent_to_implementation: s.implSent } : {}), implementation: wireJson(s.impl) }));
}

function write(dir: string, slug: string, json: Json, feature: string): string[] {
  mkdirSync(dir, { recursive: true });
  const base = join(dir, slug);
  writeFileAtomic(`${base}.json`, JSON.stringify(json, null, 2) + '\n');
  writeFileAtomic(`${base}.feature`, feature);
  return [`${base}.json`, `${base}.feature`];
}

/** saveDivergence - the files of one (minimised) divergence; returns their paths. */
export function saveDivergence(ctx: ReportContext, key: string, ops: readonly Op[], steps: readonly StepRecord[], diffs: readonly Diff[], extra: { [k: string]: Json } = {}): string[] {
  const header = [
    `# dmaspec conformance divergence: ${key}`,
    `# implementation: ${oneLine(ctx.implementation)} (profile ${ctx.profile})`,
    ...diffs.map((d) => `# ${oneLine(d.message)}`),
    '# Both sides, op by op (the scenario below pins the reference\'s results and passes on it):',
    ...sideBySide(steps),
  ];
  const feature = `${header.join('\n')}\n${printScenario(ops, referenceOutcomes(ops), { title: `conformance: ${key}`, tags: ['conformance'] })}`;
  const json: Json = {
    key, implementation: ctx.implementation, profile: ctx.profile, diffs: diffs.map((d) => ({ key: d.key, message: d.message })),
    ...extra, ops: ops.map(printOp), steps: stepsJson(steps),
  };
  return write(ctx.outDir, findingSlug(`divergence-${key}`), json, feature);
}

/** saveFault - the files of an implementation fault (crash, hang, garbage): the op sequence that did it. */
export function saveFault(ctx: ReportContext, key: string, ops: readonly Op[], fault: ImplFault, sent: readonly WireOp[], steps: readonly StepRecord[]): string[] {
  const header = [
    `# dmaspec conformance fault: ${key}`,
    `# implementation: ${oneLine(ctx.implementation)}`,
    `# ${fault.kind}: ${oneLine(fault.message)}`,
    ...(fault.stderr ? ['# its stderr ended with:', ...fault.stderr.trimEnd().split('\n').slice(-10).map((l) => `#   ${l}`)] : []),
    '# The ops sent to it since its platform op (the last one got no usable answer):',
    ...sent.map((o) => `#   ${JSON.stringify(o)}`),
  ];
  const feature = `${header.join('\n')}\n${printScenario(ops, referenceOutcomes(ops), { title: `conformance fault: ${key}`, tags: ['conformance'] })}`;
  const json: Json = {
    key, implementation: ctx.implementation, kind: fault.kind, message: fault.message, stderr: fault.stderr,
    ops: ops.map(printOp), sent: [...sent] as Json[], steps: stepsJson(steps),
  };
  return write(ctx.outDir, findingSlug(`fault-${key}`), json, feature);
}


