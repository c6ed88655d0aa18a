/**
 * dma-direct: the no-IOMMU streaming path (kernel/dma/direct.{c,h},
 * include/linux/dma-direct.h; dma-core.md §3). Stateless like the kernel: the
 * only state a mapping leaves behind is swiotlb slots and cache lines.
 */
import type { ArchDmaSync } from './arch-sync';
import type { IoTlbMem } from './swiotlb';
import {
  DMA_MAPPING_ERROR, SIZE_MAX, U64_MAX, hasAttr, min_not_zero,
  type Arch, type Device, type DmaAttrs, type DmaDirection, type LinuxVersion, type MemKind,
} from './types';
import type { WarnSink } from '../warn';
import { KernelBug } from './bug';
import type { Faults } from '../faults';

/** What dma-direct needs from the platform. */
export interface DirectEnv {
  readonly swiotlb: IoTlbMem | null;
  readonly arch: ArchDmaSync;
  readonly warn: WarnSink;
  readonly arch_name: Arch;
  readonly linux: LinuxVersion;
  /** dma_get_cache_alignment(): CTR_EL0.CWG on arm64, 1 on x86. */
  readonly cache_alignment: number;
  /** Highest RAM byte + 1 (max_pfn << PAGE_SHIFT) and the page size. */
  readonly ram_end: bigint;
  readonly page_size: bigint;
  readonly zone_dma_limit: bigint;
  /** Every RAM region, for dma_direct_all_ram_mapped. */
  readonly ram: readonly { base: bigint; size: bigint }[];
  /** The CPU the current call runs on. */
  cpu(): number;
  /** Planted faults (src/faults.ts); absent in unit tests. */
  readonly faults?: Faults;
}

const PHYS_ERROR = U64_MAX; // (phys_addr_t)-1

/** Cache maintenance or a bounce on an address dma_to_phys cannot translate: the kernel oopses. */
function checked_phys(dev: Device, addr: bigint): bigint {
  const phys = dma_to_phys(dev, addr);
  if (phys === PHYS_ERROR) throw new KernelBug('BUG_UNTRANSLATABLE_DMA_ADDRESS', `dma_to_phys(0x${addr.toString(16)}) has no physical address in ${dev.name}'s dma_range_map: the cache maintenance that follows would fault`);
  return phys;
}

// ---- translation (dma-core.md §3.1) ------------------------------------------

/** translate_phys_to_dma: the first region containing phys wins; no region → DMA_MAPPING_ERROR. */
export function phys_to_dma(dev: Device, phys: bigint): bigint {
  const map = dev.dma_range_map;
  if (!map) return phys;
  for (const m of map) {
    if (phys >= m.cpu_start && phys - m.cpu_start < m.size) return m.dma_start + (phys - m.cpu_start);
  }
  return DMA_MAPPING_ERROR;
}

/** translate_dma_to_phys: no region → all-ones. */
export function dma_to_phys(dev: Device, dma_addr: bigint): bigint {
  const map = dev.dma_range_map;
  if (!map) return dma_addr;
  for (const m of map) {
    if (dma_addr >= m.dma_start && dma_addr - m.dma_start < m.size) return m.cpu_start + (dma_addr - m.dma_start);
  }
  return PHYS_ERROR;
}

/**
 * dma_capable: only the inclusive end is compared with min_not_zero(mask,
 * bus_dma_limit) (§3.2). model: 64-bit dma_addr_t, so the min_low_pfn test of
 * 32-bit kernels never applies. The caller rejects size 0 before this.
 */
export function dma_capable(dev: Device, addr: bigint, size: bigint): boolean {
  if (addr === DMA_MAPPING_ERROR) return false;
  const end = (addr + size - 1n) & U64_MAX;
  return end <= min_not_zero(dev.dma_mask ?? 0n, dev.bus_dma_limit);
}

// ---- helpers -------------------------------------------------------------------

export const is_swiotlb_active = (env: DirectEnv): boolean => env.swiotlb !== null && env.swiotlb.nslabs > 0;
export const is_swiotlb_force_bounce = (env: DirectEnv, dev: Device): boolean =>
  dev.force_bounce || (env.swiotlb !== null && env.swiotlb.force_bounce);
