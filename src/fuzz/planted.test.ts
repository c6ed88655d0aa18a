/**
 * The fuzzer's self-test: with a fixed seed and a small budget it must find
 * every planted fault below — one per layer: swiotlb, dma-direct, batched
 * cache maintenance, the IOVA allocator, the page tables, the IOTLB, dma-iommu
 * and the IOVA-based API — and the minimised reproducer must fail only with
 * the fault planted (so the finding is the fault, not a false alarm).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FaultName } from '../faults';
import { runCampaign } from './campaign';
import { execute } from './execute';

const PLANTED: readonly { fault: FaultName; platform: string; layer: string }[] = [
  { fault: 'swiotlb-skip-map-copy', platform: 'no-iommu-32bit', layer: 'swiotlb' },
  { fault: 'direct-ignore-mask', platform: 'no-iommu-32bit', layer: 'dma-direct' },
  { fault: 'batched-no-flush', platform: 'arm64-smmu', layer: 'caches (batched sync)' },
  { fault: 'rcache-double-insert', platform: 'x86-vtd', layer: 'IOVA allocator' },
  { fault: 'pgsize-wrong-choice', platform: 'mix', layer: 'page tables' },
  { fault: 'strict-unmap-no-sync', platform: 'thunderbolt-untrusted', layer: 'IOTLB' },
  { fault: 'lazy-unmap-no-invalidate', platform: 'mix', layer: 'flush queue' },
  { fault: 'dma-iommu-drops-offset', platform: 'x86-vtd', layer: 'dma-iommu' },
  { fault: 'iova-unlink-no-sync', platform: 'x86-vtd', layer: 'IOVA-based API' },
];

for (const { fault, platform, layer } of PLANTED) {
  test(`the fuzzer finds ${fault} (${layer}) within 400 executions, seed 1`, () => {
    const s = runCampaign({ seed: 1, runs: 400, platform, faults: [fault] });
    assert.ok(s.findings.length > 0, `no finding for ${fault} in ${s.execs} execs`);
    const f = s.findings[0];
    assert.ok(f.minimized.length <= 10, `${fault}: minimised to ${f.minimized.length} ops`);
    assert.ok(f.minimizeMs < 2000, `${fault}: minimising took ${f.minimizeMs} ms`);
    assert.equal(execute(f.minimized, { faults: [fault] }).failure?.key, f.failure.key, 'the reproducer fails the same way with the fault');
    assert.equal(execute(f.minimized).failure, undefined, 'and not at all without it');
  });
}
