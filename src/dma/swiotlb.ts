/**
 * swiotlb: bounce buffering through the default pool (kernel/dma/swiotlb.c 6.12, non-dynamic).
 * The slot allocator lives in swiotlb-pool.ts; this file holds struct io_tlb_mem, the map/unmap/sync
 * entry points, swiotlb_bounce and the kernel's warnings. dma-core.md §4.
 * dma-direct's swiotlb_map (capability check, arch sync) is not here: it belongs to direct.ts.
 */

import type { Device, DmaAttrs, DmaDirection } from './types';
import { DMA_MAPPING_ERROR, U64_MAX, hasAttr } from './types';
import type { WarnSink } from '../warn';
import type { Faults } from '../faults';
import {
  INVALID_PHYS_ADDR,
  IO_TLB_SEGSIZE,
  IO_TLB_SHIFT,
  IO_TLB_SIZE,
  IoTlbPool,
  nr_slots,
  swiotlb_align_offset,
  swiotlb_geometry,
} from './swiotlb-pool';
import type { SwiotlbView } from './swiotlb-pool';

export type { SwiotlbView } from './swiotlb-pool';
export { INVALID_PHYS_ADDR, IO_TLB_SEGSIZE, IO_TLB_SHIFT, IO_TLB_SIZE, IO_TLB_DEFAULT_SIZE, swiotlb_geometry } from './swiotlb-pool';

export interface SwiotlbConfig {
  /** requested bytes (boot option swiotlb=<nslabs> equivalent: nslabs = size/2048); 0 = no pool (model:) */
  size: bigint;
  /** default: roundup_pow_of_two(ncpus), then the kernel's adjustments */
  nareas?: number;
  /** swiotlb=force → force_bounce */
  force: boolean;
  /** physical start (the platform places it page-aligned below 4 GiB) */
  base: bigint;
  ncpus: number;
  /** 4096, 16384 or 65536 (PAGE_SHIFT matters for the page-alignment rule) */
  page_size: number;
}

/** What swiotlb needs from the rest of the platform (narrow, so it unit-tests with fakes). */
export interface SwiotlbEnv {
  /** a CPU memcpy (through the CPU cache model) */
  memcpy(dst: bigint, src: bigint, len: number): void;
  /** CONFIG_ARCH_HAS_BATCHED_DMA_SYNC in effect */
  batched: boolean;
  /** [U] flush before a FROM_DEVICE bounce on a non-coherent device (dma-core.md §4.5 step 6) */
  arch_sync_dma_flush(cpu: number): void;
  warn: WarnSink;
  /** current CPU (chooses the starting area) */
  cpu(): number;
  /** pool start in DMA space for the alignment/boundary test */
  phys_to_dma_unencrypted(dev: Device, phys: bigint): bigint;
  /** planted faults (src/faults.ts); absent in unit tests */
  faults?: Faults;
}

export interface SwiotlbStats {
  /** debugfs io_tlb_used (total_used) */
  total_used: number;
  /** debugfs io_tlb_used_hiwater */
  used_hiwater: number;
  /** successful swiotlb_tbl_map_single calls */
  maps: number;
  /** failed swiotlb_tbl_map_single calls (no pool, or no slots) */
  failures: number;
  /** swiotlb_bounce calls that copied (padding slots copy nothing and are not counted) */
  bounces: number;
}

/** Stable warning codes (STYLE.md: never renamed once used). */
export const WARN_SWIOTLB_UNAVAILABLE = 'WARN_SWIOTLB_UNAVAILABLE';
export const WARN_SWIOTLB_FULL = 'WARN_SWIOTLB_FULL';
export const WARN_SWIOTLB_ALLOC_ALIGN = 'WARN_SWIOTLB_ALLOC_ALIGN';
export const WARN_SWIOTLB_BUFFER_OVERFLOW = 'WARN_SWIOTLB_BUFFER_OVERFLOW';

