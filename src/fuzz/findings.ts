/**
 * Fuzz findings: deduplicated by Failure.key and saved, atomically, as two files named after the key:
 *   <slug>.json     the op list (the corpus format), replayable with `dmaspec replay`
 *   <slug>.feature  a Gherkin scenario (STYLE.md "Every fuzz finding becomes a scenario") that fails
 *                   under `npx cucumber-js FILE` at the step of the failing op, with the invariant's
 *                   message: steps/world.ts runs every invariant inside each op step and throws
 *                   "invariant violated after OP: ID: message"; a crash fails that step with the
 *                   model's exception.
 * The scenario pins the result of every op before the failing one with Then steps (printScenario),
 * so it cannot drift into failing somewhere else; the failing op gets no Then steps, since its own
 * step fails first and a fixed model should not be held to the buggy result. It is tagged with the
 * invariant ID (or CRASH), @fuzz, and @fault:NAME for each planted fault the run had. A finding that
 * needs a planted fault replays only on a World that honours those tags (a Before hook building the
 * Engine with them; findings.test.ts FAULT_TAGS_HOOK is that hook, until steps/world.ts has it).
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Engine, type StepOutcome } from '../engine/engine';
import type { FaultName } from '../faults';
import { OpParseError } from '../ops/errors';
import { printScenario } from '../ops/scenario';
import type { OpResult } from '../ops/types';
import { formatOpList, writeFileAtomic } from './corpus';
import type { Failure, FuzzInput } from './types';

/** The first line of every finding's .feature: how loadFindingKeys recovers the key. */
const KEY_LINE = '# dmaspec fuzz finding: ';

/** Deduplication of findings by Failure.key (invariant ID or crash site, plus the op that revealed it). */
export class Findings {
  private readonly keys: Set<string>;

  constructor(known: Iterable<string> = []) {
    this.keys = new Set(known);
  }

  /** true the first time a key is seen (the finding is new and worth minimising and saving). */
  add(failure: Failure): boolean {
    if (this.keys.has(failure.key)) return false;
    this.keys.add(failure.key);
    return true;
  }

  has(key: string): boolean {
    return this.keys.has(key);
  }

  get size(): number {
    return this.keys.size;
  }
}

/** File-name form of a key: readable, safe on every filesystem, unique by a short hash of the key. */
export function findingSlug(key: string): string {
  const readable = key.replace(/[^A-Za-z0-9_.-]+/g, '-').replace(/^[-.]+|-+$/g, '').slice(0, 80);
  return `${readable}-${createHash('sha256').update(key).digest('hex').slice(0, 8)}`;
}

export interface SaveFindingOptions {
  /** The planted faults of the run that found it: replayed with, and tagged @fault:NAME. */
  readonly faults?: readonly FaultName[];
}

/**
 * saveFinding - writes `<slug>.json` and `<slug>.feature` for @failure into @dir (created if need be).
 * @input: the (minimised) failing input
 * @failure: what execute() reported for it
 * Returns the two paths. Each file appears whole or not at all.
 */
export function saveFinding(dir: string, input: FuzzInput, failure: Failure, opts: SaveFindingOptions = {}): string[] {
  mkdirSync(dir, { recursive: true });
  const { ops, feature } = findingFiles(input, failure, opts);
  const base = join(dir, findingSlug(failure.key));
  writeFileAtomic(`${base}.json`, formatOpList(ops));
  writeFileAtomic(`${base}.feature`, feature);
  return [`${base}.json`, `${base}.feature`];
}

/** The keys of the findings already in `dir` (from their .feature files), so a new campaign skips them. */
export function loadFindingKeys(dir: string): Set<string> {
  const keys = new Set<string>();
  let names: string[] = [];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.feature') && !n.startsWith('.'));
  } catch {
    return keys;
  }
  for (const n of names.sort()) {
    try {
      const first = readFileSync(join(dir, n), 'utf8').split('\n', 1)[0];
      if (first.startsWith(KEY_LINE)) keys.add(first.slice(KEY_LINE.length).trim());
    } catch {
      // An unreadable file is not a finding we know of; the campaign may save it again.
    }
  }
  return keys;
}

interface Replayed {
  readonly outcomes: (StepOutcome | undefined)[];
  /** Index of the op whose step fails (violation, crash or input error), if any. */
  readonly failsAt?: number;
  /** The invariant IDs that fail it, or CRASH, or INPUT. */
  readonly ids: readonly string[];
  readonly why?: string;
}

/**
 * Replays as the cucumber World does (every invariant, stop at the first failing step), with the
 * run's faults: the results the Then steps pin, and where the scenario will fail.
 */
function replayLikeWorld(input: FuzzInput, faults: readonly FaultName[]): Replayed {
  const engine = new Engine({ faults });
  const outcomes: (StepOutcome | undefined)[] = [];
  for (let i = 0; i < input.length; i++) {
    let out: StepOutcome;
    try {
      out = engine.execute(input[i], `op[${i}]`);
    } catch (e) {
      if (e instanceof OpParseError) return { outcomes, failsAt: i, ids: ['INPUT'], why: `input error: ${e.message}` };
      return { outcomes, failsAt: i, ids: ['CRASH'], why: `CRASH: ${(e as Error).message}` };
    }
    if (out.violations.length) return { outcomes, failsAt: i, ids: out.violations.map((v) => v.id), why: out.violations.map((v) => v.id).join(', ') };
    outcomes.push(out);
  }
  return { outcomes, ids: [] };
}

/** The op list (cut after the failing op) and the scenario text for a finding. */
export function findingFiles(input: FuzzInput, failure: Failure, opts: SaveFindingOptions = {}): { ops: FuzzInput; feature: string } {
  const faults = opts.faults ?? [];
  const r = replayLikeWorld(input, faults);
  const ops = r.failsAt === undefined ? input : input.slice(0, r.failsAt + 1);
  const results: ({ result: OpResult } | undefined)[] = r.outcomes.map((o) => (o ? { result: o.result } : undefined));
  const failing = ops[ops.length - 1];
  // The key is "ID@op[@site]": the scenario must fail at an op of that name, with that ID.
  const sameFailure = r.failsAt !== undefined && r.ids.includes(failure.id) && failing?.op === failure.key.split('@')[1];
  const oneLine = (s: string): string => s.replace(/\s+/g, ' ').trim();
  const header = [
    `${KEY_LINE}${failure.key}`,
    `# ${failure.id}: ${oneLine(failure.message)}`,
    ...(faults.length ? [`# planted faults (src/faults.ts): ${faults.join(', ')}`] : []),
    // A scenario that would not fail where the finding did says so instead of passing quietly.
    ...(r.failsAt === undefined ? ['# warning: replayed with every invariant, this sequence does not fail']
      : !sameFailure ? [`# warning: replayed with every invariant, op ${r.failsAt} fails first (${oneLine(r.why ?? '')})`] : []),
  ];
  const title = failure.kind === 'crash' ? `model crash in ${failing?.op ?? '?'}: ${oneLine(failure.message).slice(0, 120)}` : `${failure.id} after ${failing?.op ?? '?'}`;
  const tags = [failure.id, 'fuzz', ...faults.map((f) => `fault:${f}`)];
  const feature = header.join('\n') + '\n' + printScenario(ops, results, { title, tags });
  return { ops, feature };
}
