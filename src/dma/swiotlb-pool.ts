/**
 * The swiotlb slot allocator: pool geometry, areas, the slot search and release
 * (kernel/dma/swiotlb.c 6.12: swiotlb_init_io_tlb_pool, swiotlb_search_pool_area,
 * swiotlb_release_slots; include/linux/iommu-helper.h: iommu_is_span_boundary).
 * Like iova.c it knows nothing of devices: callers hand it the masks. dma-core.md §4.1, §4.2, §4.6.
 */

import { U64_MAX } from './types';

export const IO_TLB_SHIFT = 11;
export const IO_TLB_SIZE = 1 << IO_TLB_SHIFT;
/** Largest contiguous run in slots; a free run never crosses a 128-slot segment. */
export const IO_TLB_SEGSIZE = 128;
export const IO_TLB_DEFAULT_SIZE = 64n << 20n;
export const IO_TLB_MIN_SLABS = (1 << 20) >> IO_TLB_SHIFT;
/** orig_addr of a free or padding slot. */
export const INVALID_PHYS_ADDR = U64_MAX;
/** model: the pool is held in typed arrays; 2^21 slots (4 GiB) is far beyond any low-memory pool. */
export const SWIOTLB_MODEL_MAX_SLABS = 1 << 21;

const U32_MASK = 0xffffffffn;
const SHIFT_BIG = BigInt(IO_TLB_SHIFT);

/** nr_slots(): DIV_ROUND_UP(val, IO_TLB_SIZE) in u64 arithmetic (the addition may wrap, as in C). */
export const nr_slots = (val: bigint): bigint => ((val + BigInt(IO_TLB_SIZE - 1)) & U64_MAX) >> SHIFT_BIG;

/** io_tlb_offset(): position of a slot inside its segment. Also right for i = -1 (gives 127, as the kernel's unsigned wrap does). */
export const io_tlb_offset = (i: number): number => i & (IO_TLB_SEGSIZE - 1);

export const is_power_of_2 = (n: number): boolean => n > 0 && (n & (n - 1)) === 0;

