/** Replays an op list on a fresh engine, stopping at nothing: every op's outcome is returned. */
import { Engine, type EngineOptions, type StepOutcome } from './engine';
import { OpParseError } from '../ops/errors';
import type { Op } from '../ops/types';

export interface ReplayReport {
  readonly outcomes: readonly StepOutcome[];
  /** Set when an op could not run (bad handle, bad configuration); later ops are not run. */
  readonly inputError?: OpParseError;
}

/** An op the model could not execute (an exception other than an input error): a model bug. */
export class ReplayCrash extends Error {
  constructor(readonly index: number, readonly where: string, readonly op: string, readonly error: unknown, readonly outcomes: readonly StepOutcome[]) {
    super(`${where} (${op}): the model crashed: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`, { cause: error });
  }
}

export function replay(ops: readonly Op[], file: string, options: EngineOptions = {}): ReplayReport {
  const engine = new Engine(options);
  const outcomes: StepOutcome[] = [];
  for (let i = 0; i < ops.length; i++) {
    try {
      outcomes.push(engine.execute(ops[i], `${file}[${i}]`));
    } catch (e) {
      if (e instanceof OpParseError) return { outcomes, inputError: e };
      throw new ReplayCrash(i, `${file}[${i}]`, ops[i].op, e, outcomes);
    }
  }
  return { outcomes };
}
