/** Every invariant the engine runs after each op, in one list (docs and --invariants derive from it). */
import { BATCHED_INVARIANTS } from './batched';
import { COHERENCE_INVARIANTS } from './coherence';
import { DEBUG_INVARIANTS } from './debug';
import { DIRECT_INVARIANTS } from './direct';
import type { InvariantFactory } from './invariant';
import { MAPPING_INVARIANTS } from './mapping';
import { SWIOTLB_INVARIANTS } from './swiotlb';

export const INVARIANTS: readonly InvariantFactory[] = [
  ...MAPPING_INVARIANTS,
  ...DIRECT_INVARIANTS,
  ...SWIOTLB_INVARIANTS,
  ...COHERENCE_INVARIANTS,
  ...BATCHED_INVARIANTS,
  ...DEBUG_INVARIANTS,
];