export function roundup_pow_of_two(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/**
 * swiotlb_align_offset() - bytes of padding that keep the min_align_mask bits of @addr.
 * @min_align_mask: dma_get_min_align_mask(dev) (unsigned int)
 * @align_mask: allocation alignment mask (unsigned int)
 * @addr: original or bounce address
 * Returns addr & min_align_mask & (align_mask | (IO_TLB_SIZE - 1)). dma-core.md §4.2.
 */
export function swiotlb_align_offset(min_align_mask: number, align_mask: number, addr: bigint): number {
  const low = Number(addr & U32_MASK);
  return (low & min_align_mask & (align_mask | (IO_TLB_SIZE - 1))) >>> 0;
}

/** Pool geometry after the boot-time adjustments. */
export interface SwiotlbGeometry {
  readonly nslabs: number;
  readonly nareas: number;
}

/**
 * swiotlb_geometry() - setup_io_tlb_npages + swiotlb_adjust_nareas + round_up_default_nslabs + limit_nareas.
 * @size: requested bytes (swiotlb=<nslabs> with nslabs = size >> IO_TLB_SHIFT)
 * @nareas: requested area count (swiotlb=<nslabs>,<nareas>) or undefined for num_possible_cpus()
 * @ncpus: num_possible_cpus()
 * Returns the slot and area counts (dma-core.md §4.1).
 * model: size 0 means "no default pool" (the state swiotlb_init_remap leaves when it returns early,
 * e.g. swiotlb=noforce or no addressing limit); the kernel's swiotlb=0 would round up to 128*nareas.
 */
export function swiotlb_geometry(size: bigint, nareas: number | undefined, ncpus: number): SwiotlbGeometry {
  if (size <= 0n) return { nslabs: 0, nareas: 0 };
  if (size >> SHIFT_BIG > BigInt(SWIOTLB_MODEL_MAX_SLABS)) {
    throw new Error(`swiotlb: a pool of ${size} bytes exceeds the model limit of ${SWIOTLB_MODEL_MAX_SLABS} slots`);
  }
  // setup_io_tlb_npages: ALIGN to a segment so no tail segment is shorter than 128 slots.
  let nslabs = Number(size >> SHIFT_BIG);
  nslabs = Math.ceil(nslabs / IO_TLB_SEGSIZE) * IO_TLB_SEGSIZE;
  // swiotlb_adjust_nareas: 0 means 1, otherwise a power of two.
  const want = nareas ?? ncpus;
  const n = want <= 0 ? 1 : roundup_pow_of_two(want);
  // round_up_default_nslabs: at least one segment per area, and a power of two so areas are whole segments.
  if (nslabs < IO_TLB_SEGSIZE * n) nslabs = roundup_pow_of_two(IO_TLB_SEGSIZE * n);
  else if (!is_power_of_2(nslabs)) nslabs = roundup_pow_of_two(nslabs);
  if (nslabs > SWIOTLB_MODEL_MAX_SLABS) {
    throw new Error(`swiotlb: ${nslabs} slots after rounding exceed the model limit of ${SWIOTLB_MODEL_MAX_SLABS}`);
  }
  // limit_nareas: a no-op after the rounding above (the kernel needs it only when memblock halves the pool).
  return { nslabs, nareas: nslabs < n * IO_TLB_SEGSIZE ? Math.floor(nslabs / IO_TLB_SEGSIZE) : n };
}

/** What swiotlb_search_pool_area reads from the device and the request. */
export interface SlotRequest {
  /** Original buffer address; 0 disables the min_align_mask match (swiotlb_alloc). */
  readonly orig_addr: bigint;
  /** Total bytes including the leading alignment padding (size_t). */
  readonly alloc_size: bigint;
  /** unsigned int alloc_align_mask as passed to swiotlb_tbl_map_single. */
  readonly alloc_align_mask: number;
  /** dma_get_min_align_mask(dev), unsigned int. */
  readonly min_align_mask: number;
  /** dma_get_seg_boundary(dev). */
  readonly boundary_mask: bigint;
  /** phys_to_dma_unencrypted(dev, pool->start), before masking with boundary_mask. */
  readonly start_dma: bigint;
  readonly page_size: number;
}

/**
 * Read-only view of the pool for invariant checkers (INV-S1..S8). The arrays are the live state:
 * index them, never write them. Cheap: built once per pool.
 */
export interface SwiotlbView {
  readonly start: bigint;
  readonly end: bigint;
  readonly nslabs: number;
  readonly nareas: number;
  readonly area_nslabs: number;
  /** io_tlb_slot.list: free slots from i to the end of i's segment; 0 = allocated. */
  readonly list: ArrayLike<number>;
  /** io_tlb_slot.orig_addr; INVALID_PHYS_ADDR for free and padding slots. */
  readonly orig_addr: ArrayLike<bigint>;
  /** io_tlb_slot.alloc_size (size_t; the last slot of a mapping may hold a wrapped "negative" value). */
  readonly alloc_size: ArrayLike<bigint>;
  /** io_tlb_slot.pad_slots; non-zero only in the first non-padding slot of a live mapping. */
  readonly pad_slots: ArrayLike<number>;
  /** io_tlb_area.used per area (unsigned long in the kernel; negative here means it wrapped). */
  readonly area_used: ArrayLike<number>;
  /** io_tlb_area.index: next-fit cursor, relative to the area. */
  readonly area_index: ArrayLike<number>;
  /** io_tlb_mem.total_used (debugfs). */
  readonly total_used: number;
}

/**
 * struct io_tlb_pool: the slots and areas of one pool. model: no locks; the kernel takes each
 * area's spinlock around the search and the release.
 */
export class IoTlbPool {
  readonly end: bigint;
  readonly area_nslabs: number;
  private slots: { list: Uint16Array; orig_addr: BigUint64Array; alloc_size: BigUint64Array; pad_slots: Uint16Array } | null = null;
  /** model: Float64Array so a double free shows up as a negative count instead of 2^64-1. */
  readonly area_used: Float64Array;
  readonly area_index: Uint32Array;

  /** swiotlb_init_io_tlb_pool(): every slot free, every cursor 0 (dma-core.md §4.1). */
  constructor(readonly start: bigint, readonly nslabs: number, readonly nareas: number) {
    this.end = start + (BigInt(nslabs) << SHIFT_BIG);
    this.area_nslabs = nareas > 0 ? Math.floor(nslabs / nareas) : 0;
    this.area_used = new Float64Array(nareas);
    this.area_index = new Uint32Array(nareas);
  }

  /**
   * The per-slot arrays, made on first use: a fuzzer builds a machine per input and most never
   * bounce, and a 64 MiB pool's arrays are 640 KiB. Until then every slot reads as fresh.
   */
  private get s(): { list: Uint16Array; orig_addr: BigUint64Array; alloc_size: BigUint64Array; pad_slots: Uint16Array } {
    if (this.slots === null) {
      const n = this.nslabs;
      const list = new Uint16Array(n);
      for (let i = 0; i < n; i++) list[i] = Math.min(IO_TLB_SEGSIZE - io_tlb_offset(i), n - i);
      this.slots = { list, orig_addr: new BigUint64Array(n).fill(INVALID_PHYS_ADDR), alloc_size: new BigUint64Array(n), pad_slots: new Uint16Array(n) };
    }
    return this.slots;
  }

  /** io_tlb_slot.list per slot: the free run starting there within its segment, 0 when allocated. */
  get list(): Uint16Array {
    return this.s.list;
  }

  get orig_addr(): BigUint64Array {
    return this.s.orig_addr;
  }

  get alloc_size(): BigUint64Array {
    return this.s.alloc_size;
  }

  get pad_slots(): Uint16Array {
    return this.s.pad_slots;
  }

  private wrap_area_index(index: number): number {
    return index >= this.area_nslabs ? 0 : index;
  }

  /**
   * swiotlb_search_pool_area() - next-fit search of one area, and the allocation on success.
   * @area_index: which area (the caller picks cpu & (nareas - 1), then wraps)
   * @req: orig_addr, alloc_size, alloc_align_mask and the device's masks
   * Returns the first allocated slot (padding included), or -1 if the area has no suitable run.
   * Errors: throws "BUG:" when nslots is 0 (BUG_ON(!nslots)) or the boundary is not a power of two.
   * dma-core.md §4.2 steps 1-8.
   */
  swiotlb_search_pool_area(area_index: number, req: SlotRequest): number {
    const { list, area_nslabs } = this;
    const boundary_mask = req.boundary_mask;
    const tbl_dma_addr = req.start_dma & boundary_mask;
    const max_slots = (boundary_mask >> SHIFT_BIG) + 1n; // get_max_slots: cannot overflow, at most 2^53
    // nslots is an unsigned int in the kernel: a size of 2^43 bytes truncates to 0 and hits the BUG_ON.
    const nslots = Number(nr_slots(req.alloc_size) & U32_MASK);
    const offset = swiotlb_align_offset(req.min_align_mask, 0, req.orig_addr);
    if (nslots === 0) throw new Error(`BUG: swiotlb_search_pool_area: nslots == 0 (alloc_size ${req.alloc_size})`);
    if (area_index >= this.nareas) throw new Error(`BUG: swiotlb_search_pool_area: area ${area_index} >= nareas ${this.nareas}`);

    let iotlb_align_mask = req.min_align_mask >>> 0;
    let alloc_align_mask = req.alloc_align_mask >>> 0;
    // Legacy rule: streaming maps of at least a page stay page-aligned when nothing else is asked (§4.2 step 3).
    if (alloc_align_mask === 0 && iotlb_align_mask === 0 && req.alloc_size >= BigInt(req.page_size)) {
      alloc_align_mask = req.page_size - 1;
    }
    alloc_align_mask = (alloc_align_mask | (IO_TLB_SIZE - 1)) >>> 0;
    iotlb_align_mask = (iotlb_align_mask & ~alloc_align_mask) >>> 0;
    const stride = (Math.max(alloc_align_mask, iotlb_align_mask) >>> IO_TLB_SHIFT) + 1;

    // Fail fast (§4.2 step 6). area->used is unsigned long: a wrapped (negative) count never fails fast.
    const avail = area_nslabs - this.area_used[area_index]!;
    if (avail >= 0 && nslots > avail) return -1;

    // The alignment tests only see the low 32 bits (both masks are unsigned int).
    const tbl_low = Number(tbl_dma_addr & U32_MASK);
    const orig_low = Number(req.orig_addr & U32_MASK);
    const orig_match = (orig_low & iotlb_align_mask) >>> 0;
    const span = spanChecker(tbl_dma_addr, max_slots, nslots);

    const slot_base = area_index * area_nslabs;
    let index = this.area_index[area_index]!;
    for (let slots_checked = 0; slots_checked < area_nslabs; ) {
      const slot_index = slot_base + index;
      const t = tbl_low + slot_index * IO_TLB_SIZE;
      if ((t & alloc_align_mask) !== 0 || (req.orig_addr !== 0n && (t & iotlb_align_mask) >>> 0 !== orig_match)) {
        index = this.wrap_area_index(index + 1);
        slots_checked++;
        continue;
      }
      if (!span(slot_index) && list[slot_index]! >= nslots) {
        this.allocate(area_index, slot_index, index, nslots, req.alloc_size, offset);
        return slot_index;
      }
      index = this.wrap_area_index(index + stride);
      slots_checked += stride;
    }
    return -1;
  }

  /** The "found:" tail of swiotlb_search_pool_area (§4.2 step 8). */
  private allocate(area_index: number, slot_index: number, index: number, nslots: number, alloc_size: bigint, offset: number): void {
    const { list } = this;
    for (let i = slot_index; i < slot_index + nslots; i++) {
      list[i] = 0;
      // size_t arithmetic: for the last slot this may wrap below zero; swiotlb_bounce relies on the wrap.
      this.alloc_size[i] = (alloc_size - BigInt(offset + (i - slot_index) * IO_TLB_SIZE)) & U64_MAX;
    }
    // Free slots just before the run now end at slot_index: renumber them 1, 2, 3 ...
    let count = 0;
    for (let i = slot_index - 1; i >= 0 && io_tlb_offset(i) !== IO_TLB_SEGSIZE - 1 && list[i] !== 0; i--) list[i] = ++count;
    this.area_index[area_index] = this.wrap_area_index(index + nslots);
    this.area_used[area_index]! += nslots;
  }

  /**
   * swiotlb_release_slots() - return a mapping's slots to the free lists.
   * @tlb_addr: bounce address as returned by swiotlb_tbl_map_single
   * @min_align_mask: dma_get_min_align_mask(dev)
   * Returns the number of slots released (counted from alloc_size, never from the unmap size).
   * Errors: throws "BUG:" for the kernel's BUG_ON(aindex >= nareas) and, model:, for writes the
   * kernel would make outside the slot array. dma-core.md §4.6.
   */
  swiotlb_release_slots(tlb_addr: bigint, min_align_mask: number): number {
    const { list } = this;
    const offset = swiotlb_align_offset(min_align_mask, 0, tlb_addr);
    let index = Number((tlb_addr - BigInt(offset) - this.start) >> SHIFT_BIG);
    index -= this.pad_slots[index]!;
    if (index < 0) throw new Error(`BUG: swiotlb_release_slots: slot index ${index} below the pool (aindex >= nareas)`);
    // int nslots = nr_slots(alloc_size + offset), in size_t then truncated to int.
    const nslots = Number(BigInt.asIntN(32, nr_slots((this.alloc_size[index]! + BigInt(offset)) & U64_MAX)));
    const aindex = Math.floor(index / this.area_nslabs);
    if (aindex >= this.nareas) throw new Error(`BUG: swiotlb_release_slots: aindex ${aindex} >= nareas ${this.nareas}`);
    if (nslots < 0 || index + nslots > this.nslabs) {
      throw new Error(`BUG: swiotlb_release_slots: ${nslots} slots at ${index} run outside the pool (model: kernel would corrupt memory)`);
    }
    const seg_end = Math.ceil((index + 1) / IO_TLB_SEGSIZE) * IO_TLB_SEGSIZE;
    let count = index + nslots < seg_end ? list[index + nslots]! : 0;
    // Step 1: free the run, merging with the free slots after it.
    for (let i = index + nslots - 1; i >= index; i--) {
      list[i] = ++count;
      this.orig_addr[i] = INVALID_PHYS_ADDR;
      this.alloc_size[i] = 0n;
      this.pad_slots[i] = 0;
    }
    // Step 2: merge with the free slots before it, within the segment.
    for (let i = index - 1; i >= 0 && io_tlb_offset(i) !== IO_TLB_SEGSIZE - 1 && list[i] !== 0; i--) list[i] = ++count;
    this.area_used[aindex]! -= nslots;
    return nslots;
  }
}

/**
 * iommu_is_span_boundary(slot_index, nslots, nr_slots(tbl_dma_addr), max_slots) as a closure over the
 * per-search constants. max_slots can be 2^53 (boundary ULONG_MAX), so the modulo is done with numbers
 * only while that stays exact.
 */
function spanChecker(tbl_dma_addr: bigint, max_slots: bigint, nr: number): (slot_index: number) => boolean {
  const pow2 = (max_slots & (max_slots - 1n)) === 0n;
  const base = nr_slots(tbl_dma_addr) % max_slots;
  if (max_slots <= 1n << 32n) {
    const m = Number(max_slots);
    const b = Number(base);
    return (slot_index) => {
      if (!pow2) throw new Error(`BUG: iommu_is_span_boundary: boundary ${max_slots} slots is not a power of two`);
      return ((b + slot_index) % m) + nr > m;
    };
  }
  // Slot indices are below 2^21 here, so at most one boundary lies ahead: `gap` slots from the pool start.
  const m = Number(max_slots);
  const gap = Number(max_slots - base);
  return (slot_index) => {
    if (!pow2) throw new Error(`BUG: iommu_is_span_boundary: boundary ${max_slots} slots is not a power of two`);
    return slot_index < gap ? slot_index + nr > gap : slot_index - gap + nr > m;
  };
}
