/**
 * Shared pieces of the random-program tests (all.test.ts, iommu-all.test.ts):
 * a tiny seeded xorshift32 so each program replays from its seed, and the
 * helpers both generators print with.
 */

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
