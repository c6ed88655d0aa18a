/**
 * The fuzzer's mix: every legal action family with its weight, the misuse
 * share on top, and the loop that draws actions until a sequence is long
 * enough. Deterministic in the Rng; nothing here runs the model.
 */
import type { Op } from '../ops/types';
import { emit, type Action, type Gen } from './gen-core';
import { allocCoherent, coherentCpu, poolAlloc, poolCreate, poolDestroy, poolFree } from './gen-coherent';
import { advanceTime, query, removeDevice, setMask } from './gen-device';
import { burst, cpuNoise, deviceAccess, flood, mapSingle, partialSync, release, syncForCpu, syncForDevice } from './gen-direct';
import { iovaDomains } from './gen-iova';
import { iovaBegin, iovaLinkMore, iovaUnlinkLast } from './gen-iova-api';
import { MISUSE_ACTIONS } from './gen-misuse';
import { mapSg } from './gen-sg';
import { trackOps, type SeqState } from './gen-state';
import { mk } from './gen-vocab';
import { weighted } from './rng';
import type { Rng } from './types';

export interface GenOptions {
  /** Ops to generate after the platform ops. */
  readonly length: number;
  /** Share of actions (0..1) that break the DMA API contract on purpose. */
  readonly misuse: number;
}

/** Weights: mapping and device traffic dominate; set-up changes, floods and stand-alone IOVA domains are rare. */
export const LEGAL_ACTIONS: readonly (readonly [number, Action])[] = [
  [14, mapSingle], [7, mapSg], [4, allocCoherent], [1, poolCreate], [3, poolAlloc], [2, poolFree], [0.4, poolDestroy],
  [16, deviceAccess], [5, syncForCpu], [4, syncForDevice], [1.5, partialSync], [3, coherentCpu], [3, cpuNoise],
  [8, release(['single'])], [3, release(['sg'])], [2.5, release(['coherent'])], [3, iovaBegin], [1, iovaLinkMore],
  [1, iovaUnlinkLast], [2, release(['iova'])], [3, advanceTime], [3, query], [0.6, burst], [0.25, flood], [0.3, setMask], [0.3, removeDevice],
  [1.2, iovaDomains],
];

const fallback = (g: Gen): void => emit(g, mk('advance_time', { ms: 1 + g.rng.int(20) }));

/**
 * generateOps - @count ops that continue the sequence whose state is @st.
 * Each action is drawn from the misuse table with probability @misuse, else
 * from the legal one; an action that does not apply now is redrawn, and
 * advance_time fills in if none does. @st is advanced by every op emitted,
 * including any the last action emitted past @count (they are cut off).
 */
export function generateOps(rng: Rng, st: SeqState, count: number, misuse: number): Op[] {
  const g: Gen = { rng, st, out: [] };
  const legalW = LEGAL_ACTIONS.map(([w]) => w);
  const misuseW = MISUSE_ACTIONS.map(([w]) => w);
  while (g.out.length < count) {
    const bad = misuse > 0 && rng.chance(misuse);
    let done = false;
    for (let tries = 0; tries < 6 && !done; tries++) {
      done = bad ? MISUSE_ACTIONS[weighted(rng, misuseW)]![1](g) : LEGAL_ACTIONS[weighted(rng, legalW)]![1](g);
    }
    if (!done) fallback(g);
  }
  return g.out.slice(0, count);
}

/**
 * generateSequence - @opts.length ops for a driver on the machine @platformOps
 * sets up; the fuzz input is `[...platformOps, ...result]`. Deterministic in
 * @rng; a longer length extends a shorter one's output (no decision looks at
 * the length), so fast-check shrinks by length through prefixes.
 */
export function generateSequence(rng: Rng, platformOps: readonly Op[], opts: GenOptions): Op[] {
  return generateOps(rng, trackOps(platformOps), opts.length, opts.misuse);
}