import { Engine } from './src/engine/engine';
import { printStep } from './src/ops/gherkin';
import { createRng } from './src/fuzz/rng';
import { generateSequence } from './src/fuzz/generate';
import { randomPlatform } from './src/fuzz/platforms';
for (let s = 0; s < 60; s++) {
  const p = randomPlatform(createRng(5000 + s)); const body = generateSequence(createRng(s), p, { length: 50, misuse: 0 });
  const e = new Engine(); for (const op of p) e.execute(op);
  for (const op of body) { try { const o = e.execute(op); if (!o.result.ok && op.op === 'dma_alloc_coherent') { console.log(p.map(printStep).join('\n')); console.log(printStep(op)); process.exit(0); } } catch {} }
}
