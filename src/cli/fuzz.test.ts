/** dmaspec fuzz end to end: bad options are named; a real SIGINT stops the workers and still writes the summary. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const BIN = join(__dirname, '..', '..', 'bin', 'dmaspec.js');

test('bad options are named and nothing runs', () => {
  for (const [args, msg] of [
    [['--coverage', 'lines'], /--coverage: expected one of model, code, both, got "lines"/],
    [['--workers', '0'], /--workers: expected a positive count, got "0"/],
    [['--time', 'soon'], /--time: expected a duration/],
  ] as const) {
    const r = spawnSync(process.execPath, [BIN, 'fuzz', ...args], { encoding: 'utf8' });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, msg);
    assert.equal(r.stdout, '');
  }
});

test('Ctrl-C (SIGINT) stops both workers after their current input, then the summary and report are written', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dmaspec-sigint-'));
  const child = spawn(process.execPath, [BIN, 'fuzz', '--time', '120s', '--workers', '2', '--coverage', 'both', '--corpus', join(dir, 'corpus'), '--out', join(dir, 'out')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  const started = new Promise<void>((res) => child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
    if (/instrumented model: .*\n/.test(stderr)) res();
  }));
  const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
  await started;
  await new Promise((r) => setTimeout(r, 1500));
  const t0 = Date.now();
  child.kill('SIGINT');
  const code = await exited;
  assert.ok(Date.now() - t0 < 30_000, 'stopped well before --time');
  assert.equal(code, 0, stderr);
  assert.match(stderr, /stopping after the current input/);
  assert.match(stdout, /== fuzz summary \(seed 1, 2 workers, coverage both\) ==\nexecs \d+ \(\d+\/s\)  edges \d+\/\d+ /);
  assert.ok(existsSync(join(dir, 'out', 'report.html')));
});
