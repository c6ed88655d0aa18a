/** Replays an op list on a fresh engine, stopping at nothing: every op's outcome is returned. */
import { Engine, type EngineOptions, type StepOutcome } from './engine';
import { OpParseError } from '../ops/errors';
import type { Op } from '../ops/types';

export interface ReplayReport {
  readonly outcomes: readonly StepOutcome[];
  /** Set when an op could not run (bad handle, bad configuration); later ops are not run. */
  readonly inputError?: OpParseError;
}

export function replay(ops: readonly Op[], file: string, options: EngineOptions = {}): ReplayReport {
  const engine = new Engine(options);
  const outcomes: StepOutcome[] = [];
  for (let i = 0; i < ops.length; i++) {
    try {
      outcomes.push(engine.execute(ops[i], `${file}[${i}]`));
    } catch (e) {
      if (e instanceof OpParseError) return { outcomes, inputError: e };
      throw e;
    }
  }
  return { outcomes };
}
