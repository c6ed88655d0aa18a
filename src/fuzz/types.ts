/**
 * The fuzzer's shared vocabulary. A fuzz input is a plain op list whose first
 * op is `platform` — the same thing a corpus file holds — so generation,
 * mutation, execution, minimisation and printing all speak one language.
 */
import type { Op } from '../ops/types';

/** A fuzz input: ops[0] is the platform op, then devices, then the sequence. */
export type FuzzInput = readonly Op[];

/** The random source every generator and mutator is handed (never Math.random). */
export interface Rng {
  /** A uniform integer in [0, n). */
  int(n: number): number;
  /** true with probability p. */
  chance(p: number): boolean;
  /** One element of a non-empty list. */
  pick<T>(xs: readonly T[]): T;
  /** A uniform bigint in [0, n). */
  bigint(n: bigint): bigint;
}

/** What one execution found. */
export interface Failure {
  readonly kind: 'invariant' | 'crash';
  /** Invariant ID, or CRASH. */
  readonly id: string;
  readonly message: string;
  /** Index of the op after which it showed. */
  readonly index: number;
  /** Deduplication key: the invariant (or crash site) and the op that revealed it. */
  readonly key: string;
}

export interface ExecOutcome {
  /** Coverage features this input reached (model-level paths; see coverage.ts). */
  readonly features: ReadonlySet<string>;
  /** The first failure, if any; execution stops there. */
  readonly failure?: Failure;
  /** Ops that ran (an input error stops a run early: the input is then invalid, not a finding). */
  readonly ran: number;
  readonly invalid?: string;
}
