import assert from 'node:assert/strict';
import { parseOp, printOp } from './src/ops/json';
import { createRng } from './src/fuzz/rng';
import { generateSequence } from './src/fuzz/generate';
import { mutate } from './src/fuzz/mutate';
import { execute } from './src/fuzz/execute';
import { namedPlatform, randomPlatform, PLATFORM_NAMES } from './src/fuzz/platforms';
import type { Op } from './src/ops/types';
const rng = createRng(1);
const corpus: Op[][] = [];
for (let i = 0; i < 40; i++) { const p = i % 2 ? namedPlatform(PLATFORM_NAMES[i % 5]) : randomPlatform(rng); corpus.push([...p, ...generateSequence(rng, p, { length: 40, misuse: 0.05 })]); }
let invalid = 0, crash = 0, viol = 0; const reasons = new Map<string, number>(); const vk = new Map<string, number>();
const N = Number(process.argv[2] ?? 2000);
const t0 = performance.now(); let mt = 0;
for (let i = 0; i < N; i++) {
  const src = rng.pick(corpus);
  const a = performance.now();
  const m = mutate(rng, src, corpus);
  mt += performance.now() - a;
  assert.equal(m[0].op, 'platform');
  for (const op of m) assert.deepEqual(parseOp(JSON.parse(JSON.stringify(printOp(op)))), op);
  const o = execute(m, { features: false });
  if (o.invalid) { invalid++; const k = o.invalid.replace(/op\[\d+\]/, 'op[i]').replace(/\$\w+/g, '$h').slice(0, 120); reasons.set(k, (reasons.get(k) ?? 0) + 1); }
  if (o.failure?.kind === 'crash') { crash++; console.log('CRASH', o.failure.message); }
  else if (o.failure) { viol++; vk.set(o.failure.key, (vk.get(o.failure.key) ?? 0) + 1); }
  if (!o.failure && !o.invalid && rng.chance(0.2)) corpus.push(m);
}
console.log({ N, invalid, crash, viol, mutationsPerSec: Math.round(N / mt * 1000), totalMs: Math.round(performance.now() - t0) });
console.log([...reasons].sort((a, b) => b[1] - a[1]).slice(0, 15));
console.log(vk);
