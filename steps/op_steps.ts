/** Steps that carry an op: parse the text into one op and run it (src/ops/gherkin.ts). */
import { defineStep } from '@cucumber/cucumber';
import { OP_STEP_PATTERNS, parseStep } from '../src/ops/gherkin';
import type { DmaWorld } from './world';

function run(this: DmaWorld, text: string): void {
  const op = parseStep(text);
  if (!op) throw new Error(`step "${text}" is not an op step`);
  this.exec(op);
}

// One capture group, the whole text: parseStep does the real parsing.
for (const pattern of Object.values(OP_STEP_PATTERNS)) {
  const inner = pattern.source.slice(1, -1).replace(/\((?!\?)/g, '(?:');
  const whole = new RegExp(`^(${inner})$`);
  defineStep(whole, function (this: DmaWorld, text: string) {
    run.call(this, text);
  });
}