const is_swiotlb_buffer = (env: DirectEnv, phys: bigint): boolean => env.swiotlb !== null && env.swiotlb.is_swiotlb_buffer(phys);

/** arm64 ARCH_DMA_MINALIGN (dma-core.md §0.1 [?]); kmalloc size classes with an 8-byte minimum. */
const ARCH_DMA_MINALIGN = 128n;
const KMALLOC_SMALL_CLASSES = [8n, 16n, 32n, 64n, 96n, 128n, 192n, 256n];

function kmalloc_size_roundup(size: bigint): bigint {
  if (size === 0n) return 0n;
  for (const c of KMALLOC_SMALL_CLASSES) if (size <= c) return c;
  let p = 512n;
  while (p < size) p <<= 1n;
  return p;
}

/**
 * dma_kmalloc_needs_bounce (dma-map-ops.h): arm64 bounces small FROM/BIDI
 * mappings of non-coherent devices whose kmalloc class is not cache-line
 * aligned. It looks at size and direction only, never at the address (§3.3).
 */
export function dma_kmalloc_needs_bounce(env: Pick<DirectEnv, 'arch_name' | 'cache_alignment'>, dev: Device, size: bigint, dir: DmaDirection): boolean {
  if (env.arch_name !== 'arm64') return false; // CONFIG_DMA_BOUNCE_UNALIGNED_KMALLOC
  if (dev.dma_coherent || dir === 'DMA_TO_DEVICE') return false;
  if (size >= 2n * ARCH_DMA_MINALIGN) return false;
  return kmalloc_size_roundup(size) % BigInt(env.cache_alignment) !== 0n;
}

/** Issue the arch maintenance and, for single calls, complete it (§5.5: one flush per call). */
function sync_for_device(env: DirectEnv, paddr: bigint, size: bigint, dir: DmaDirection, flush: boolean): void {
  env.arch.arch_sync_dma_for_device(env.cpu(), paddr, size, dir);
  if (flush) env.arch.arch_sync_dma_flush(env.cpu());
}

// ---- swiotlb_map (kernel/dma/swiotlb.c, dma-core.md §4.4) ------------------------

/**
 * swiotlb_map: bounce through slots, then check the slot is reachable.
 * Returns the DMA address or DMA_MAPPING_ERROR.
 */
export function swiotlb_map(env: DirectEnv, dev: Device, phys: bigint, size: bigint, dir: DmaDirection, attrs: DmaAttrs): bigint {
  const pool = env.swiotlb;
  if (!pool) {
    env.warn.warn('kernel', 'WARN_SWIOTLB_UNAVAILABLE', 'Can not allocate SWIOTLB buffer earlier and can\'t now provide you with the DMA bounce buffer', dev.name);
    return DMA_MAPPING_ERROR;
  }
  const tlb = pool.swiotlb_tbl_map_single(dev, phys, size, 0n, dir, attrs);
  if (tlb === DMA_MAPPING_ERROR) return DMA_MAPPING_ERROR;
  const dma = phys_to_dma(dev, tlb); // model: no memory encryption, so _unencrypted is the same
  if (!dma_capable(dev, dma, size) && !env.faults?.has('swiotlb-map-skip-capable-check')) {
    if (!env.faults?.has('swiotlb-map-leak-on-overflow')) pool.swiotlb_tbl_unmap_single(dev, tlb, size, dir, attrs | (1 << 5) /* SKIP_CPU_SYNC */);
    env.warn.warn('kernel', 'WARN_SWIOTLB_ADDR_OVERFLOW',
      `swiotlb addr 0x${dma.toString(16)}+${size} overflow (mask 0x${(dev.dma_mask ?? 0n).toString(16)}, bus limit 0x${dev.bus_dma_limit.toString(16)})`, dev.name);
    return DMA_MAPPING_ERROR;
  }
  // [U] the clean of the bounce slot is completed at once, even inside an sg map (§5.5).
  if (!dev.dma_coherent && !hasAttr(attrs, 'DMA_ATTR_SKIP_CPU_SYNC')) sync_for_device(env, env.faults?.has('swiotlb-maint-on-orig') ? phys : tlb, size, dir, true);
  return dma;
}

