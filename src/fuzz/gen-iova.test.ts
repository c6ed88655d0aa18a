/**
 * The stand-alone IOVA domain family: its pressure batches free exactly the
 * ranges they allocated (checked against the model's tree), and it takes a
 * small share of the fuzzer's normal mix without an invariant firing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Engine } from '../engine/engine';
import { isHandleRef } from '../ops/kinds';
import type { Op } from '../ops/types';
import type { Gen } from './gen-core';
import { pressure } from './gen-iova';
import { generateSequence, trackOps } from './generate';
import { namedPlatform, PLATFORM_NAMES, randomPlatform } from './platforms';
import { createRng } from './rng';

test('a pressure batch is N contiguous nodes at $h, $h + s, ...: the stride free_iova_fast walks names exactly them', () => {
  let batches = 0;
  for (const [seed, conform] of [[1, false], [2, true], [3, false], [4, true], [5, false], [6, true]] as const) {
    const setup = [{ op: 'platform', ncpus: 1 + (seed % 4) } as Op];
    const rng = createRng(seed);
    const g: Gen = { rng, st: trackOps(setup), out: [], ...(conform ? { allowed: new Set(['alloc_iova_fast', 'free_iova_fast', 'init_iova_domain']) } : {}) };
    assert.ok(pressure(g));
    const e = new Engine();
    setup.forEach((o) => e.execute(o));
    const [init, batch] = g.out as [Extract<Op, { op: 'init_iova_domain' }>, Op];
    e.execute(init);
    const out = e.execute(batch);
    assert.ok(out.result.ok, 'the batch allocation failed');
    assert.equal(batch.op, conform ? 'alloc_iova_fast' : 'repeat', 'a conformance run uses the repeat argument, the mix the repeat op');
    const b = (batch.op === 'repeat' ? batch.ops[0] : batch) as Extract<Op, { op: 'alloc_iova_fast' }>;
    const n = batch.op === 'repeat' ? batch.times : b.repeat!;
    const nodes = (): number => {
      const r = e.execute({ op: 'iova_info', domain: init.name } as Op).result;
      return r.ok ? Number(r.values.nodes) : -1;
    };
    assert.equal(nodes(), n + 1, 'N nodes and the anchor');
    for (let i = 0; i < n; i++) {
      const f = e.execute({ op: 'find_iova', domain: init.name, pfn: { handle: b.as!, offset: BigInt(i) * b.size } } as Op).result;
      if (!f.ok) assert.fail(`node ${i} of ${n}`);
      assert.equal(BigInt(f.values.pfn_hi as bigint) - BigInt(f.values.pfn_lo as bigint) + 1n, b.size);
    }
    // The frees that follow name only those nodes, so nothing is lost: every one lands in a cache.
    for (const op of g.out.slice(2)) {
      const r = e.execute(op);
      assert.deepEqual(r.violations, [], op.op);
      if (op.op === 'free_iova_fast') assert.ok(isHandleRef(op.pfn) && op.pfn.handle === b.as);
    }
    batches++;
  }
  assert.equal(batches, 6);
});

test('the fuzzer\'s mix includes stand-alone IOVA domains, a small share, and no invariant fires on them', () => {
  let family = 0;
  let all = 0;
  const kinds = new Set<string>();
  for (let seed = 0; seed < 120; seed++) {
    const rng = createRng(seed);
    const plat = seed % 2 ? randomPlatform(rng) : namedPlatform(PLATFORM_NAMES[seed % PLATFORM_NAMES.length]!);
    const ops = [...plat, ...generateSequence(rng, plat, { length: 60, misuse: 0 })];
    const mine = ops.filter((o) => ['init_iova_domain', 'alloc_iova', 'free_iova', 'alloc_iova_fast', 'free_iova_fast', 'reserve_iova', 'find_iova'].includes(o.op)
      || (o.op === 'repeat' && (o.ops[0] as Op).op === 'alloc_iova_fast'));
    family += mine.length;
    all += ops.length;
    for (const o of mine) if (o.op === 'init_iova_domain') kinds.add(o.name.replace(/\d+$/, ''));
    if (mine.length === 0) continue;
    const e = new Engine();
    for (let i = 0; i < ops.length; i++) {
      let out;
      try {
        out = e.execute(ops[i]!, `op[${i}]`);
      } catch {
        break; // a DMA create that failed at run time leaves a later op dangling: not this family's doing
      }
      assert.deepEqual(out.violations.map((v) => v.id), [], `seed ${seed} op[${i}] ${ops[i]!.op}`);
    }
  }
  assert.ok(family > 0 && family / all < 0.1, `${family} of ${all} ops`);
  assert.deepEqual([...kinds].sort(), ['iova', 'rc', 'tight']);
});
