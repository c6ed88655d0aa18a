/**
 * Prints an op list as a Gherkin scenario: one step per op, each followed by
 * Then steps that pin the result it gave, so the scenario replays to the same
 * results (`npx cucumber-js FILE`).
 */
import { printStep, printValue } from './gherkin';
import { formatHex } from './numbers';
import type { Op, OpResult, ResultValue } from './types';

export interface ScenarioOptions {
  readonly title?: string;
  readonly tags?: readonly string[];
}

function printResultValue(v: ResultValue): string | undefined {
  if (typeof v === 'bigint') return formatHex(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (typeof v === 'string') return printValue(v);
  return undefined; // sg lists: nents and later ops' handles carry them
}

function thenSteps(r: OpResult): string[] {
  const out: string[] = [];
  if (!r.ok) out.push(`Then it fails with ${r.error}`);
  else {
    const pairs = Object.entries(r.values)
      .map(([k, v]) => [k, printResultValue(v)] as const)
      .filter(([k, v]) => v !== undefined && !(k === 'data' && v.includes(' ')));
    out.push(pairs.length ? `Then the result has ${pairs.map(([k, v]) => `${k} ${v}`).join(' ')}` : 'Then it succeeds');
  }
  out.push(r.warnings.length ? `And the warnings are ${r.warnings.map((w) => w.code).join(', ')}` : 'And there are no warnings');
  return out;
}

export function printScenario(ops: readonly Op[], results: readonly ({ result: OpResult } | undefined)[], opts: ScenarioOptions = {}): string {
  const lines = ['Feature: replayed op sequence', ''];
  if (opts.tags?.length) lines.push(`  ${opts.tags.map((t) => (t.startsWith('@') ? t : '@' + t)).join(' ')}`);
  lines.push(`  Scenario: ${opts.title ?? 'op sequence'}`);
  let setup = true;
  ops.forEach((op, i) => {
    setup = setup && (op.op === 'platform' || op.op === 'device_add');
    const keyword = setup ? (i === 0 ? 'Given' : 'And') : 'When';
    lines.push(`    ${keyword} ${printStep(op)}`);
    const r = results[i]?.result;
    if (!setup && r) for (const t of thenSteps(r)) lines.push(`    ${t}`);
  });
  return lines.join('\n') + '\n';
}
