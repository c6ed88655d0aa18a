/** Fuzz platforms: the named ones and 200 random ones are accepted by the engine; the shape the generator reads matches the engine's. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Engine } from '../engine/engine';
import { parseOp, printOp } from '../ops/json';
import type { Op } from '../ops/types';
import { createRng } from './rng';
import { trackOps } from './generate';
import { arenas, namedPlatform, PLATFORM_NAMES, platformShape, randomPlatform } from './platforms';

/** Runs set-up ops on a fresh engine: every op must succeed and no invariant may fire. */
function boot(ops: readonly Op[]): Engine {
  const e = new Engine();
  ops.forEach((op, i) => {
    const o = e.execute(op, `op[${i}]`);
    assert.ok(o.result.ok, `op[${i}] ${op.op} failed: ${JSON.stringify(o.result)}`);
    assert.deepEqual(o.violations, [], `op[${i}] ${op.op}`);
  });
  return e;
}

const RANDOM = Array.from({ length: 200 }, (_, seed) => ({ seed, ops: randomPlatform(createRng(seed)) }));

test('the named platforms are the five of the issue, each a platform op then iommu_add / device_add ops', () => {
  assert.deepEqual([...PLATFORM_NAMES], ['x86-vtd', 'arm64-smmu', 'no-iommu-32bit', 'thunderbolt-untrusted', 'cc-bounce']);
  for (const name of PLATFORM_NAMES) {
    const ops = namedPlatform(name);
    assert.equal(ops[0]!.op, 'platform');
    assert.ok(ops.slice(1).every((o) => o.op === 'iommu_add' || o.op === 'device_add'), name);
    assert.ok(ops.some((o) => o.op === 'device_add'), name);
  }
  assert.throws(() => namedPlatform('vax'), /no platform "vax"/);
});

test('every named platform is accepted by the engine', () => {
  for (const name of PLATFORM_NAMES) boot(namedPlatform(name));
});

test('200 random platforms are accepted by the engine', () => {
  for (const { seed, ops } of RANDOM) {
    try {
      boot(ops);
    } catch (e) {
      assert.fail(`seed ${seed}: ${(e as Error).message}\n${JSON.stringify(ops.map(printOp))}`);
    }
  }
});

test('random platforms cover the bounds: both arches, 4K/16K/64K pages, 0–2 IOMMUs of every mode, tiny and no pools, RAM above 4 GiB', () => {
  const seen = new Set<string>();
  for (const { ops } of RANDOM) {
    const p = ops[0]!;
    if (p.op !== 'platform') continue;
    seen.add(`arch ${p.arch}`).add(`page ${p.page_size}`).add(`iommus ${ops.filter((o) => o.op === 'iommu_add').length}`);
    seen.add(p.swiotlb ? (p.swiotlb.size <= 1n << 20n ? 'tiny pool' : 'pool') : 'no pool');
    if ((p.ram ?? []).some((r) => r.base + r.size > 1n << 32n)) seen.add('ram above 4G');
    for (const o of ops) {
      if (o.op === 'iommu_add') seen.add(`mode ${o.mode}`);
      if (o.op === 'device_add') {
        if (o.coherent === false) seen.add('non-coherent');
        if (o.untrusted) seen.add('untrusted');
        if (o.dma_range_map) seen.add('dma_range_map');
        if (o.force_bounce) seen.add('force_bounce');
      }
    }
  }
  for (const want of ['arch x86_64', 'arch arm64', 'page 4096', 'page 16384', 'page 65536', 'iommus 0', 'iommus 1', 'iommus 2', 'mode strict', 'mode lazy',
    'mode identity', 'tiny pool', 'pool', 'no pool', 'ram above 4G', 'non-coherent', 'untrusted', 'dma_range_map', 'force_bounce']) {
    assert.ok(seen.has(want), `no random platform with ${want}`);
  }
});

test('randomPlatform is deterministic and its ops round-trip through the JSON form', () => {
  for (let seed = 0; seed < 50; seed++) {
    const a = randomPlatform(createRng(seed));
    assert.deepEqual(randomPlatform(createRng(seed)), a);
    for (const op of a) assert.deepEqual(parseOp(JSON.parse(JSON.stringify(printOp(op)))), op);
  }
  assert.notDeepEqual(randomPlatform(createRng(1)), randomPlatform(createRng(2)));
});

test('the shape the generator reads matches the engine: pool placement and each DMA domain granule', () => {
  const platforms = [...PLATFORM_NAMES.map((n) => namedPlatform(n)), ...RANDOM.slice(0, 100).map((r) => r.ops)];
  for (const ops of platforms) {
    const e = boot(ops);
    const shape = platformShape(ops[0] as Extract<Op, { op: 'platform' }>);
    const pool = e.platform!.swiotlb;
    assert.deepEqual(shape.swiotlb && { lo: shape.swiotlb.lo, hi: shape.swiotlb.hi }, pool && { lo: pool.start, hi: pool.end });
    for (const d of trackOps(ops).devices.values()) {
      if (d.shape.path !== 'dma-iommu') continue;
      const info = e.execute(parseOp({ op: 'iommu_info', domain: d.shape.domain }));
      assert.ok(info.result.ok && info.result.values.granule === d.shape.granule, `${d.shape.name}: granule ${d.shape.granule}`);
      assert.equal(info.result.ok && info.result.values.type, d.shape.lazy ? 'DMA_FQ' : 'DMA');
    }
  }
});

test('driver arenas lie in RAM, clear of the swiotlb pool', () => {
  for (const { ops } of RANDOM) {
    const shape = platformShape(ops[0] as Extract<Op, { op: 'platform' }>);
    for (const z of arenas(shape)) {
      assert.ok(shape.ram.some((r) => z.lo >= r.lo && z.hi <= r.hi), 'in RAM');
      assert.ok(!shape.swiotlb || z.hi <= shape.swiotlb.lo || z.lo >= shape.swiotlb.hi, 'clear of the pool');
    }
  }
});