const U32_MASK = 0xffffffffn;
const SHIFT_BIG = BigInt(IO_TLB_SHIFT);

/** dma_get_min_align_mask(): an unsigned int in dma_parms. */
const min_align_of = (dev: Device): number => Number(dev.min_align_mask & U32_MASK);
/** dma_get_seg_boundary(): 0 (no dma_parms value) means ULONG_MAX. */
const seg_boundary_of = (dev: Device): bigint => (dev.segment_boundary_mask === 0n ? U64_MAX : dev.segment_boundary_mask);
const hex = (v: bigint): string => `0x${v.toString(16)}`;

/**
 * struct io_tlb_mem with its one default pool (io_tlb_default_mem; model: it hangs off the Platform).
 * model: no CONFIG_SWIOTLB_DYNAMIC, no memory encryption (the "Memory encryption is active" notice
 * never fires), DEBUG_FS on (total_used/used_hiwater are exact), highmem copied in one memcpy.
 */
export class IoTlbMem {
  readonly start: bigint;
  readonly end: bigint;
  readonly nslabs: number;
  readonly nareas: number;
  readonly force_bounce: boolean;
  readonly view: SwiotlbView;
  private readonly pool: IoTlbPool;
  private readonly page_size: number;
  private readonly counters: SwiotlbStats = { total_used: 0, used_hiwater: 0, maps: 0, failures: 0, bounces: 0 };
  /** dev_WARN_ONCE state; model: once per io_tlb_mem (one boot) rather than once per kernel image. */
  private warned_alloc_align = false;
  private warned_overflow = false;

  /**
   * swiotlb_init_remap() for the default pool: geometry (dma-core.md §4.1), every slot free.
   * model: the pool memory is not zeroed here; the platform's RAM must read as zero there.
   */
  constructor(cfg: SwiotlbConfig, private readonly env: SwiotlbEnv) {
    const geo = swiotlb_geometry(cfg.size, cfg.nareas, cfg.ncpus);
    this.pool = new IoTlbPool(cfg.base, geo.nslabs, geo.nareas);
    this.start = this.pool.start;
    this.end = this.pool.end;
    this.nslabs = geo.nslabs;
    this.nareas = geo.nareas;
    this.force_bounce = cfg.force;
    this.page_size = cfg.page_size;
    const pool = this.pool;
    const counters = this.counters;
    this.view = {
      start: pool.start,
      end: pool.end,
      nslabs: pool.nslabs,
      nareas: pool.nareas,
      area_nslabs: pool.area_nslabs,
      // Getters: the pool makes its slot arrays on first use.
      get list() {
        return pool.list;
      },
      get orig_addr() {
        return pool.orig_addr;
      },
      get alloc_size() {
        return pool.alloc_size;
      },
      get pad_slots() {
        return pool.pad_slots;
      },
      area_used: pool.area_used,
      area_index: pool.area_index,
      get total_used() {
        return counters.total_used;
      },
    };
  }

  get stats(): Readonly<SwiotlbStats> {
    return this.counters;
  }

  /** swiotlb_find_pool() != NULL for the default pool: start <= phys < end. */
  is_swiotlb_buffer(phys: bigint): boolean {
    return phys >= this.start && phys < this.end;
  }

