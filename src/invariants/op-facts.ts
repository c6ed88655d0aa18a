/**
 * What an op did, read from the op and its result only (black-box): the
 * mappings it created, the ones it asked to unmap, the ranges it synced. One
 * place so every checker reads the op language the same way.
 */
import type { ResolvedOp } from '../engine/handles';
import { DMA_ATTRS, type DmaDirection } from '../dma/types';
import type { OpResult, SgResultEntry } from '../ops/types';
import type { IoTlbMem } from '../dma/swiotlb';

export type MapKind = 'single' | 'resource' | 'sg';

/** One mapping an op created (an sg call gives one per mapped entry). */
export interface MapFact {
  readonly dev: string;
  readonly kind: MapKind;
  readonly phys: bigint;
  readonly size: bigint;
  readonly dir: DmaDirection;
  readonly attrs: number;
  readonly dma: bigint;
  /** sg: the entry's index and the call's input nents; single: 0 and 0 */
  readonly index: number;
  readonly nents: number;
}

/** One mapping an op asked to tear down (whatever the result). */
export interface UnmapFact {
  readonly dev: string;
  readonly kind: MapKind;
  readonly dma: bigint;
  readonly size: bigint;
  readonly dir: DmaDirection;
  readonly attrs: number;
  readonly index: number;
  readonly nents: number;
  /** sg: the entry's phys as the driver passed it */
  readonly phys: bigint;
}

/** One range an op synced. */
export interface SyncFact {
  readonly dev: string;
  readonly dma: bigint;
  readonly size: bigint;
  readonly dir: DmaDirection;
  readonly toCpu: boolean;
  readonly sg: boolean;
}

export const SINGLE_MAPS = ['dma_map_phys', 'dma_map_page', 'dma_map_single', 'dma_map_resource'] as const;
export const SG_MAPS = ['dma_map_sg', 'dma_map_sgtable'] as const;
export const SKIP_CPU_SYNC = DMA_ATTRS.DMA_ATTR_SKIP_CPU_SYNC;
export const MMIO = DMA_ATTRS.DMA_ATTR_MMIO;
export const REQUIRE_COHERENT = DMA_ATTRS.DMA_ATTR_REQUIRE_COHERENT;

// Sets: every checker asks these after every op.
const SINGLE_MAP_SET: ReadonlySet<string> = new Set(SINGLE_MAPS);
const SG_MAP_SET: ReadonlySet<string> = new Set(SG_MAPS);
export const isSingleMap = (op: ResolvedOp): op is Extract<ResolvedOp, { op: (typeof SINGLE_MAPS)[number] }> => SINGLE_MAP_SET.has(op.op);
export const isSgMap = (op: ResolvedOp): op is Extract<ResolvedOp, { op: (typeof SG_MAPS)[number] }> => SG_MAP_SET.has(op.op);

/** Errors the engine makes of a kernel BUG_ON or undefined behaviour: no kernel result at all. */
export const isEngineRefusal = (r: OpResult): boolean => !r.ok && (r.error === 'BUG' || r.error === 'UNDEFINED');

export function resultSg(r: OpResult): readonly SgResultEntry[] | undefined {
  if (!r.ok) return undefined;
  const v = r.values.sg;
  return Array.isArray(v) ? (v as readonly SgResultEntry[]) : undefined;
}

export function resultBig(r: OpResult, field: string): bigint | undefined {
  if (!r.ok) return undefined;
  const v = r.values[field];
  return typeof v === 'bigint' ? v : undefined;
}

export function resultNum(r: OpResult, field: string): number | undefined {
  if (!r.ok) return undefined;
  const v = r.values[field];
  return typeof v === 'number' ? v : undefined;
}

