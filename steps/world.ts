/**
 * A plain World, fresh for every scenario (cucumber-js builds one per test
 * case): one engine, the last step's outcome, and nothing shared.
 */
import { Before, setWorldConstructor, World, type IWorldOptions } from '@cucumber/cucumber';
import { FAULT_NAMES, type FaultName } from '../src/faults';
import { Engine, type StepOutcome } from '../src/engine/engine';
import type { Op } from '../src/ops/types';

export class DmaWorld extends World {
  engine = new Engine();
  last: StepOutcome | undefined;

  constructor(options: IWorldOptions) {
    super(options);
  }

  /** Runs one op; an invariant violation fails the step at once, naming the invariant. */
  exec(op: Op): StepOutcome {
    const out = this.engine.execute(op, `op "${op.op}"`);
    this.last = out;
    if (out.violations.length) {
      throw new Error(`invariant violated after ${op.op}:\n${out.violations.map((v) => `  ${v.id}: ${v.message}`).join('\n')}`);
    }
    return out;
  }

  get result(): StepOutcome['result'] {
    if (!this.last) throw new Error('no op has run yet: a Then step needs a When step before it');
    return this.last.result;
  }
}

setWorldConstructor(DmaWorld);

/**
 * `@fault:NAME` plants a model fault for one scenario: that is how a fuzz
 * finding against a planted fault replays to the same failure.
 */
Before(function (this: DmaWorld, { pickle }) {
  const faults = pickle.tags.map((t) => t.name).filter((n) => n.startsWith('@fault:')).map((n) => n.slice('@fault:'.length));
  const unknown = faults.filter((f) => !(FAULT_NAMES as readonly string[]).includes(f));
  if (unknown.length) throw new Error(`unknown planted fault(s): ${unknown.join(', ')} (src/faults.ts lists them)`);
  if (faults.length) this.engine = new Engine({ faults: faults as FaultName[] });
});