  /**
   * swiotlb_tbl_map_single() - allocate bounce slots for a buffer and fill them from it.
   * @dev: device that maps the buffer (min_align_mask, segment_boundary_mask, dma_skip_sync)
   * @orig: original physical address (orig_addr)
   * @mapping_size: bytes to bounce, without alignment padding
   * @alloc_align_mask: required alignment of the allocation (unsigned int; 0 for streaming maps)
   * @dir: unused by the kernel here: the copy on map is unconditional (CVE-2022-0854)
   * @attrs: DMA_ATTR_NO_WARN silences the "buffer is full" message
   * Returns the bounce (tlb) address; on success clears dev.dma_skip_sync (dma_reset_need_sync).
   * Errors: DMA_MAPPING_ERROR when there is no pool (WARN_SWIOTLB_UNAVAILABLE) or no slots
   * (WARN_SWIOTLB_FULL); throws "BUG:" when the request needs 0 slots. dma-core.md §4.3.
   */
  swiotlb_tbl_map_single(dev: Device, orig: bigint, mapping_size: bigint, alloc_align_mask: bigint, dir: DmaDirection, attrs: DmaAttrs): bigint {
    const warn = this.env.warn;
    if (this.nslabs === 0) {
      // model: dev_warn_ratelimited is not rate limited here (no wall clock).
      warn.warn('kernel', WARN_SWIOTLB_UNAVAILABLE, "Can not allocate SWIOTLB buffer earlier and can't now provide you with the DMA bounce buffer", dev.name);
      this.counters.failures++;
      return DMA_MAPPING_ERROR;
    }
    const align_mask = Number(alloc_align_mask & U32_MASK);
    if (align_mask > this.page_size - 1 && !this.warned_alloc_align) {
      this.warned_alloc_align = true;
      warn.warn('kernel', WARN_SWIOTLB_ALLOC_ALIGN, 'Alloc alignment may prevent fulfilling requests with max mapping_size', dev.name);
    }

    const min_align_mask = min_align_of(dev);
    let offset = swiotlb_align_offset(min_align_mask, align_mask, orig);
    const size = align_size((mapping_size + BigInt(offset)) & U64_MAX, align_mask);
    const found = this.swiotlb_find_slots(dev, orig, size, align_mask, min_align_mask);
    if (found < 0) {
      if (!hasAttr(attrs, 'DMA_ATTR_NO_WARN')) {
        const sz = BigInt.asIntN(64, size); // printed with %zd
        warn.warn('kernel', WARN_SWIOTLB_FULL, `swiotlb buffer is full (sz: ${sz} bytes), total ${this.nslabs} (slots), used ${this.counters.total_used} (slots)`, dev.name);
      }
      this.counters.failures++;
      return DMA_MAPPING_ERROR;
    }
    this.inc_used_and_hiwater(Number(nr_slots(size) & U32_MASK));

    // dma_reset_need_sync: bounced buffers always need their syncs.
    dev.dma_skip_sync = false;

    const pool = this.pool;
    const pad_slots = offset >>> IO_TLB_SHIFT;
    offset &= IO_TLB_SIZE - 1;
    const index = found + pad_slots;
    pool.pad_slots[index] = pad_slots;
    const n = Number(nr_slots(size)) - pad_slots;
    for (let i = 0; i < n; i++) pool.orig_addr[index + i] = (orig + (BigInt(i) << SHIFT_BIG)) & U64_MAX;
    const tlb_addr = this.start + (BigInt(index) << SHIFT_BIG) + BigInt(offset);
    this.counters.maps++;
    // Pre-fill whatever the direction, so bytes the device leaves alone round-trip unchanged (§4.3).
    const segEnd = this.env.faults?.has('swiotlb-prefill-stops-at-segment') && min_align_mask !== 0 && n > 1 && (index + n) % IO_TLB_SEGSIZE === 0;
    if (!this.env.faults?.has('swiotlb-skip-map-copy')) this.swiotlb_bounce(dev, tlb_addr, segEnd ? this.start + (BigInt(index + n - 1) << SHIFT_BIG) - tlb_addr : mapping_size, 'DMA_TO_DEVICE');
    return tlb_addr;
  }

