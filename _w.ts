import { Engine } from './src/engine/engine';
import { printOp } from './src/ops/json';
import { createRng } from './src/fuzz/rng';
import { generateSequence } from './src/fuzz/generate';
import { namedPlatform, PLATFORM_NAMES } from './src/fuzz/platforms';
const want = process.argv[2] ?? 'DEBUG_CACHELINE_OVERLAP_FULL';
let shown = 0; const lim = Number(process.argv[3] ?? 4); const byOp = new Map<string, number>();
for (const n of PLATFORM_NAMES) for (let s = 0; s < 40; s++) {
  const p = namedPlatform(n); const body = generateSequence(createRng(s), p, { length: 50, misuse: 0 });
  const e = new Engine(); for (const op of p) e.execute(op);
  for (const op of body) { try { const o = e.execute(op); for (const w of o.result.warnings) if (w.code === want) { byOp.set(n + ' ' + op.op, (byOp.get(n + ' ' + op.op) ?? 0) + 1); if (shown++ < lim) console.log(n, JSON.stringify(printOp(op)), w.message); } } catch {} }
}
console.log(byOp);
