/**
 * Generation: op sequences a driver could issue on a given platform. A
 * SeqState (gen-state.ts) tracks, from the ops alone, what is live and who
 * owns each buffer, so most generated calls are legal; a tunable share of
 * actions breaks the contract on purpose (gen-misuse.ts). The same tracker
 * replays any prefix, which is how mutate.ts inserts ops into an existing
 * input (syzkaller's generation.go: the random source is passed in; nothing
 * here runs the model).
 *
 * This file is the public surface; the work is split by op family:
 * gen-direct (streaming maps, syncs, device traffic), gen-sg, gen-coherent
 * (coherent buffers and dma_pools), gen-iova-api (the two-step IOVA API),
 * gen-device (time, queries, masks, unbind), gen-iova (stand-alone IOVA
 * domains), gen-misuse, gen-mix (weights and the loop), gen-conform
 * (generation restricted to a set of ops), arbitraries (fast-check).
 */
export {
  SeqState, trackOps,
  type BlockRes, type CoherentRes, type DevState, type IovaRes, type Link, type Owner, type PoolInfo, type Resource, type Seg, type SgRes, type SingleRes,
} from './gen-state';
export type { Dir, MapFn } from './gen-vocab';
export { generateOps, generateSequence, type GenOptions } from './gen-mix';
export { generateConformanceInput, type ConformOptions } from './gen-conform';
export { fuzzInputArb, opSequenceArb, platformArb } from './arbitraries';
