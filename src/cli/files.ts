/** replay and explain: read an op list, report errors by file, op index and field. */
import { readFileSync } from 'node:fs';
import { replay } from '../engine/replay';
import { OpParseError } from '../ops/errors';
import { printScenario } from '../ops/scenario';
import { parseOpList, printResult } from '../ops/json';
import type { Op } from '../ops/types';

function load(file: string): Op[] | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    process.stderr.write(`dmaspec: cannot read ${file}: ${(e as Error).message}\n`);
    return undefined;
  }
  try {
    return parseOpList(text, file);
  } catch (e) {
    if (e instanceof OpParseError) {
      process.stderr.write(`dmaspec: ${e.message}\n`);
      return undefined;
    }
    throw e;
  }
}

/** Prints one JSON result per op; exit 1 on an invariant violation, 2 on bad input. */
export function replayFile(file: string): number {
  const ops = load(file);
  if (!ops) return 2;
  const report = replay(ops, file);
  // Build the whole output first, so nothing is half-written when an op fails.
  const lines: string[] = [];
  let violated = 0;
  for (const o of report.outcomes) {
    const line: Record<string, unknown> = printResult(o.result);
    if (o.violations.length) {
      violated += o.violations.length;
      line.violations = o.violations.map((v) => ({ id: v.id, message: v.message }));
    }
    lines.push(JSON.stringify(line));
  }
  process.stdout.write(lines.join('\n') + (lines.length ? '\n' : ''));
  if (report.inputError) {
    process.stderr.write(`dmaspec: ${report.inputError.message}\n`);
    return 2;
  }
  if (violated) {
    process.stderr.write(`dmaspec: ${violated} invariant violation(s)\n`);
    return 1;
  }
  return 0;
}

export function explainFile(file: string): number {
  const ops = load(file);
  if (!ops) return 2;
  const report = replay(ops, file);
  process.stdout.write(printScenario(ops, report.outcomes, { title: file }));
  return 0;
}
