import { printStep } from './src/ops/gherkin';
import { createRng } from './src/fuzz/rng';
import { generateSequence } from './src/fuzz/generate';
import { mutate } from './src/fuzz/mutate';
import { execute } from './src/fuzz/execute';
import { minimize } from './src/fuzz/minimize';
import { namedPlatform, randomPlatform, PLATFORM_NAMES } from './src/fuzz/platforms';
import type { Op } from './src/ops/types';
const rng = createRng(1);
const corpus: Op[][] = [];
for (let i = 0; i < 40; i++) { const p = i % 2 ? namedPlatform(PLATFORM_NAMES[i % 5]) : randomPlatform(rng); corpus.push([...p, ...generateSequence(rng, p, { length: 40, misuse: 0.05 })]); }
const want = process.argv[2];
const shown = new Set<string>();
for (let i = 0; i < 1500; i++) {
  const m = mutate(rng, rng.pick(corpus), corpus);
  const o = execute(m, { features: false });
  const key = o.failure?.key ?? (o.invalid && o.invalid.includes('64 bits') ? 'OFFSET' : undefined);
  if (key && key.includes(want) && !shown.has(key)) {
    shown.add(key);
    const min = key === 'OFFSET' ? m.slice(0, o.ran + 1) : minimize(m.slice(0, o.ran), (c) => execute(c, { features: false }).failure?.key === key, { deadlineMs: 30000 });
    console.log('===', key, o.failure?.message ?? o.invalid); for (const op of (key === 'OFFSET' ? min.filter((x, j) => j < 6 || JSON.stringify(x, (k, v) => typeof v === 'bigint' ? v.toString() : v).includes('s3')) : min)) console.log('  ' + printStep(op));
  }
  if (!o.failure && !o.invalid && rng.chance(0.2)) corpus.push(m);
}
