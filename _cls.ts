import { Engine } from './src/engine/engine';
import { OpParseError } from './src/ops/errors';
import { printStep } from './src/ops/gherkin';
import { createRng } from './src/fuzz/rng';
import { generateSequence } from './src/fuzz/generate';
import { minimize } from './src/fuzz/minimize';
import { namedPlatform, randomPlatform, PLATFORM_NAMES } from './src/fuzz/platforms';
import type { Op } from './src/ops/types';

const misuse = Number(process.argv[2] ?? 0);
const N = Number(process.argv[3] ?? 60);
const LEN = Number(process.argv[4] ?? 50);
const RANDOM = Number(process.argv[5] ?? 0);
const watch = process.argv[6];
function firstKey(ops: readonly Op[], warnCode?: string): string | undefined {
  const e = new Engine();
  for (const op of ops) {
    try {
      const o = e.execute(op);
      if (warnCode) { if (o.result.warnings.some(w => w.code === warnCode)) return warnCode + '@' + op.op; continue; }
      if (o.violations.length) return o.violations[0].id + '@' + op.op;
    } catch (err) { if (err instanceof OpParseError) continue; return 'CRASH@' + op.op + ':' + (err as Error).message.slice(0, 80); }
  }
  return undefined;
}
const found = new Map<string, { n: number; ex: Op[] }>();
const plats: [string, () => Op[]][] = RANDOM ? Array.from({ length: RANDOM }, (_, i) => [`rnd${i}`, () => randomPlatform(createRng(7000 + i))]) : PLATFORM_NAMES.map((n) => [n, () => namedPlatform(n)]);
for (const [name, mk] of plats) for (let s = 0; s < N; s++) {
  const p = mk();
  const input = [...p, ...generateSequence(createRng(s), p, { length: LEN, misuse })].filter((o) => !process.env.NOPOOL || o.op !== 'dma_pool_create');
  const k = firstKey(input, watch);
  if (!k) continue;
  const key = k;
  const f = found.get(key);
  if (f) { f.n++; continue; }
  const min = minimize(input, (c) => firstKey(c, watch) === key, { deadlineMs: 20000 });
  found.set(key, { n: 1, ex: [...min] });
  console.log(`\n=== ${key} (${name} seed ${s})`);
  for (const op of min) console.log('  ' + printStep(op));
}
console.log([...found].map(([k, v]) => `${k}: ${v.n}`).join('\n'));
