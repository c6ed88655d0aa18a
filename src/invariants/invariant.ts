/**
 * An invariant: a stable ID, a one-line statement, the spec clause it comes
 * from, and a checker run after every op. Black-box invariants use only ops,
 * results and probes (so they hold other implementations to account too);
 * white-box ones read model internals through read-only views.
 */
import type { Platform } from '../platform';
import type { ResolvedOp } from '../engine/handles';
import type { OpResult } from '../ops/types';

export interface InvariantInfo {
  readonly id: string;
  readonly statement: string;
  readonly clause: string;
  readonly box: 'black' | 'white';
}

export interface AfterOp {
  readonly op: ResolvedOp;
  readonly result: OpResult;
  readonly platform: Platform;
  readonly index: number;
}

/** One checker instance per run: black-box checkers keep shadow state across ops. */
export interface InvariantChecker {
  readonly info: InvariantInfo;
  /** Returns a message for each violation this op revealed (empty when all holds). */
  after(ctx: AfterOp): readonly string[];
}

export interface Violation {
  readonly id: string;
  readonly message: string;
  readonly index: number;
}

export type InvariantFactory = { readonly info: InvariantInfo; create(): InvariantChecker };

/** Helper for checkers that need no state between ops. */
export function stateless(info: InvariantInfo, check: (ctx: AfterOp) => readonly string[]): InvariantFactory {
  const checker: InvariantChecker = { info, after: check };
  return { info, create: () => checker };
}
