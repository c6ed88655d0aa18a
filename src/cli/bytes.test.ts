/** dmaspec bytes: bad arguments named, exit codes, and the --json form replays to the same finding. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decode } from '../fuzz/byte-target';
import { execute } from '../fuzz/execute';
import { parseOpList } from '../ops/json';

const BIN = join(__dirname, '..', '..', 'bin', 'dmaspec.js');
const cli = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  spawnSync(process.execPath, [BIN, 'bytes', ...args], { encoding: 'utf8', env: { ...process.env, DMASPEC_FAULTS: '', DMASPEC_PLATFORM: '', ...env } });

function file(data: Buffer): string {
  const f = join(mkdtempSync(join(tmpdir(), 'dmaspec-bytes-')), 'input');
  writeFileSync(f, data);
  return f;
}

/** Bytes that reach dma-iommu-drops-offset on x86-vtd (the first of a fixed walk). */
function failing(): Buffer {
  for (let n = 1; n < 500; n++) {
    const b = Buffer.from(Array.from({ length: 64 }, (_, i) => (i * 37 + n * 101) & 0xff));
    if (execute(decode(b, 'x86-vtd'), { faults: ['dma-iommu-drops-offset'], features: false }).failure) return b;
  }
  throw new Error('no input reaches dma-iommu-drops-offset');
}

test('bad arguments exit 2 and name the option or the file', () => {
  const f = file(Buffer.alloc(4));
  const bad = cli([f, '--faults', 'no-such-fault']);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--faults \(or DMASPEC_FAULTS\): unknown fault\(s\) no-such-fault/);
  const env = cli([f], { DMASPEC_PLATFORM: 'vax' });
  assert.equal(env.status, 2);
  assert.match(env.stderr, /--platform \(or DMASPEC_PLATFORM\): unknown platform "vax"/);
  assert.match(cli([f, '--frobnicate']).stderr, /unknown option "--frobnicate"/);
  const missing = cli([join(tmpdir(), 'no-such-dir-dmaspec', 'x')]);
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /cannot read .*no-such-dir-dmaspec/);
});

test('a failing input prints its minimised op list with --json (exit 1); without the fault it passes (exit 0)', () => {
  const f = file(failing());
  const r = cli([f, '--platform', 'x86-vtd', '--faults', 'dma-iommu-drops-offset', '--json']);
  assert.equal(r.status, 1, r.stderr);
  const ops = parseOpList(r.stdout, 'stdout');
  assert.equal(ops[0]?.op, 'platform');
  assert.match(execute(ops, { faults: ['dma-iommu-drops-offset'] }).failure?.key ?? '', /^DMA-IOMMU-TRANSLATES@/);
  assert.equal(execute(ops).failure, undefined, 'the reproducer needs the fault');
  const clean = cli([f, '--platform', 'x86-vtd']);
  assert.equal(clean.status, 0, clean.stderr);
  assert.match(clean.stderr, /no finding/);
});
