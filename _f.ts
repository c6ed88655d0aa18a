import { Engine } from './src/engine/engine';
import { printOp } from './src/ops/json';
import { createRng } from './src/fuzz/rng';
import { generateSequence } from './src/fuzz/generate';
import { namedPlatform, randomPlatform, PLATFORM_NAMES } from './src/fuzz/platforms';
const seen = new Map<string, number>();
for (const n of PLATFORM_NAMES) for (let s = 0; s < 60; s++) {
  const p = randomPlatform(createRng(5000 + s)); const body = generateSequence(createRng(s), p, { length: 50, misuse: 0 });
  const e = new Engine(); for (const op of p) e.execute(op);
  for (const op of body) { try { const o = e.execute(op); if (!o.result.ok) { const k = n + ' ' + op.op + ' ' + o.result.error; seen.set(k, (seen.get(k) ?? 0) + 1); if (seen.get(k)! <= 2) console.log(k, JSON.stringify(printOp(op)).slice(0, 300), o.result.warnings.map(w => w.code + ' ' + w.message).join(' | ').slice(0, 300)); } } catch {} }
}
