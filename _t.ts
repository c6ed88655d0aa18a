import { Engine } from './src/engine/engine';
import { createRng } from './src/fuzz/rng';
import { randomPlatform, namedPlatform, PLATFORM_NAMES } from './src/fuzz/platforms';
let bad = 0;
for (const n of PLATFORM_NAMES) { const e = new Engine(); for (const op of namedPlatform(n)) e.execute(op); }
for (let s = 0; s < 3000; s++) {
  const ops = randomPlatform(createRng(s));
  const e = new Engine();
  try { for (const op of ops) { const o = e.execute(op); if (!o.result.ok || o.violations.length) throw new Error(JSON.stringify(o.result)); } }
  catch (err) { bad++; if (bad < 5) console.log(s, (err as Error).message); }
}
console.log('bad', bad);
