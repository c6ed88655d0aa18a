import { Engine } from './src/engine/engine';
import { OpParseError } from './src/ops/errors';
import { printOp } from './src/ops/json';
import { createRng } from './src/fuzz/rng';
import { generateSequence } from './src/fuzz/generate';
import { namedPlatform, randomPlatform, PLATFORM_NAMES } from './src/fuzz/platforms';
import type { Op } from './src/ops/types';

const misuse = Number(process.argv[2] ?? 0);
const N = Number(process.argv[3] ?? 100);
const LEN = Number(process.argv[4] ?? 50);
const warn = new Map<string, number>();
const errs = new Map<string, number>();
const skipped = new Map<string, number>();
let ops = 0, okOps = 0, viol = 0, crashes = 0, strictValid = 0, total = 0;
const t0 = performance.now();
const plats: [string, Op[]][] = [...PLATFORM_NAMES.map((n) => [n, namedPlatform(n)] as [string, Op[]]), ...Array.from({length: 5}, (_, i) => [`rnd${i}`, randomPlatform(createRng(1000+i))] as [string, Op[]])];
for (const [name, p] of plats) {
  for (let s = 0; s < N; s++) {
    const body = generateSequence(createRng(s), p, { length: LEN, misuse });
    const e = new Engine();
    for (const op of p) e.execute(op);
    let valid = true; total++;
    for (let i = 0; i < body.length; i++) {
      const op = body[i]; ops++;
      try {
        const o = e.execute(op);
        if (o.result.ok) okOps++; else errs.set(op.op + ':' + o.result.error, (errs.get(op.op + ':' + o.result.error) ?? 0) + 1);
        for (const w of o.result.warnings) warn.set(w.code, (warn.get(w.code) ?? 0) + 1);
        if (o.violations.length) { viol++; if (viol <= 3) console.log('VIOLATION', name, s, i, o.violations[0], JSON.stringify(body.slice(0, i+1).map(printOp))); }
      } catch (err) {
        if (err instanceof OpParseError) { valid = false; const k = op.op + ': ' + err.message.replace(/\$\w+/g,'$h').slice(0, 100); skipped.set(k, (skipped.get(k) ?? 0) + 1); continue; }
        crashes++; if (crashes <= 3) console.log('CRASH', name, s, i, (err as Error).stack?.split('\n').slice(0,4).join('\n'), JSON.stringify(printOp(op)));
      }
    }
    if (valid) strictValid++;
  }
}
const ms = performance.now() - t0;
console.log({ misuse, seqs: total, ops, okPct: (100*okOps/ops).toFixed(1), viol, crashes, strictValidPct: (100*strictValid/total).toFixed(1), opsPerSec: Math.round(ops/ms*1000) });
const top = (m: Map<string, number>, n = 25) => [...m].sort((a,b)=>b[1]-a[1]).slice(0,n);
console.log('errors', top(errs)); console.log('warnings', top(warn, 40)); console.log('skipped', top(skipped, 15));
