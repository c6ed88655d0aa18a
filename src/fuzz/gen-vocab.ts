/**
 * The generator's vocabulary: directions, the map/unmap pairs and the op and
 * handle builders every generator module shares.
 */
import { attrs as attrsKind } from '../ops/dma-kinds';
import type { HandleRef } from '../ops/kinds';
import type { OpName } from '../ops/table';
import type { Op, OpOf } from '../ops/types';

export type Dir = OpOf<'dma_map_phys'>['dir'];
export const DIRS: readonly Dir[] = ['DMA_TO_DEVICE', 'DMA_FROM_DEVICE', 'DMA_BIDIRECTIONAL'];
export const ALL_DIRS: readonly Dir[] = [...DIRS, 'DMA_NONE'];
/** The CPU fills the buffer for the device. */
export const cpuFills = (d: Dir): boolean => d === 'DMA_TO_DEVICE' || d === 'DMA_BIDIRECTIONAL';
/** The device fills the buffer for the CPU. */
export const deviceFills = (d: Dir): boolean => d === 'DMA_FROM_DEVICE' || d === 'DMA_BIDIRECTIONAL';

export type MapFn = 'dma_map_phys' | 'dma_map_page' | 'dma_map_single' | 'dma_map_resource';
export const UNMAP_OF = {
  dma_map_phys: 'dma_unmap_phys', dma_map_page: 'dma_unmap_page', dma_map_single: 'dma_unmap_single', dma_map_resource: 'dma_unmap_resource',
} as const satisfies Record<MapFn, OpName>;

export const mk = <N extends OpName>(op: N, args: Omit<OpOf<N>, 'op'>): Op => ({ op, ...args }) as unknown as Op;
export const ref = (handle: string, offset = 0n): HandleRef => ({ handle, offset });
export const refField = (handle: string, field: string, offset = 0n): HandleRef => ({ handle, field, offset });
export const refSeg = (handle: string, index: number, offset = 0n): HandleRef => ({ handle, index, offset });
export const attrBits = (...names: string[]): number => attrsKind.parse(names, 'attrs');

export const roundUp = (x: bigint, a: bigint): bigint => ((x + a - 1n) / a) * a;
