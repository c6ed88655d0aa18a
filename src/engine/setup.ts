/** The set-up ops: platform and device_add turn op arguments into model configuration. */
import { ConfigError, DEFAULT_PLATFORM, Platform, type PlatformConfig } from '../platform';
import { DMA_BIT_MASK, U64_MAX, type Device } from '../dma/types';
import type { Resolved } from './handles';
import type { OpOf } from '../ops/types';

export function createPlatform(op: Resolved<OpOf<'platform'>>): Platform {
  const config: PlatformConfig = {
    ...DEFAULT_PLATFORM,
    ram: op.ram ?? DEFAULT_PLATFORM.ram,
    page_size: op.page_size === undefined ? DEFAULT_PLATFORM.page_size : Number(op.page_size),
    cache_line: op.cache_line ?? DEFAULT_PLATFORM.cache_line,
    ncpus: op.ncpus ?? DEFAULT_PLATFORM.ncpus,
    arch: op.arch ?? DEFAULT_PLATFORM.arch,
    linux: op.linux ?? DEFAULT_PLATFORM.linux,
    dma_debug: op.dma_debug ?? DEFAULT_PLATFORM.dma_debug,
    zone_dma_limit: op.zone_dma_limit ?? DEFAULT_PLATFORM.zone_dma_limit,
    swiotlb: op.swiotlb,
    dma_debug_entries: op.dma_debug_entries,
    dma_debug_num_errors: op.dma_debug_num_errors,
    dma_debug_all_errors: op.dma_debug_all_errors,
    dmapool_debug: op.dmapool_debug,
  };
  return new Platform(config);
}

/** device_add: PCI defaults (64 KiB segments, 4 GiB boundary, 32-bit masks) unless given. */
export function createDevice(p: Platform, op: Resolved<OpOf<'device_add'>>): Device {
  if (p.devices.has(op.name)) throw new ConfigError('name', `a device "${op.name}" exists already`);
  const coherent = op.coherent ?? true;
  if (!coherent && p.arch_name === 'x86_64') throw new ConfigError('coherent', 'x86 has no non-coherent DMA (dev_is_dma_coherent is always true there); use arch arm64');
  const bus = op.bus ?? 'pci';
  const pow2 = (v: bigint): boolean => v > 0n && (v & (v - 1n)) === 0n;
  const boundary = op.segment_boundary_mask ?? (bus === 'pci' ? 0xffff_ffffn : U64_MAX);
  if (!pow2(boundary + 1n) && boundary !== U64_MAX) throw new ConfigError('segment_boundary_mask', 'must be 2^n - 1');
  const map = op.dma_range_map ?? null;
  map?.forEach((m, i) => {
    if (m.size === 0n) throw new ConfigError(`dma_range_map[${i}].size`, 'must not be 0');
  });
  return {
    name: op.name,
    bus,
    dma_mask: op.dma_mask === 'none' ? null : op.dma_mask ?? DMA_BIT_MASK(32),
    coherent_dma_mask: op.coherent_dma_mask ?? DMA_BIT_MASK(32),
    bus_dma_limit: op.bus_dma_limit ?? 0n,
    dma_range_map: map,
    dma_coherent: coherent,
    dma_skip_sync: false,
    min_align_mask: op.min_align_mask ?? 0n,
    max_segment_size: op.max_segment_size ?? 0x10000n,
    segment_boundary_mask: boundary,
    force_bounce: op.force_bounce ?? false,
    iommu: op.iommu ?? null,
    untrusted: op.untrusted ?? false,
  };
}