  /**
   * swiotlb_tbl_unmap_single() - copy back (unless skipped) and release the slots.
   * @dev: mapping device
   * @tlb_addr: bounce address from swiotlb_tbl_map_single; outside the pool the call does nothing
   * @mapping_size: bytes to copy back (the slot count comes from alloc_size, not from this)
   * @dir: FROM_DEVICE and BIDIRECTIONAL copy bounce → orig
   * @attrs: DMA_ATTR_SKIP_CPU_SYNC suppresses the copy
   * dma-core.md §4.6.
   */
  swiotlb_tbl_unmap_single(dev: Device, tlb_addr: bigint, mapping_size: bigint, dir: DmaDirection, attrs: DmaAttrs): void {
    if (!this.is_swiotlb_buffer(tlb_addr)) return;
    if (!hasAttr(attrs, 'DMA_ATTR_SKIP_CPU_SYNC') && (dir === 'DMA_FROM_DEVICE' || dir === 'DMA_BIDIRECTIONAL')) {
      this.swiotlb_bounce(dev, tlb_addr, mapping_size, 'DMA_FROM_DEVICE');
    }
    const nslots = this.pool.swiotlb_release_slots(tlb_addr, min_align_of(dev));
    this.counters.total_used -= nslots; // dec_used
  }

  /**
   * swiotlb_sync_single_for_device() - hand the buffer to the device.
   * @tlb_addr: bounce address (or an address inside the mapping); outside the pool: no-op
   * @size: bytes to copy
   * @dir: TO_DEVICE/BIDIRECTIONAL copy orig → bounce; FROM_DEVICE does nothing
   * Errors: throws "BUG:" for any other direction (BUG_ON). dma-core.md §4.6.
   */
  swiotlb_sync_single_for_device(dev: Device, tlb_addr: bigint, size: bigint, dir: DmaDirection): void {
    if (!this.is_swiotlb_buffer(tlb_addr)) return;
    if (dir === 'DMA_TO_DEVICE' || dir === 'DMA_BIDIRECTIONAL') this.swiotlb_bounce(dev, tlb_addr, size, 'DMA_TO_DEVICE');
    else if (dir !== 'DMA_FROM_DEVICE') throw new Error(`BUG: __swiotlb_sync_single_for_device: invalid direction ${dir}`);
  }

  /**
   * swiotlb_sync_single_for_cpu() - hand the buffer back to the CPU.
   * @tlb_addr: bounce address (or an address inside the mapping); outside the pool: no-op
   * @size: bytes to copy
   * @dir: FROM_DEVICE/BIDIRECTIONAL copy bounce → orig; TO_DEVICE does nothing
   * Errors: throws "BUG:" for any other direction (BUG_ON). dma-core.md §4.6.
   */
  swiotlb_sync_single_for_cpu(dev: Device, tlb_addr: bigint, size: bigint, dir: DmaDirection): void {
    if (!this.is_swiotlb_buffer(tlb_addr)) return;
    if (dir === 'DMA_FROM_DEVICE' || dir === 'DMA_BIDIRECTIONAL') this.swiotlb_bounce(dev, tlb_addr, size, 'DMA_FROM_DEVICE');
    else if (dir !== 'DMA_TO_DEVICE') throw new Error(`BUG: __swiotlb_sync_single_for_cpu: invalid direction ${dir}`);
  }

  /**
   * swiotlb_max_mapping_size() - a conservative bound on what one map can take.
   * Returns IO_TLB_SIZE * IO_TLB_SEGSIZE minus min_align_mask rounded up to a slot (dma-core.md §4.6);
   * the kernel does the rounding in int, reproduced here.
   */
  swiotlb_max_mapping_size(dev: Device): bigint {
    const min_align_mask = min_align_of(dev) | 0;
    let min_align = 0;
    if (min_align_mask !== 0 && !this.env.faults?.has('swiotlb-max-ignores-min-align')) min_align = Math.trunc(((min_align_mask + IO_TLB_SIZE - 1) | 0) / IO_TLB_SIZE) * IO_TLB_SIZE;
    return (BigInt(IO_TLB_SIZE * IO_TLB_SEGSIZE) - BigInt(min_align)) & U64_MAX;
  }

