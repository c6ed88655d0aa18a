/**
 * DMA pools (mm/dmapool.c, 6.12): small fixed-size blocks carved out of coherent
 * allocations (dma-api.rst Part Ib; rules R4-R8, H13).
 *
 * 6.12 layout, reproduced so that the addresses are the kernel's for the same backend:
 *  - block size = ALIGN(max(size, 16), align), 16 being sizeof(struct dma_block);
 *  - each backing allocation is max(block size, PAGE_SIZE) bytes (not rounded to pages);
 *  - blocks are carved from offset 0 upwards, one block size apart; a block that
 *    would cross the next multiple of `boundary` is skipped and carving resumes at
 *    that boundary;
 *  - free blocks form one singly linked list across all pages, used as a stack: a
 *    new page's blocks go on the front in address order, dma_pool_free pushes on the
 *    front, dma_pool_alloc pops the front (LIFO).
 *
 * Misuse, as 6.12 handles it:
 *  - destroy with blocks in use: always "dma_pool_destroy <name> busy" (dev_err), and
 *    the backing pages are leaked, not freed (R8, H13);
 *  - free of an address outside the pool, or of a block already free: detected only
 *    with DMAPOOL_DEBUG, which dmapool.c defines under CONFIG_SLUB_DEBUG_ON (off in
 *    Debian's 6.12 config). Then dev_err from pool_block_err and the free is dropped.
 *    Without it nothing is checked: the block is pushed on the free list regardless
 *    (a double free hands the block out twice) and nr_active still drops.
 * model: no memory contents, so the debug poisoning (POOL_POISON_FREED/ALLOCATED)
 * and its "(corrupted)" check on alloc, and init_on_alloc/free zeroing, are not
 * modelled. No locking, no sysfs "pools" file, kzalloc/kmalloc never fail.
 */
import type { Device } from './types';
import type { WarnSink } from '../warn';

/** The coherent allocator under the pool: dma_alloc_coherent / dma_free_coherent for the pool's device. */
export interface DmaPoolBackend {
  alloc(size: bigint): { cpu_addr: bigint; dma_addr: bigint } | null;
  free(size: bigint, cpu_addr: bigint, dma_addr: bigint): void;
}

export interface DmaBlock {
  readonly cpu_addr: bigint;
  readonly dma_addr: bigint;
}

export interface DmaPoolOptions {
  /** DMAPOOL_DEBUG (CONFIG_SLUB_DEBUG_ON): check frees for bad addresses and double frees. */
  dmapool_debug?: boolean;
}

/** Read-only view for checkers. */
export interface DmaPoolView {
  readonly name: string;
  readonly size: bigint;
  readonly allocation: bigint;
  readonly boundary: bigint;
  readonly nr_blocks: number;
  /** model: a plain number; after a bad free it can go negative where the kernel's size_t wraps. */
  readonly nr_active: number;
  readonly nr_pages: number;
  /** Backing allocations, newest first (the kernel's page_list order). */
  readonly pages: readonly DmaBlock[];
  /** Free blocks, head (next to be handed out) first. */
  free_list(): DmaBlock[];
}

const DMA_BLOCK_SIZE = 16n; // sizeof(struct dma_block) on 64-bit
const INT_MAX = 0x7fff_ffffn;
const U32_MAX = 0xffff_ffffn;
const hex = (x: bigint): string => `0x${x.toString(16)}`;
const is_pow2 = (x: bigint): boolean => (x & (x - 1n)) === 0n;

export class DmaPool {
  private readonly page_list: DmaBlock[] = []; // newest first
  /** The free list as a stack: the head is the last element. */
  private readonly free_stack: DmaBlock[] = [];
  /** How often each vaddr is on the free list, so the debug double-free test is O(1). */
  private readonly free_count = new Map<bigint, number>();
  private nr_blocks = 0;
  private nr_active = 0;
  private destroyed = false;
  readonly view: DmaPoolView;

  private constructor(
    readonly name: string,
    readonly dev: Device,
    /** pool->size, pool->allocation and pool->boundary are unsigned int in 6.12. */
    readonly size: bigint,
    readonly allocation: bigint,
    readonly boundary: bigint,
    private readonly backend: DmaPoolBackend,
    private readonly warn: WarnSink,
    private readonly debug: boolean,
  ) {
    const self = this;
    this.view = {
      name, size, allocation, boundary,
      get nr_blocks() { return self.nr_blocks; },
      get nr_active() { return self.nr_active; },
      get nr_pages() { return self.page_list.length; },
      pages: this.page_list,
      free_list: () => [...self.free_stack].reverse(),
    };
  }

  /**
   * dma_pool_create - make a pool of @size-byte blocks for @dev.
   * @name: for diagnostics; truncated to 31 characters like strscpy into name[32]
   * @dev: the device the blocks are for
   * @size: block size in bytes
   * @align: block alignment, a power of two; 0 means 1 (R5)
   * @boundary: no block crosses a multiple of this power of two; 0 means no
   *   restriction beyond the backing allocation (R5)
   * @page_size: PAGE_SIZE, the smallest backing allocation
   * @backend: dma_alloc_coherent / dma_free_coherent for @dev
   * @warn: where dev_err findings go
   *
   * Returns null, as 6.12 does, when @align is not a power of two, @size is 0 or
   * above INT_MAX, or @boundary (when nonzero) is below the aligned block size or
   * not a power of two. The checks run in that order, and the boundary test uses
   * the block size after the 16-byte minimum and the alignment are applied.
   */
  static create(name: string, dev: Device, size: bigint, align: bigint, boundary: bigint, page_size: number,
    backend: DmaPoolBackend, warn: WarnSink, opts: DmaPoolOptions = {}): DmaPool | null {
    if (align === 0n) align = 1n;
    else if (!is_pow2(align)) return null;
    if (size === 0n || size > INT_MAX) return null;
    if (size < DMA_BLOCK_SIZE) size = DMA_BLOCK_SIZE;
    size = ((size + align - 1n) / align) * align;
    const allocation = size > BigInt(page_size) ? size : BigInt(page_size);
    if (boundary === 0n) boundary = allocation;
    else if (boundary < size || !is_pow2(boundary)) return null;
    if (boundary > allocation) boundary = allocation;
    // The kernel stores the three as unsigned int: an align of 4 GiB or more makes
    // them 0, and the first alloc then asks the backend for 0 bytes, which fails.
    return new DmaPool(name.slice(0, 31), dev, size & U32_MAX, allocation & U32_MAX, boundary & U32_MAX,
      backend, warn, opts.dmapool_debug ?? false);
  }

