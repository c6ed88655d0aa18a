/**
 * The platform and devices as the op stream describes them (black-box): the
 * `platform` and `device_add` arguments with their documented defaults, masks
 * updated by the dma_set_*mask results, and dma-direct's translation over the
 * device's dma_range_map (dma-core.md §3.1), written out here so a checker does
 * not trust the model's own translation.
 */
import type { ResolvedOp } from '../engine/handles';
import { DMA_BIT_MASK, DMA_MAPPING_ERROR, U64_MAX, min_not_zero, type BusDmaRegion } from '../dma/types';
import type { OpResult } from '../ops/types';

export interface PlatformFacts {
  readonly cache_line: bigint;
  readonly page_size: bigint;
  readonly dma_debug: boolean;
  readonly linux: '6.12' | 'newest';
  readonly arch: 'x86_64' | 'arm64';
}

export interface DeviceFacts {
  readonly name: string;
  /** Bumped when a device of the same name is added again: its mappings are not the old device's. */
  readonly gen: number;
  readonly bus: 'pci' | 'platform';
  dma_mask: bigint | null;
  coherent_dma_mask: bigint;
  readonly bus_dma_limit: bigint;
  readonly dma_range_map: readonly BusDmaRegion[] | null;
  readonly coherent: boolean;
  /** behind an IOMMU: DMA addresses are IOVAs; the IOMMU invariants (iova.ts, dma-iommu.ts, iommu.ts, pgtable.ts) judge those */
  readonly iommu: boolean;
  /** The IOMMU granule (smallest page of its pgsize_bitmap), 0 for a direct device. */
  readonly granule: bigint;
}

export class PlatformShadow {
  platform: PlatformFacts = { cache_line: 64n, page_size: 4096n, dma_debug: true, linux: 'newest', arch: 'x86_64' };
  private readonly devs = new Map<string, DeviceFacts>();
  /** IOMMU name → granule, from iommu_add. */
  private readonly granules = new Map<string, bigint>();
  private gen = 0;

  /** Call first thing in every after(), with every op. */
  observe(op: ResolvedOp, r: OpResult): void {
    switch (op.op) {
      case 'platform':
        this.platform = {
          cache_line: BigInt(op.cache_line ?? 64),
          page_size: op.page_size ?? 4096n,
          dma_debug: op.dma_debug ?? true,
          linux: op.linux ?? 'newest',
          arch: op.arch ?? 'x86_64',
        };
        this.devs.clear();
        this.granules.clear();
        return;
      case 'iommu_add': {
        const bitmap = op.pgsize_bitmap ?? 0x4020_1000n;
        if (r.ok) this.granules.set(op.name, bitmap & -bitmap);
        return;
      }
      case 'device_add':
        if (!r.ok) return;
        this.devs.set(op.name, {
          name: op.name, gen: ++this.gen, bus: op.bus ?? 'pci',
          dma_mask: op.dma_mask === 'none' ? null : op.dma_mask ?? DMA_BIT_MASK(32),
          coherent_dma_mask: op.coherent_dma_mask ?? DMA_BIT_MASK(32),
          bus_dma_limit: op.bus_dma_limit ?? 0n,
          dma_range_map: op.dma_range_map ?? null,
          coherent: op.coherent ?? true,
          iommu: op.iommu !== undefined,
          granule: op.iommu === undefined ? 0n : this.granules.get(op.iommu) ?? 0x1000n,
        });
        return;
      case 'device_remove':
        this.devs.delete(op.name);
        return;
      case 'dma_set_mask': case 'dma_set_mask_and_coherent': case 'dma_set_coherent_mask': {
        const d = this.devs.get(op.dev);
        if (!d || !r.ok) return;
        // dma_set_mask_and_coherent: the coherent half asks the same dma_supported, so it succeeds too.
        if (op.op !== 'dma_set_coherent_mask') d.dma_mask = op.mask & U64_MAX;
        if (op.op !== 'dma_set_mask') d.coherent_dma_mask = op.mask & U64_MAX;
        return;
      }
      default:
    }
  }

  device(name: string): DeviceFacts | undefined {
    return this.devs.get(name);
  }

  /** A key for shadow records that a re-added device of the same name does not share. */
  key(name: string): string {
    const d = this.devs.get(name);
    return d ? `${name}#${d.gen}` : `${name}#gone`;
  }
}

/** The streaming limit: min_not_zero(*dma_mask, bus_dma_limit) (dma_capable, §3.2). */
export const streamingLimit = (d: DeviceFacts): bigint => min_not_zero(d.dma_mask ?? 0n, d.bus_dma_limit);

/**
 * The highest byte a mapping may reach. dma-iommu limits by dma_get_mask (a
 * zero mask reads as 32 bits) and allocates whole granules below
 * limit >> shift, so its last granule may pass a limit that is not k·G − 1
 * (iommu.md §3.3; I-D8).
 */
export function mappingLimit(d: DeviceFacts): bigint {
  if (!d.iommu) return streamingLimit(d);
  const limit = min_not_zero(d.dma_mask ? d.dma_mask : DMA_BIT_MASK(32), d.bus_dma_limit);
  return limit | (d.granule - 1n);
}

/** Anything with a dma_range_map: a DeviceFacts, or the model's Device for white-box checkers. */
export interface HasRangeMap {
  readonly dma_range_map: readonly BusDmaRegion[] | null;
}

/** translate_phys_to_dma: first region containing phys; none → DMA_MAPPING_ERROR. */
export function toDma(d: HasRangeMap | undefined, phys: bigint): bigint {
  const map = d?.dma_range_map;
  if (!map) return phys;
  for (const m of map) if (phys >= m.cpu_start && phys - m.cpu_start < m.size) return m.dma_start + (phys - m.cpu_start);
  return DMA_MAPPING_ERROR;
}

/** translate_dma_to_phys: first region containing dma; none → all ones. */
export function toPhys(d: HasRangeMap | undefined, dma: bigint): bigint {
  const map = d?.dma_range_map;
  if (!map) return dma;
  for (const m of map) if (dma >= m.dma_start && dma - m.dma_start < m.size) return m.cpu_start + (dma - m.dma_start);
  return U64_MAX;
}