// ---- single mappings (§3.3 - §3.5) ------------------------------------------------

/**
 * dma_direct_map_phys (6.12: dma_direct_map_page). Returns the DMA address or
 * DMA_MAPPING_ERROR. `flush` false defers completion of cache maintenance to
 * the caller (batched sg, §5.5).
 */
export function dma_direct_map_phys(env: DirectEnv, dev: Device, phys: bigint, size: bigint, dir: DmaDirection, attrs: DmaAttrs, flush: boolean): bigint {
  const mmio = hasAttr(attrs, 'DMA_ATTR_MMIO');
  const requireCoherent = hasAttr(attrs, 'DMA_ATTR_REQUIRE_COHERENT');
  if (is_swiotlb_force_bounce(env, dev)) {
    if (mmio || requireCoherent) return DMA_MAPPING_ERROR;
    return swiotlb_map(env, dev, phys, size, dir, attrs);
  }
  let dma_addr: bigint;
  if (mmio) {
    dma_addr = phys; // [U] MMIO: no dma_range_map translation, never bounced
    if (!dma_capable(dev, dma_addr, size)) {
      // [U] goto err_overflow: the same dev_WARN_ONCE as an unbounceable RAM buffer.
      env.warn.warn('kernel', 'WARN_DMA_ADDR_OVERFLOW',
        `DMA addr 0x${dma_addr.toString(16)}+${size} overflow (mask 0x${(dev.dma_mask ?? 0n).toString(16)}, bus limit 0x${dev.bus_dma_limit.toString(16)})`, dev.name);
      return DMA_MAPPING_ERROR;
    }
  } else {
    dma_addr = env.faults?.has('direct-ignore-range-map') ? phys : phys_to_dma(dev, phys);
    if (env.faults?.has('direct-range-map-first-offset') && dev.dma_range_map && dev.dma_range_map.findIndex((m) => phys >= m.cpu_start && phys - m.cpu_start < m.size) > 0) dma_addr = phys - dev.dma_range_map[0]!.cpu_start + dev.dma_range_map[0]!.dma_start;
    const capable = dma_capable(dev, dma_addr, size) || (env.faults?.has('direct-ignore-mask') ?? false);
    if (!capable || dma_kmalloc_needs_bounce(env, dev, size, dir)) {
      if (is_swiotlb_active(env) && !requireCoherent) return swiotlb_map(env, dev, phys, size, dir, attrs);
      env.warn.warn('kernel', 'WARN_DMA_ADDR_OVERFLOW',
        `DMA addr 0x${dma_addr.toString(16)}+${size} overflow (mask 0x${(dev.dma_mask ?? 0n).toString(16)}, bus limit 0x${dev.bus_dma_limit.toString(16)})`, dev.name);
      return DMA_MAPPING_ERROR;
    }
  }
  if (!dev.dma_coherent && !hasAttr(attrs, 'DMA_ATTR_SKIP_CPU_SYNC') && !mmio && !env.faults?.has('direct-skip-clean-on-map')) sync_for_device(env, phys, size, dir, flush);
  return dma_addr;
}

/** dma_direct_sync_single_for_device: bounce copy first, then clean (§3.5). */
export function dma_direct_sync_single_for_device(env: DirectEnv, dev: Device, addr: bigint, size: bigint, dir: DmaDirection, flush: boolean): void {
  const paddr = dev.dma_coherent ? dma_to_phys(dev, addr) : checked_phys(dev, addr);
  if (is_swiotlb_buffer(env, paddr)) env.swiotlb!.swiotlb_sync_single_for_device(dev, paddr, size, dir);
  if (!dev.dma_coherent) sync_for_device(env, paddr, size, dir, flush);
}

