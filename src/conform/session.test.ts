import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseOpList } from '../ops/json';
import { formatHex, parseU64 } from '../ops/numbers';
import type { Hello, Implementation, WireOp } from './implementation';
import { ModelImplementation } from './model';
import { opsSent, runSequence } from './session';

/** The reference model with every pfn it returns moved by `shift` (and moved back on the way in): another allocator with other addresses. */
class Shifted implements Implementation {
  readonly got: WireOp[] = [];
  private readonly model = new ModelImplementation();
  constructor(private readonly shift: bigint) {}
  start(): Promise<Hello> { return this.model.start(); }
  stop(): Promise<void> { return this.model.stop(); }
  async execute(op: WireOp): Promise<unknown> {
    this.got.push(op);
    const back = typeof op.pfn === 'string' ? { ...op, pfn: formatHex(parseU64(op.pfn)! - this.shift) } : op;
    const r = (await this.model.execute(back)) as Record<string, unknown>;
    for (const k of ['pfn', 'pfn_lo', 'pfn_hi']) if (typeof r[k] === 'string') r[k] = Number(parseU64(r[k] as string)! + this.shift);
    return r;
  }
}

const OPS = parseOpList(JSON.stringify([
  { op: 'platform' },
  { op: 'init_iova_domain', name: 'd', granule: '4K', start_pfn: 1 },
  { op: 'repeat', times: 2, ops: [{ op: 'alloc_iova', domain: 'd', size: 1, limit_pfn: '0xfffff', as: 'a' }, { op: 'find_iova', domain: 'd', pfn: '$a' }] },
  { op: 'free_iova', domain: 'd', pfn: '$a' },
]), 'test');

describe('a sequence on two implementations', () => {
  it('expands repeat into its inner ops, round by round, and each side resolves handles against its own results', async () => {
    const ref = new ModelImplementation();
    const impl = new Shifted(-0x1000n);
    await ref.start();
    const hello = await impl.start();
    const r = await runSequence({ ref, impl, hello, profile: 'contract' }, OPS);
    assert.equal(r.kind, 'agree');
    assert.deepEqual(impl.got.map((o) => o.op), ['platform', 'init_iova_domain', 'alloc_iova', 'find_iova', 'alloc_iova', 'find_iova', 'free_iova']);
    assert.ok(impl.got.every((o) => !('as' in o)));
    // $a is the implementation's own second allocation (0xffffe shifted), not the reference's.
    assert.deepEqual(impl.got[6], { op: 'free_iova', domain: 'd', pfn: formatHex(0xffffen - 0x1000n) });
    assert.deepEqual(r.steps.map((s) => s.path), ['op[0]', 'op[1]', 'op[2].ops[0] (round 1)', 'op[2].ops[1] (round 1)', 'op[2].ops[0] (round 2)', 'op[2].ops[1] (round 2)', 'op[3]']);
    assert.deepEqual([...opsSent(OPS)].sort(), ['alloc_iova', 'find_iova', 'free_iova', 'init_iova_domain', 'platform']);
  });

  it('under linux-exact the other addresses are a divergence at the first op that shows one', async () => {
    const ref = new ModelImplementation();
    const impl = new Shifted(-0x1000n);
    await ref.start();
    const hello = await impl.start();
    const r = await runSequence({ ref, impl, hello, profile: 'linux-exact' }, OPS);
    assert.equal(r.kind, 'diverge');
    assert.equal(r.kind === 'diverge' && r.at, 2);
    assert.deepEqual(r.kind === 'diverge' && r.diffs.map((d) => d.key), ['pfn_lo@alloc_iova', 'pfn_hi@alloc_iova']);
  });

  it('an input the reference refuses is invalid, not a divergence', async () => {
    const ref = new ModelImplementation();
    const impl = new ModelImplementation();
    await ref.start();
    const hello = await impl.start();
    const bad = parseOpList('[{"op":"platform"},{"op":"free_iova","domain":"nope","pfn":1}]', 'bad');
    const r = await runSequence({ ref, impl, hello, profile: 'linux-exact' }, bad);
    assert.equal(r.kind, 'invalid');
    assert.match(r.kind === 'invalid' ? r.reason : '', /no IOVA domain "nope"/);
  });

  it('undefined behaviour on the reference ends the input there: the implementation never sees the op', async () => {
    const ref = new ModelImplementation();
    const impl = new Shifted(0n);
    await ref.start();
    const hello = await impl.start();
    const ub = parseOpList(JSON.stringify([
      { op: 'platform' }, { op: 'init_iova_domain', name: 'd', granule: '4K', start_pfn: 1 },
      { op: 'alloc_iova', domain: 'd', size: 0, limit_pfn: '0xfffff' }, { op: 'alloc_iova', domain: 'd', size: 1, limit_pfn: '0xfffff' },
    ]), 'ub');
    const r = await runSequence({ ref, impl, hello, profile: 'linux-exact' }, ub);
    assert.equal(r.kind, 'invalid');
    assert.match(r.kind === 'invalid' ? r.reason : '', /op\[2\]: alloc_iova is undefined behaviour \(UNDEFINED_SIZE_ZERO\)/);
    assert.deepEqual(impl.got.map((o) => o.op), ['platform', 'init_iova_domain']);
  });
});
