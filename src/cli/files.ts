/** replay and explain: read an op list, report errors by file, op index and field. */
import { readFileSync } from 'node:fs';
import { ReplayCrash, replay, type ReplayReport } from '../engine/replay';
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

/** One JSON line per outcome; returns the number of invariant violations. */
function printOutcomes(outcomes: ReplayReport['outcomes']): number {
  // Build the whole output first, so nothing is half-written when an op fails.
  const lines: string[] = [];
  let violated = 0;
  for (const o of outcomes) {
    const line: Record<string, unknown> = printResult(o.result);
    if (o.violations.length) {
      violated += o.violations.length;
      line.violations = o.violations.map((v) => ({ id: v.id, message: v.message }));
    }
    lines.push(JSON.stringify(line));
  }
  process.stdout.write(lines.join('\n') + (lines.length ? '\n' : ''));
  return violated;
}

/** Exit status when the model itself failed on an op (a model bug, not the input's fault). */
export const EXIT_MODEL_CRASH = 3;

/** replay, with a model crash turned into one line naming the op (no stack) and EXIT_MODEL_CRASH. */
function replayOrReport(ops: readonly Op[], file: string, printDone: boolean): ReplayReport | number {
  try {
    return replay(ops, file);
  } catch (e) {
    if (!(e instanceof ReplayCrash)) throw e;
    if (printDone) printOutcomes(e.outcomes);
    process.stderr.write(`dmaspec: ${e.message}\n`);
    return EXIT_MODEL_CRASH;
  }
}

/** Prints one JSON result per op; exit 1 on an invariant violation, 2 on bad input, 3 when the model crashed. */
export function replayFile(file: string): number {
  const ops = load(file);
  if (!ops) return 2;
  const report = replayOrReport(ops, file, true);
  if (typeof report === 'number') return report;
  const violated = printOutcomes(report.outcomes);
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
  const report = replayOrReport(ops, file, false);
  if (typeof report === 'number') return report;
  process.stdout.write(printScenario(ops, report.outcomes, { title: file }));
  return 0;
}