  /** swiotlb_find_slots() (non-dynamic): start at area cpu & (nareas - 1), then wrap (§4.2). */
  private swiotlb_find_slots(dev: Device, orig: bigint, alloc_size: bigint, alloc_align_mask: number, min_align_mask: number): number {
    const pool = this.pool;
    const req = {
      orig_addr: orig,
      alloc_size,
      alloc_align_mask,
      min_align_mask: this.env.faults?.has('swiotlb-search-ignores-min-align') ? 0 : min_align_mask,
      boundary_mask: seg_boundary_of(dev),
      start_dma: this.env.phys_to_dma_unencrypted(dev, pool.start),
      page_size: this.page_size,
    };
    const start = this.env.cpu() & (pool.nareas - 1);
    let i = start;
    do {
      const index = pool.swiotlb_search_pool_area(i, req);
      if (index >= 0) return index;
      if (++i >= pool.nareas) i = 0;
    } while (i !== start);
    return -1;
  }

  private inc_used_and_hiwater(nslots: number): void {
    const c = this.counters;
    c.total_used += nslots;
    if (c.total_used > c.used_hiwater) c.used_hiwater = c.total_used;
  }

  /**
   * swiotlb_bounce() - copy between the original buffer and its bounce slots (dma-core.md §4.5).
   * tlb_offset may be negative for a sub-range starting inside a later slot; size_t wrap-around is
   * kept so the remaining-bytes test matches the kernel exactly.
   */
  private swiotlb_bounce(dev: Device, tlb_addr: bigint, size: bigint, dir: 'DMA_TO_DEVICE' | 'DMA_FROM_DEVICE'): void {
    const pool = this.pool;
    const index = Number((tlb_addr - pool.start) >> SHIFT_BIG);
    let orig_addr = pool.orig_addr[index]!;
    if (orig_addr === INVALID_PHYS_ADDR) return; // padding or free slot
    let alloc_size = pool.alloc_size[index]!;
    const tlb_offset = Number(tlb_addr & BigInt(IO_TLB_SIZE - 1)) - swiotlb_align_offset(min_align_of(dev), 0, orig_addr);
    orig_addr = (orig_addr + BigInt(tlb_offset)) & U64_MAX;
    alloc_size = (alloc_size - BigInt(tlb_offset)) & U64_MAX;
    if (size > alloc_size) {
      if (!this.warned_overflow) {
        this.warned_overflow = true;
        this.env.warn.warn('kernel', WARN_SWIOTLB_BUFFER_OVERFLOW, `Buffer overflow detected. Allocation size: ${alloc_size}. Mapping size: ${size}.`, dev.name);
      }
      size = alloc_size;
    }
    if (tlb_addr + size > this.end) {
      throw new Error(`BUG: swiotlb_bounce: ${size} bytes at ${hex(tlb_addr)} run past the pool end ${hex(this.end)} (model: kernel would corrupt memory)`);
    }
    const len = Number(size);
    this.counters.bounces++;
    if (dir === 'DMA_TO_DEVICE') {
      this.env.memcpy(tlb_addr, orig_addr, len);
    } else {
      // [U] batched sync: the invalidate of the bounce slot must complete before the CPU reads it (§5.5).
      if (this.env.batched && !dev.dma_coherent && !this.env.faults?.has('swiotlb-no-flush-before-bounce')) this.env.arch_sync_dma_flush(this.env.cpu());
      this.env.memcpy(orig_addr, tlb_addr, len);
    }
  }
}

/** ALIGN(x, alloc_align_mask + 1) with the kernel's types: the +1 is unsigned int, the ALIGN is size_t. */
function align_size(x: bigint, alloc_align_mask: number): bigint {
  const a = BigInt((alloc_align_mask + 1) >>> 0);
  const m = (a - 1n) & U64_MAX;
  return (x + m) & U64_MAX & ~m & U64_MAX;
}