/** dma_direct_sync_single_for_cpu: invalidate first, then copy back (§3.5). */
export function dma_direct_sync_single_for_cpu(env: DirectEnv, dev: Device, addr: bigint, size: bigint, dir: DmaDirection, flush: boolean): void {
  const paddr = dev.dma_coherent ? dma_to_phys(dev, addr) : checked_phys(dev, addr);
  if (!dev.dma_coherent) {
    env.arch.arch_sync_dma_for_cpu(env.cpu(), paddr, size, dir);
    if (flush) env.arch.arch_sync_dma_flush(env.cpu());
    env.arch.arch_sync_dma_for_cpu_all();
  }
  if (is_swiotlb_buffer(env, paddr)) env.swiotlb!.swiotlb_sync_single_for_cpu(dev, paddr, size, dir);
  // arch_dma_mark_clean is empty on every architecture (removed upstream).
}

/** dma_direct_unmap_phys (6.12: dma_direct_unmap_page), §3.4. */
export function dma_direct_unmap_phys(env: DirectEnv, dev: Device, addr: bigint, size: bigint, dir: DmaDirection, attrs: DmaAttrs, flush: boolean): void {
  if (hasAttr(attrs, 'DMA_ATTR_MMIO') || hasAttr(attrs, 'DMA_ATTR_REQUIRE_COHERENT')) return;
  const phys = dma_to_phys(dev, addr);
  if (!hasAttr(attrs, 'DMA_ATTR_SKIP_CPU_SYNC')) dma_direct_sync_single_for_cpu(env, dev, addr, size, dir, flush);
  if (is_swiotlb_buffer(env, phys)) env.swiotlb!.swiotlb_tbl_unmap_single(dev, phys, size, dir, attrs | (1 << 5));
}

// ---- scatter-gather (§3.6, batched per §5.5) ----------------------------------------

export interface SgEntry {
  phys: bigint;
  length: bigint;
  dma_address: bigint;
  dma_length: bigint;
  /** Where the entry lives, for dma-debug's pre-checks (default: the call's mem). */
  mem?: MemKind;
  /** sg_dma_is_swiotlb on the first entry: dma-iommu mapped the list entry by entry. */
  dma_is_swiotlb?: boolean;
}

/** Fault 'batched-flush-per-entry': sg entries complete their own maintenance, as before batching. */
const perEntryFlush = (env: DirectEnv): boolean => env.faults?.has('batched-flush-per-entry') ?? false;

/** Batched maintenance is completed once per sg call, if any entry issued some. */
function flushOnce(env: DirectEnv, dev: Device, issued: boolean): void {
  if (env.faults?.has('batched-no-flush')) return;
  if (issued && !dev.dma_coherent) env.arch.arch_sync_dma_flush(env.cpu());
}

/** dma_direct_map_sg: no merging; on failure unmaps entries 0..i-1 with SKIP_CPU_SYNC. Returns nents or -EIO. */
export function dma_direct_map_sg(env: DirectEnv, dev: Device, sg: SgEntry[], nents: number, dir: DmaDirection, attrs: DmaAttrs): number {
  for (let i = 0; i < nents; i++) {
    const e = sg[i];
    e.dma_address = dma_direct_map_phys(env, dev, e.phys, e.length, dir, attrs, perEntryFlush(env));
    if (e.dma_address === DMA_MAPPING_ERROR) {
      // Entries already mapped may have issued cleans: complete them before unwinding.
      flushOnce(env, dev, i > 0);
      if (!env.faults?.has('direct-sg-no-unwind')) dma_direct_unmap_sg(env, dev, sg, i, dir, attrs | (1 << 5));
      return -5; // -EIO
    }
    e.dma_length = e.length;
  }
  flushOnce(env, dev, nents > 0 && !(env.faults?.has('batched-no-flush-unaligned-tail') && nents >= 3 && sg[0]!.phys % BigInt(env.cache_alignment) !== 0n && (sg[nents - 1]!.phys + sg[nents - 1]!.length) % BigInt(env.cache_alignment) !== 0n));
  return nents;
}

export function dma_direct_unmap_sg(env: DirectEnv, dev: Device, sg: readonly SgEntry[], nents: number, dir: DmaDirection, attrs: DmaAttrs): void {
  for (let i = 0; i < nents; i++) dma_direct_unmap_phys(env, dev, sg[i].dma_address, sg[i].dma_length, dir, attrs, perEntryFlush(env));
  if (!hasAttr(attrs, 'DMA_ATTR_SKIP_CPU_SYNC')) flushOnce(env, dev, nents > 0);
}

