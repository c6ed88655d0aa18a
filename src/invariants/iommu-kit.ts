/**
 * Shared pieces of the IOMMU invariant tests (iova.test.ts, dma-iommu.test.ts,
 * iommu.test.ts, pgtable.test.ts, iommu-all.test.ts): platform steps, a
 * holds-then-fires driver, and writable handles on model internals for the
 * corruption tests (STYLE.md: "a deliberately broken platform ... must make the
 * invariant fire"). Never imported by the model or the engine.
 */
import assert from 'node:assert/strict';
import type { FaultName } from '../faults';
import type { IovaDomain } from '../iommu/iova';
import { Session } from './session';

export const RAM = 'ram [{base 0x0, size 4G}, {base 0x1_0000_0000, size 8G}]';
export const PLATFORM = `a platform with arch arm64 ${RAM} swiotlb {size 64M} ncpus 2`;
export const PLATFORM_612 = `a platform with arch arm64 linux 6.12 ${RAM} swiotlb {size 64M} ncpus 2`;

/** Runs @steps cleanly (no violation at all), then with @faults, where @id must fire. */
export function holdsThenFires(id: string, steps: readonly string[], faults: FaultName[]): Session {
  const clean = new Session();
  clean.run(...steps);
  assert.deepEqual(clean.fired(), [], clean.report());
  const bad = new Session({ faults });
  for (const s of steps) {
    try {
      bad.run(s);
    } catch {
      break; // a step whose handle the fault left undefined: what ran is enough
    }
  }
  assert.ok(bad.fired().includes(id), `${id} did not fire with ${faults.join(', ')}; fired: ${bad.fired().join(', ')}\n${bad.report()}`);
  return bad;
}

/** Asserts @id fired in @s (after a corruption), with the report in the message. */
export function fired(s: Session, id: string): void {
  assert.ok(s.fired().includes(id), `${id} did not fire; fired: ${s.fired().join(', ')}\n${s.report()}`);
}

/** The allocator of a DMA domain or a stand-alone IOVA domain, writable for corruption tests. */
export function iovad(s: Session, name: string): IovaDomain & { tree: { delete(k: bigint): boolean }; cached32_node: bigint; max32_alloc_size: bigint } {
  const d = s.platform.iova_domains.get(name) ?? s.platform.iommu.domains.get(name)?.iovad;
  if (!d) throw new Error(`no IOVA domain ${name}`);
  return d as never;
}

/** The class-k loaded magazine of a CPU, writable. */
export function magazine(s: Session, name: string, k: number, cpu = 0): bigint[] {
  return iovad(s, name).view.rcaches[k]!.loaded(cpu) as bigint[];
}

/** n copies of each step template, with {i} replaced by the index. */
export function times(n: number, ...templates: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) for (const t of templates) out.push(t.replaceAll('{i}', String(i)).replaceAll('{x}', (0x1000_0000 + i * 0x1000).toString(16)));
  return out;
}