/** The mappings a successful map op created. */
export function mappedBy(op: ResolvedOp, r: OpResult): MapFact[] {
  if (!r.ok) return [];
  if (isSingleMap(op)) {
    const dma = resultBig(r, 'dma_addr');
    if (dma === undefined) return [];
    const kind: MapKind = op.op === 'dma_map_resource' ? 'resource' : 'single';
    return [{ dev: op.dev, kind, phys: op.phys, size: op.size, dir: op.dir, attrs: op.attrs ?? 0, dma, index: 0, nents: 0 }];
  }
  if (isSgMap(op)) {
    const sg = resultSg(r);
    const n = resultNum(r, 'nents') ?? 0;
    if (!sg) return [];
    const nents = op.nents ?? op.sg.length;
    return sg.slice(0, n).map((e, index) => ({
      dev: op.dev, kind: 'sg', phys: e.phys, size: e.dma_length, dir: op.dir, attrs: op.attrs ?? 0, dma: e.dma_address, index, nents,
    }));
  }
  return [];
}

/** The mappings an unmap op names. */
export function unmappedBy(op: ResolvedOp): UnmapFact[] {
  switch (op.op) {
    case 'dma_unmap_phys': case 'dma_unmap_page': case 'dma_unmap_single': case 'dma_unmap_resource':
      return [{ dev: op.dev, kind: op.op === 'dma_unmap_resource' ? 'resource' : 'single', dma: op.dma_addr, size: op.size, dir: op.dir, attrs: op.attrs ?? 0, index: 0, nents: 0, phys: 0n }];
    case 'dma_unmap_sg': case 'dma_unmap_sgtable': {
      const nents = Math.min(op.nents ?? op.sg.length, op.sg.length);
      return op.sg.slice(0, nents).map((e, index) => ({
        dev: op.dev, kind: 'sg' as const, dma: e.dma_address ?? 0n, size: e.dma_length ?? 0n, dir: op.dir, attrs: op.attrs ?? 0, index, nents, phys: e.phys,
      }));
    }
    default:
      return [];
  }
}

/** The ranges a sync op names (sg syncs use sg->length, as dma-direct does). */
export function syncedBy(op: ResolvedOp): SyncFact[] {
  switch (op.op) {
    case 'dma_sync_single_for_cpu': case 'dma_sync_single_for_device':
      return [{ dev: op.dev, dma: op.dma_addr, size: op.size, dir: op.dir, toCpu: op.op === 'dma_sync_single_for_cpu', sg: false }];
    case 'dma_sync_single_range_for_cpu': case 'dma_sync_single_range_for_device':
      return [{ dev: op.dev, dma: op.dma_addr + op.offset, size: op.size, dir: op.dir, toCpu: op.op === 'dma_sync_single_range_for_cpu', sg: false }];
    case 'dma_sync_sg_for_cpu': case 'dma_sync_sg_for_device': {
      const nents = Math.min(op.nents ?? op.sg.length, op.sg.length);
      return op.sg.slice(0, nents).map((e) => ({ dev: op.dev, dma: e.dma_address ?? 0n, size: e.length, dir: op.dir, toCpu: op.op === 'dma_sync_sg_for_cpu', sg: true }));
    }
    default:
      return [];
  }
}

export const hasWarning = (r: OpResult, code: string): boolean => r.warnings.some((w) => w.code === code);

export const hex = (v: bigint): string => `0x${v.toString(16)}`;

/**
 * Whether a map went through a bounce slot: tlb (the mapped phys) is a slot holding orig.
 * Any pool address for a buffer outside the pool is a bounce (a wrong orig is then reported by
 * the checkers). A driver that maps pool memory itself makes the address ambiguous (a direct map
 * lands in the pool too); then only the slot's recorded orig_addr tells the route (dma-core.md §4.2:
 * the slot of tlb_addr records orig_addr).
 */
export function bouncedVia(pool: IoTlbMem | null, tlb: bigint, orig: bigint): boolean {
  if (!pool || !pool.is_swiotlb_buffer(tlb)) return false;
  if (!pool.is_swiotlb_buffer(orig)) return true;
  return pool.view.orig_addr[Number((tlb - pool.start) >> 11n)] === orig;
}
