/**
 * The byte target under jsfuzz, end to end: the compiled CommonJS target loads in jsfuzz's worker,
 * a finding stops jsfuzz with exit 1 and a crash file, and `dmaspec bytes` turns that file back
 * into the finding's scenario. jsfuzz is handed a seed input that reaches the fault, so the test
 * checks the plumbing, not jsfuzz's luck: a search from scratch takes 3-20 s here, too variable
 * for a test (bench/fuzz-compare.ts measures it).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { decode } from './byte-target';
import { execute } from './execute';

const ROOT = resolve(__dirname, '..', '..');
const JSFUZZ = join(ROOT, 'node_modules', 'jsfuzz', 'build', 'src', 'index.js');
const FAULT = 'direct-ignore-mask';
const PLATFORM = 'no-iommu-32bit';

/** The first xorshift byte string that reaches FAULT on PLATFORM (seeds 1, 2, ... in order). */
function seedInput(): Buffer {
  for (let seed = 1; seed < 1000; seed++) {
    const b = Buffer.alloc(300);
    let x = seed;
    for (let i = 0; i < b.length; i++) {
      x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
      b[i] = x & 0xff;
    }
    if (execute(decode(b, PLATFORM), { faults: [FAULT], features: false }).failure) return b;
  }
  throw new Error(`no seed input reaches ${FAULT}`);
}

test('jsfuzz runs the compiled byte target, stops on a finding, and dmaspec bytes turns the crash file into the scenario', () => {
  // Inside the repository, so that out/'s requires (sorted-btree, pure-rand) resolve; .tmp/ is ignored by git.
  mkdirSync(join(ROOT, '.tmp'), { recursive: true });
  const dir = mkdtempSync(join(ROOT, '.tmp', 'jsfuzz-'));
  try {
    const tsc = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', join(dir, 'out')], { encoding: 'utf8' });
    // tsc emits even on type errors elsewhere in the tree (npm test's own tsc step reports those).
    assert.ok(existsSync(join(dir, 'out', 'src', 'fuzz', 'byte-target.js')), `no compiled target: ${tsc.stdout}${tsc.stderr}`);
    const seed = seedInput();
    mkdirSync(join(dir, 'corpus'));
    writeFileSync(join(dir, 'corpus', 'seed'), seed);
    const env = { ...process.env, DMASPEC_FAULTS: FAULT, DMASPEC_PLATFORM: PLATFORM };
    // jsfuzz resolves the target against its cwd and writes crash-<sha256> there.
    const r = spawnSync(process.execPath, [JSFUZZ, join('out', 'src', 'fuzz', 'byte-target.js'), 'corpus'], { cwd: dir, env, encoding: 'utf8', timeout: 60_000, killSignal: 'SIGKILL', maxBuffer: 64 << 20 });
    assert.equal(r.status, 1, `jsfuzz exit ${r.status} ${r.signal ?? ''}\n${r.stdout.slice(-2000)}`);
    assert.match(r.stdout, /DmaspecFinding: dmaspec finding MASK-RESPECTED@/);
    const crashes = readdirSync(dir).filter((n) => n.startsWith('crash-'));
    assert.equal(crashes.length, 1, 'one crash file');
    const crash = join(dir, crashes[0]!);
    assert.deepEqual(readFileSync(crash), seed);

    const bin = join(ROOT, 'bin', 'dmaspec.js');
    const b = spawnSync(process.execPath, [bin, 'bytes', crash], { env, encoding: 'utf8' });
    assert.equal(b.status, 1, b.stderr);
    assert.match(b.stdout, /^# dmaspec fuzz finding: MASK-RESPECTED@/);
    assert.match(b.stdout, /@MASK-RESPECTED @fuzz @fault:direct-ignore-mask/);
    assert.match(b.stderr, /minimised \d+ → \d+ ops/);
    // Without the fault the same bytes are a passing sequence.
    const clean = spawnSync(process.execPath, [bin, 'bytes', crash, '--platform', PLATFORM], { env: { ...process.env, DMASPEC_FAULTS: '' }, encoding: 'utf8' });
    assert.equal(clean.status, 0, clean.stderr);
    assert.match(clean.stdout, /^Feature: replayed op sequence/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
