/** The CLI end to end: replay output and exit codes, explain round trip, corrupt corpus files skipped. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { replayCorpus } from './check';
import { parseStep } from '../ops/gherkin';
import { parseOpList } from '../ops/json';
import { replay } from '../engine/replay';
import { Engine } from '../engine/engine';
import { EXIT_MODEL_CRASH, replayFile } from './files';
import { printScenario } from '../ops/scenario';

const BIN = join(__dirname, '..', '..', 'bin', 'dmaspec.js');
const cli = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });

function tmp(name: string, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'dmaspec-'));
  const f = join(dir, name);
  writeFileSync(f, text);
  return f;
}

const GOOD = JSON.stringify([
  { op: 'platform' }, { op: 'device_add', name: 'd' },
  { op: 'dma_map_phys', dev: 'd', phys: '0x1000', size: '4K', dir: 'DMA_TO_DEVICE', as: 'b' },
  { op: 'dma_unmap_phys', dev: 'd', dma_addr: '$b', size: '2K', dir: 'DMA_TO_DEVICE' },
]);

test('replay prints one JSON result per op and exits 0', () => {
  const r = cli('replay', tmp('good.json', GOOD));
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(lines.length, 4);
  assert.equal(lines[2].dma_addr, '0x1000');
  assert.deepEqual(lines[3].warnings.map((w: { code: string }) => w.code), ['DEBUG_FREE_WRONG_SIZE', 'DEBUG_MAP_ERROR_NOT_CHECKED']);
});

test('replay names the file, op index and field of bad input, and exits 2', () => {
  const f = tmp('bad.json', JSON.stringify([{ op: 'platform' }, { op: 'dma_map_phys', dev: 'd', phys: 1, size: 1, dir: 'SIDEWAYS' }]));
  const r = cli('replay', f);
  assert.equal(r.status, 2);
  assert.match(r.stderr, new RegExp(`${f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\[1\\]\\.dir: expected a DMA direction`));
  assert.equal(r.stdout, '', 'nothing is half-written');
});

test('explain prints a scenario whose steps parse back to the same ops', () => {
  const ops = parseOpList(GOOD, 'g.json');
  const text = printScenario(ops, replay(ops, 'g.json').outcomes);
  const steps = text.split('\n').map((l) => /^\s+(?:Given|And|When) (.*)$/.exec(l)?.[1]).filter((s): s is string => !!s && !s.startsWith('the warnings') && !s.startsWith('there are'));
  assert.deepEqual(steps.map((s) => parseStep(s)), ops);
  assert.match(text, /Then the result has dma_addr 0x1000/);
  assert.match(text, /And the warnings are DEBUG_FREE_WRONG_SIZE, DEBUG_MAP_ERROR_NOT_CHECKED/);
  const r = cli('explain', tmp('g.json', GOOD));
  assert.equal(r.status, 0);
  assert.equal(r.stdout.replace(/Scenario: .*/, ''), text.replace(/Scenario: .*/, ''));
});

test('a corrupt corpus file is reported and skipped; the others replay', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dmaspec-corpus-'));
  writeFileSync(join(dir, 'a.json'), GOOD);
  writeFileSync(join(dir, 'b.json'), '[{"op": "platform"},');
  const files = replayCorpus(dir);
  assert.equal(files.length, 2);
  assert.equal(files[0].error, undefined);
  assert.equal(files[0].ops, 4);
  assert.match(files[1].error!, /b\.json: expected valid JSON/);
});

test('replay: a model crash is one line naming the op, after the results so far, and exit 3', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dmaspec-crash-'));
  const file = join(dir, 'crash.json');
  writeFileSync(file, JSON.stringify([{ op: 'platform' }, { op: 'device_add', name: 'nic' }, { op: 'device_add', name: 'ssd' }]));
  const execute = Engine.prototype.execute;
  const out: string[] = [];
  const err: string[] = [];
  const write = { out: process.stdout.write, err: process.stderr.write };
  let calls = 0;
  Engine.prototype.execute = function (this: InstanceType<typeof Engine>, ...args: Parameters<typeof execute>) {
    if (++calls === 3) throw new RangeError('planted');
    return execute.apply(this, args);
  };
  process.stdout.write = ((s: string) => (out.push(s), true)) as typeof process.stdout.write;
  process.stderr.write = ((s: string) => (err.push(s), true)) as typeof process.stderr.write;
  let code: number;
  try {
    code = replayFile(file);
  } finally {
    Engine.prototype.execute = execute;
    process.stdout.write = write.out;
    process.stderr.write = write.err;
  }
  assert.equal(code, EXIT_MODEL_CRASH);
  assert.equal(out.join('').trim().split('\n').length, 2, 'the two ops that ran are printed');
  assert.deepEqual(err, [`dmaspec: ${file}[2] (device_add): the model crashed: RangeError: planted\n`]);
});
