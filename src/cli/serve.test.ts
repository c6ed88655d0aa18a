import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseServeArgs } from './serve';

const BIN = join(__dirname, '..', '..', 'bin', 'dmaspec.js');

describe('dmaspec serve', () => {
  it('takes faults from --fault and DMASPEC_FAULTS, and refuses unknown ones by name', () => {
    assert.deepEqual(parseServeArgs(['--fault', 'iova-ignore-limit'], 'rcache-double-insert').faults, ['rcache-double-insert', 'iova-ignore-limit']);
    assert.throws(() => parseServeArgs(['--fault', 'nope'], undefined), /unknown fault\(s\) nope/);
    assert.throws(() => parseServeArgs(['--ops', 'alloc_iova,repeat'], undefined), /--ops: repeat is no op/);
    assert.deepEqual(parseServeArgs(['--ops', 'alloc_iova'], undefined).ops, ['platform', 'alloc_iova']);
  });

  it('speaks the protocol: hello first, one answer per line, EPROTO for what it cannot take, exit 0 at end of input', () => {
    const input = [
      '{"op":"platform","ncpus":2}',
      '{"op":"init_iova_domain","name":"d","granule":"0x1000","start_pfn":"0x1"}',
      '{"op":"alloc_iova","domain":"d","size":3,"limit_pfn":"1048575"}',
      'not json',
      '{"op":"find_iova","domain":"d","pfn":"0xffffd"}',
      '{"op":"iova_info","domain":"d"}',
    ].join('\n') + '\n';
    const r = spawnSync(process.execPath, [BIN, 'serve', '--ops', 'init_iova_domain,alloc_iova,find_iova'], { input, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual((lines[0]!.hello as { ops: string[] }).ops, ['platform', 'init_iova_domain', 'alloc_iova', 'find_iova']);
    assert.deepEqual(lines.slice(1, 4), [{ ok: true }, { ok: true }, { ok: true, pfn_lo: '0xffffc', pfn_hi: '0xffffe' }]);
    assert.equal(lines[4]!.error, 'EPROTO');
    assert.match(String(lines[4]!.message), /line 4: expected one JSON op object/);
    assert.deepEqual(lines[5], { ok: true, pfn_lo: '0xffffc', pfn_hi: '0xffffe' });
    assert.match(String(lines[6]!.message), /iova_info is not among the ops this server lists/);
    assert.equal(lines.length, 7);
  });
});
