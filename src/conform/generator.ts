/**
 * Inputs for the differential campaign: the fuzzer's generation restricted to the ops an
 * implementation lists (src/fuzz/gen-conform.ts), platform first, deterministic in the rng.
 */
import { generateConformanceInput } from '../fuzz/generate';
import type { Rng } from '../fuzz/types';
import type { OpName } from '../ops/table';
import type { Op } from '../ops/types';

export interface ConformanceGenOptions {
  readonly length?: number;
  readonly misuse?: number;
}
export type ConformanceGenerator = (rng: Rng, allowedOps: ReadonlySet<OpName>, opts?: ConformanceGenOptions) => Op[];

export const conformanceGenerator = (): ConformanceGenerator => generateConformanceInput;
