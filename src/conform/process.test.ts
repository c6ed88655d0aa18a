import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { runDifferential } from './differential';
import { ImplFault } from './implementation';
import { ModelImplementation } from './model';
import { ProcessImplementation, splitCommand } from './process';

const FIXTURE = join(__dirname, 'fixtures', 'misbehave.ts');
const out = mkdtempSync(join(tmpdir(), 'conform-process-'));
after(() => rmSync(out, { recursive: true, force: true }));

const fixture = (mode: string, n: number, timeoutMs = 2000): ProcessImplementation =>
  new ProcessImplementation(`${process.execPath} --import tsx ${FIXTURE} ${mode} ${n}`, { timeoutMs });

async function campaign(mode: string, n: number, timeoutMs?: number) {
  const impl = fixture(mode, n, timeoutMs);
  const hello = await impl.start();
  const ref = new ModelImplementation();
  await ref.start();
  try {
    const dir = join(out, mode);
    const stats = await runDifferential({ ref, impl, hello, profile: 'linux-exact' }, { outDir: dir, implementation: hello.implementation, profile: 'linux-exact' }, { seed: 3, runs: 5, length: 20, outDir: dir, minimizeMs: 3000 });
    return stats;
  } finally {
    await impl.stop();
  }
}

describe('splitCommand', () => {
  it('splits words and quotes and takes leading NAME=value as environment', () => {
    assert.deepEqual(splitCommand(`A=1 B='x y' ./impl --name "two words" a\\ b`), { env: { A: '1', B: 'x y' }, argv: ['./impl', '--name', 'two words', 'a b'] });
  });
  it('refuses an unclosed quote and an empty command', () => {
    assert.throws(() => splitCommand('impl "x'), /unclosed "/);
    assert.throws(() => splitCommand('A=1'), /no command/);
  });
});

describe('a misbehaving implementation is reported with its ops, restarted, and the campaign goes on', () => {
  for (const [mode, kind, timeout] of [['crash', 'crash', 2000], ['hang', 'hang', 300], ['garbage', 'garbage', 2000]] as const) {
    it(`${mode}: every run still happens, the fault is saved with the ops that did it and stderr`, async () => {
      const stats = await campaign(mode, 30, timeout);
      assert.equal(stats.runs, 5);
      assert.ok(stats.faults.length >= 1, 'the fault is reported');
      const f = stats.faults[0]!;
      assert.equal(f.kind, kind);
      assert.ok(stats.restarts >= 1);
      assert.ok(stats.agreed >= 1, 'runs after a restart agree again');
      // The op it failed on is the 30th op this process got (counting every platform op).
      const saved = JSON.parse(readFileSync(f.files.find((x) => x.endsWith('.json'))!, 'utf8')) as { sent: { op: string }[]; stderr: string; kind: string };
      assert.equal(saved.kind, kind);
      assert.equal(saved.sent[0]!.op, 'platform');
      assert.ok(saved.sent.length >= 1 && saved.sent.length <= 30);
      assert.match(saved.stderr, /got /, 'its stderr is kept');
    });
  }

  it('lie: an op the hello lists but the implementation refuses is a protocol error (EPROTO), not a pass', async () => {
    const stats = await campaign('lie', 0);
    const d = stats.divergences.find((x) => x.key === 'EPROTO@reserve_iova');
    assert.ok(d, `divergences: ${stats.divergences.map((x) => x.key).join(', ')}`);
    assert.match(d.diffs[0]!.message, /protocol error.*not implemented/);
    assert.equal(d.ops[d.ops.length - 1]!.op, 'reserve_iova');
    assert.ok(d.ops.length <= 10);
  });

  it('double: a second answer to one op is garbage, found at the next op', async () => {
    const impl = fixture('double', 2);
    await impl.start();
    try {
      assert.deepEqual(await impl.execute({ op: 'platform' }), { ok: true });
      assert.deepEqual(await impl.execute({ op: 'init_iova_domain', name: 'd', granule: '0x1000', start_pfn: '0x1' }), { ok: true });
      await new Promise((r) => setTimeout(r, 100)); // the second copy arrives
      await assert.rejects(impl.execute({ op: 'find_iova', domain: 'd', pfn: '0x1' }), (e: unknown) => e instanceof ImplFault && e.kind === 'garbage' && /1 line\(s\) more than one answer before find_iova/.test(e.message));
    } finally {
      await impl.stop();
    }
  });

  it('a hello with another protocol version makes it unusable', async () => {
    await assert.rejects(fixture('bad-hello', 0).start(), (e: unknown) => e instanceof ImplFault && e.kind === 'hello' && /protocol: expected 1/.test(e.message));
  });

  it('a command that does not exist is a crash at start', async () => {
    await assert.rejects(new ProcessImplementation('/nonexistent/impl', { timeoutMs: 500 }).start(), (e: unknown) => e instanceof ImplFault && e.kind === 'crash');
  });
});
