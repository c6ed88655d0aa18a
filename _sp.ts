import { createRng } from './src/fuzz/rng';
import { generateSequence } from './src/fuzz/generate';
import { namedPlatform, randomPlatform, PLATFORM_NAMES } from './src/fuzz/platforms';
import { Engine } from './src/engine/engine';
import { OpParseError } from './src/ops/errors';
const plats = [...PLATFORM_NAMES.map((n) => namedPlatform(n)), ...Array.from({ length: 20 }, (_, i) => randomPlatform(createRng(i)))];
for (const misuse of [0, 0.3]) {
  let n = 0; const t0 = performance.now();
  while (performance.now() - t0 < 3000) { const p = plats[n % plats.length]; generateSequence(createRng(n), p, { length: 50, misuse }); n++; }
  console.log('gen misuse', misuse, Math.round(n / (performance.now() - t0) * 1000), 'seq/s (50 ops)');
}
let n = 0; const t1 = performance.now();
while (performance.now() - t1 < 3000) { randomPlatform(createRng(n++)); }
console.log('randomPlatform', Math.round(n / (performance.now() - t1) * 1000), '/s');
for (const [label, inv] of [['all invariants', undefined], ['no invariants', [] as string[]]] as const) {
  let ops = 0; let seqs = 0; const t2 = performance.now();
  while (performance.now() - t2 < 5000) {
    const p = plats[seqs % 5]; const body = generateSequence(createRng(seqs), p, { length: 50, misuse: 0 });
    const e = new Engine(inv ? { invariants: inv } : {}); for (const op of p) e.execute(op);
    for (const op of body) { try { e.execute(op); } catch (err) { if (!(err instanceof OpParseError)) throw err; } ops++; }
    seqs++;
  }
  const ms = performance.now() - t2;
  console.log('engine', label, Math.round(ops / ms * 1000), 'ops/s', Math.round(seqs / ms * 1000), 'seq/s');
}