  private check_live(op: string): void {
    if (this.destroyed) throw new Error(`BUG: ${op} on pool ${this.name} after dma_pool_destroy`);
  }

  /** pool_initialise_page: carve a new backing allocation and put its blocks on the front. */
  private pool_initialise_page(page: DmaBlock): void {
    // Only an align of 4 GiB or more truncates size to 0; the kernel would then spin
    // here forever, if the backend ever returned memory for a 0-byte request.
    if (this.size === 0n) throw new Error(`BUG: dma_pool ${this.name}: zero block size would never finish carving`);
    const blocks: DmaBlock[] = [];
    let offset = 0n;
    let next_boundary = this.boundary;
    while (offset + this.size <= this.allocation) {
      if (offset + this.size > next_boundary) {
        offset = next_boundary;
        next_boundary += this.boundary;
        continue;
      }
      blocks.push({ cpu_addr: page.cpu_addr + offset, dma_addr: page.dma_addr + offset });
      offset += this.size;
    }
    this.nr_blocks += blocks.length;
    for (let i = blocks.length - 1; i >= 0; i--) this.push(blocks[i]!);
    this.page_list.unshift(page);
  }

  /**
   * dma_pool_alloc - take a block.
   *
   * Returns the block at the head of the free list; when the list is empty, first
   * allocates a new backing allocation of `allocation` bytes from the backend.
   * Returns null when the backend fails (the kernel's NULL).
   */
  alloc(): DmaBlock | null {
    this.check_live('dma_pool_alloc');
    if (this.free_stack.length === 0) {
      const page = this.backend.alloc(this.allocation);
      if (page === null) return null;
      this.pool_initialise_page(page);
    }
    this.nr_active++;
    const block = this.free_stack.pop()!;
    const n = this.free_count.get(block.cpu_addr)!;
    if (n === 1) this.free_count.delete(block.cpu_addr);
    else this.free_count.set(block.cpu_addr, n - 1);
    return block;
  }

  /** pool_block_push */
  private push(block: DmaBlock): void {
    this.free_stack.push(block);
    this.free_count.set(block.cpu_addr, (this.free_count.get(block.cpu_addr) ?? 0) + 1);
  }

  /** pool_find_page (DMAPOOL_DEBUG only): the backing allocation holding @dma, newest first. */
  private pool_find_page(dma: bigint): DmaBlock | undefined {
    return this.page_list.find((p) => dma >= p.dma_addr && dma - p.dma_addr < this.allocation);
  }

  /**
   * dma_pool_free - give a block back (R7; may run in interrupt context, H13).
   * @cpu_addr: the vaddr dma_pool_alloc returned
   * @dma_addr: its DMA address; the kernel stores this value in the block, so a
   *   mismatched pair is handed out again as freed
   *
   * With DMAPOOL_DEBUG: DMAPOOL_FREE_BAD_ADDRESS when @dma_addr is in none of the
   * pool's allocations, DMAPOOL_DOUBLE_FREE when @cpu_addr is already on the free
   * list; the free is then dropped. Without it, no check (see the file header).
   */
  free(cpu_addr: bigint, dma_addr: bigint): void {
    this.check_live('dma_pool_free');
    if (this.debug) {
      if (this.pool_find_page(dma_addr) === undefined) {
        this.warn.warn('kernel', 'DMAPOOL_FREE_BAD_ADDRESS',
          `pool_block_err ${this.name}, ${hex(cpu_addr)}/${hex(dma_addr)} (bad dma)`, this.dev.name);
        return;
      }
      // The kernel walks the free list comparing the vaddr only.
      if (this.free_count.has(cpu_addr)) {
        this.warn.warn('kernel', 'DMAPOOL_DOUBLE_FREE',
          `pool_block_err ${this.name}, dma ${hex(dma_addr)} already free`, this.dev.name);
        return;
      }
    }
    this.push({ cpu_addr, dma_addr });
    this.nr_active--;
  }

  /**
   * dma_pool_destroy - free the pool and, when no block is in use, its backing
   * allocations (newest first, as the kernel walks page_list).
   *
   * With blocks still in use (R8, H13): DMAPOOL_DESTROY_BUSY, and the backing
   * allocations are leaked rather than freed under the driver's feet.
   */
  destroy(): void {
    this.check_live('dma_pool_destroy');
    this.destroyed = true;
    const busy = this.nr_active !== 0;
    if (busy) this.warn.warn('kernel', 'DMAPOOL_DESTROY_BUSY', `dma_pool_destroy ${this.name} busy`, this.dev.name);
    for (const page of this.page_list) if (!busy) this.backend.free(this.allocation, page.cpu_addr, page.dma_addr);
    this.page_list.length = 0;
    this.free_stack.length = 0;
    this.free_count.clear();
  }
}
