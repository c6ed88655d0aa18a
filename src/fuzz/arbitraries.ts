/**
 * fast-check arbitraries over the generator: platforms, op sequences and
 * whole fuzz inputs (a seed feeds createRng; lengths shrink through prefixes).
 */
import fc from 'fast-check';
import type { Op } from '../ops/types';
import { generateSequence } from './gen-mix';
import { namedPlatform, PLATFORM_NAMES, randomPlatform } from './platforms';
import { createRng } from './rng';

export const seedArb = fc.integer({ min: 0, max: 0x7fff_ffff });

/** @public A named default platform or a random one (as its op list). */
export const platformArb: fc.Arbitrary<Op[]> = fc.oneof(
  fc.constantFrom(...PLATFORM_NAMES).map((n) => namedPlatform(n)),
  seedArb.map((s) => randomPlatform(createRng(s))),
);

/**
 * @public opSequenceArb - whole fuzz inputs (platform ops first) from the
 * generator: a seed feeds createRng, and the length shrinks towards 0, each
 * shorter input being a prefix of the longer one.
 *
 * @example
 * ```ts
 * import fc from 'fast-check';
 * import { Engine } from '../engine/engine';
 * import { opSequenceArb } from './generate';
 * import { namedPlatform } from './platforms';
 *
 * // No invariant fires on legal driver behaviour on the 32-bit, swiotlb-bouncing machine
 * // (generate.test.ts runs exactly this).
 * fc.assert(fc.property(opSequenceArb(namedPlatform('no-iommu-32bit'), { maxLength: 40 }), (ops) => {
 *   const e = new Engine();
 *   for (const op of ops) {
 *     try {
 *       if (e.execute(op).violations.length > 0) return false;
 *     } catch {
 *       // an op naming the handle of a create that failed at run time: skip it
 *     }
 *   }
 *   return true;
 * }));
 * ```
 */
export function opSequenceArb(platformOps?: readonly Op[], opts: { maxLength?: number; misuse?: number } = {}): fc.Arbitrary<Op[]> {
  const plats = platformOps ? fc.constant(platformOps) : platformArb;
  const misuse = opts.misuse ?? 0;
  return fc.tuple(plats, seedArb, fc.integer({ min: 0, max: opts.maxLength ?? 50 }))
    .map(([p, seed, length]) => [...p, ...generateSequence(createRng(seed), p, { length, misuse })]);
}

/** @public fuzzInputArb - inputs on any platform, with a share of misuse (default 0.1). */
export function fuzzInputArb(opts: { maxLength?: number; misuse?: number } = {}): fc.Arbitrary<Op[]> {
  return opSequenceArb(undefined, { misuse: 0.1, ...opts });
}
