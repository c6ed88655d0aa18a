/**
 * A small driver for invariant tests: runs Gherkin step texts (no keyword) on
 * a fresh Engine and collects the violations, so a test reads as the sequence
 * it checks. Between steps a test may reach into `platform` to corrupt model
 * state on purpose (STYLE.md "Every invariant has a fault-injection test").
 */
import assert from 'node:assert/strict';
import { Engine, type StepOutcome } from '../engine/engine';
import type { FaultName } from '../faults';
import type { Platform } from '../platform';
import { parseStep } from '../ops/gherkin';
import type { Violation } from './invariant';

export class Session {
  readonly engine: Engine;
  readonly violations: Violation[] = [];
  last: StepOutcome | undefined;

  constructor(opts: { faults?: readonly FaultName[]; invariants?: readonly string[] } = {}) {
    this.engine = new Engine(opts);
  }

  /** Runs each step; returns the last outcome. */
  run(...steps: string[]): StepOutcome {
    for (const text of steps) {
      const op = parseStep(text);
      if (!op) throw new Error(`not a step: ${text}`);
      this.last = this.engine.execute(op, text);
      this.violations.push(...this.last.violations);
    }
    if (!this.last) throw new Error('no step ran');
    return this.last;
  }

  get platform(): Platform {
    if (!this.engine.platform) throw new Error('no platform yet');
    return this.engine.platform;
  }

  /** IDs of the invariants that fired so far. */
  fired(): string[] {
    return [...new Set(this.violations.map((v) => v.id))].sort();
  }

  /** The violations of one invariant, as "id: message" lines (for assertion messages). */
  report(id?: string): string {
    return this.violations.filter((v) => id === undefined || v.id === id).map((v) => `${v.id}: ${v.message}`).join('\n');
  }
}

/**
 * The fault-injection pattern every invariant test uses: @steps raise no
 * violation on the clean model, and @id fires once @faults are planted.
 * Returns the faulted session for further assertions.
 */
export function holdsThenFires(id: string, steps: readonly string[], faults: readonly FaultName[], make = (f: readonly FaultName[]): Session => new Session({ faults: f })): Session {
  const clean = make([]);
  clean.run(...steps);
  assert.deepEqual(clean.fired(), [], clean.report());
  const bad = make(faults);
  bad.run(...steps);
  assert.ok(bad.fired().includes(id), `${id} did not fire with ${faults.join(', ')}; fired: ${bad.fired().join(', ')}\n${bad.report()}`);
  return bad;
}
