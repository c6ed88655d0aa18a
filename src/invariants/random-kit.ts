/**
 * Shared pieces of the random-program tests (all.test.ts, iommu-all.test.ts):
 * a tiny seeded xorshift32 so each program replays from its seed, the helpers
 * both generators print with, and the runner both use.
 */
import { OpParseError } from '../ops/errors';
import { Session } from './session';

/** A seeded source of integers in [0, n). */
export function rng(seed: number): (n: number) => number {
  let x = seed >>> 0 || 1;
  return (n) => {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    return x % n;
  };
}

export const hexa = (v: bigint): string => `0x${v.toString(16)}`;
export const DIRS = ['DMA_TO_DEVICE', 'DMA_FROM_DEVICE', 'DMA_BIDIRECTIONAL'] as const;

/** Runs a program, dropping steps whose handle an earlier failed op never defined, or that name things that do not exist. */
export function runProgram(steps: readonly string[], s = new Session()): Session {
  const defined = new Set<string>();
  for (const st of steps) {
    const uses = [...st.matchAll(/\$([a-z]+\d+)/g)].map((m) => m[1]!);
    if (uses.some((h) => !defined.has(h))) continue;
    let o;
    try {
      o = s.run(st);
    } catch (e) {
      if (e instanceof OpParseError) continue;
      throw e;
    }
    const as = /as ([a-z]+\d+)$/.exec(st);
    if (as && o.result.ok) defined.add(as[1]!);
    const state = /calls dma_iova_try_alloc with state ([a-z]+\d+)/.exec(st);
    if (state && o.result.ok) {
      if (o.result.values.value === true) defined.add(state[1]!);
      else defined.delete(state[1]!);
    }
  }
  return s;
}
