/**
 * The fuzzer's random source: a seeded xoroshiro128+ from pure-rand behind the
 * small Rng interface of types.ts, so a seed replays a whole campaign (no
 * Math.random, no Date; STYLE.md "Keep it deterministic").
 */
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { uniformBigInt } from 'pure-rand/distribution/uniformBigInt';
import type { Rng } from './types';

/** 2^32: next() yields a signed 32-bit value; shifted, it is a uniform u32. */
const TWO_32 = 0x1_0000_0000;

/**
 * murmur3's fmix32: xoroshiro128+ seeded with 0, 1, 2, ... starts with nearly
 * equal outputs (-1, -2, -3, ...), so campaign seeds are scrambled first.
 */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85eb_ca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2_ae35);
  return (h ^ (h >>> 16)) | 0;
}

/**
 * createRng - a deterministic random source.
 * @seed: any integer; the same seed gives the same stream on every machine.
 * int(n) and bigint(n) throw on n <= 0 (an empty range is a caller bug).
 */
export function createRng(seed: number): Rng {
  const g = xoroshiro128plus(fmix32(seed | 0));
  for (let i = 0; i < 8; i++) g.next(); // and the first outputs of a fresh state are skipped too
  return {
    int(n: number): number {
      if (!(n >= 1)) throw new RangeError(`rng.int(${n}): the range must be non-empty`);
      return n === 1 ? 0 : uniformInt(g, 0, Math.floor(n) - 1);
    },
    chance(p: number): boolean {
      // One draw whatever p is, so a tuning knob never shifts the rest of the stream.
      const u = (g.next() + 0x8000_0000) / TWO_32;
      return u < p;
    },
    pick<T>(xs: readonly T[]): T {
      if (xs.length === 0) throw new RangeError('rng.pick: empty list');
      return xs[xs.length === 1 ? 0 : uniformInt(g, 0, xs.length - 1)] as T;
    },
    bigint(n: bigint): bigint {
      if (n <= 0n) throw new RangeError(`rng.bigint(${n}): the range must be non-empty`);
      return n === 1n ? 0n : uniformBigInt(g, 0n, n - 1n);
    },
  };
}

/**
 * fork - an independent stream seeded from @rng (one draw from it), for a
 * sub-task that must not shift its parent's stream by however much it uses.
 */
export function fork(rng: Rng): Rng {
  return createRng(rng.int(0x7fff_ffff));
}

/** weighted - index i with probability weights[i] / sum; weights must not all be 0. */
export function weighted(rng: Rng, weights: readonly number[]): number {
  const total = weights.reduce((a, w) => a + w, 0);
  if (!(total > 0)) throw new RangeError('weighted: no positive weight');
  let x = (rng.int(1 << 30) / (1 << 30)) * total;
  for (let i = 0; i < weights.length; i++) {
    x -= weights[i] as number;
    if (x < 0) return i;
  }
  return weights.length - 1;
}