/** dma_direct_sync_sg_for_device: per entry copy then issue clean; one flush. Length is sg->length. */
export function dma_direct_sync_sg_for_device(env: DirectEnv, dev: Device, sg: readonly SgEntry[], nents: number, dir: DmaDirection): void {
  for (let i = 0; i < nents; i++) dma_direct_sync_single_for_device(env, dev, sg[i].dma_address, sg[i].length, dir, perEntryFlush(env));
  flushOnce(env, dev, nents > 0);
}

/** dma_direct_sync_sg_for_cpu: per entry issue invalidate, then copy back; flush then cpu_all. */
export function dma_direct_sync_sg_for_cpu(env: DirectEnv, dev: Device, sg: readonly SgEntry[], nents: number, dir: DmaDirection): void {
  for (let i = 0; i < nents; i++) {
    const paddr = dev.dma_coherent ? dma_to_phys(dev, sg[i].dma_address) : checked_phys(dev, sg[i].dma_address);
    if (!dev.dma_coherent) {
      env.arch.arch_sync_dma_for_cpu(env.cpu(), paddr, sg[i].length, dir);
      if (perEntryFlush(env)) env.arch.arch_sync_dma_flush(env.cpu());
    }
    // swiotlb_bounce flushes first in batched mode, so the copy never reads a stale slot (v3 fix).
    if (is_swiotlb_buffer(env, paddr)) env.swiotlb!.swiotlb_sync_single_for_cpu(dev, paddr, sg[i].length, dir);
  }
  if (!dev.dma_coherent) {
    flushOnce(env, dev, nents > 0);
    env.arch.arch_sync_dma_for_cpu_all();
  }
}

// ---- queries (§2.5 - §2.6, §3.7) ----------------------------------------------------

/** dma_direct_get_required_mask: all-ones mask covering the DMA address of the last RAM page. */
export function dma_direct_get_required_mask(env: DirectEnv, dev: Device): bigint {
  const last = phys_to_dma(dev, env.ram_end - env.page_size);
  if (last === DMA_MAPPING_ERROR) return U64_MAX;
  const bits = last === 0n ? 0 : last.toString(2).length; // fls64
  return (1n << BigInt(bits)) - 1n;
}

/** dma_direct_supported: any mask of 32 bits or more; below, it must cover the ZONE_DMA limit (§2.6). */
export function dma_direct_supported(env: DirectEnv, dev: Device, mask: bigint): boolean {
  if (mask >= 0xffff_ffffn) return true;
  let min_mask = env.linux === '6.12' ? ((env.ram_end / env.page_size) - 1n) * env.page_size : env.ram_end - 1n;
  if (min_mask > env.zone_dma_limit) min_mask = env.zone_dma_limit; // CONFIG_ZONE_DMA
  return mask >= phys_to_dma(dev, min_mask);
}

/** dma_direct_all_ram_mapped: every RAM range is covered by dma_range_map (no map: all covered). */
export function dma_direct_all_ram_mapped(env: DirectEnv, dev: Device): boolean {
  if (!dev.dma_range_map) return true;
  for (const r of env.ram) {
    for (let p = r.base; p < r.base + r.size;) {
      const region = dev.dma_range_map.find((m) => p >= m.cpu_start && p - m.cpu_start < m.size);
      if (!region) return false;
      p = region.cpu_start + region.size;
    }
  }
  return true;
}

export function dma_direct_max_mapping_size(env: DirectEnv, dev: Device, addressing_limited: boolean): bigint {
  if (is_swiotlb_active(env) && (addressing_limited || is_swiotlb_force_bounce(env, dev))) return env.swiotlb!.swiotlb_max_mapping_size(dev);
  return SIZE_MAX;
}

/** dma_direct_need_sync: non-coherent, or the address is a bounce slot. */
export function dma_direct_need_sync(env: DirectEnv, dev: Device, dma_addr: bigint): boolean {
  return !dev.dma_coherent || is_swiotlb_buffer(env, dma_to_phys(dev, dma_addr));
}
