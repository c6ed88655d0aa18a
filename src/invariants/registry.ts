/** Every invariant the engine runs after each op, in one list (docs and --invariants derive from it). */
import type { InvariantFactory } from './invariant';

export const INVARIANTS: readonly InvariantFactory[] = [];
