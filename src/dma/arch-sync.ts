/**
 * The arch cache-maintenance hooks for non-coherent devices, with arm64 6.12
 * semantics (arch/arm64/mm/dma-mapping.c, cache.S; dma-core.md §5.2, §5.3) and
 * the batched issue/flush split of newest upstream (dma-core.md §5.5).
 *
 * Non-batched (6.12, and every arch without CONFIG_ARCH_HAS_BATCHED_DMA_SYNC):
 * each hook's maintenance is complete when it returns (it ends with its own DSB),
 * and arch_sync_dma_flush is the empty stub of dma-map-ops.h (BAT-3).
 * Batched (arm64, newest): the hooks only issue the *_nosync line operations,
 * which stay on a per-CPU pending list until arch_sync_dma_flush (the DSB)
 * completes them in issue order.
 * model: an issued operation is treated as not yet applied until its flush; the
 * hardware may complete it earlier, so this is the most pessimistic choice §5.5 allows.
 */
import type { CpuCache } from '../mem/cpu-cache';
import { validDirection, type DmaDirection } from './types';
import type { Faults } from '../faults';

export type MaintKind = 'clean' | 'invalidate';

/** One issued but incomplete cache operation over [start, end). */
export interface PendingMaintenance {
  readonly kind: MaintKind;
  readonly start: bigint;
  /** exclusive */
  readonly end: bigint;
}

export interface ArchSyncOptions {
  /** CONFIG_ARCH_HAS_BATCHED_DMA_SYNC: arm64 with linux 'newest' */
  batched: boolean;
  ncpus: number;
  /** planted faults (src/faults.ts); absent in unit tests */
  faults?: Faults;
}

/**
 * One arch event, kept for white-box checkers (VIS-5 reads which ranges were
 * maintained, BAT-4/BAT-5 when flushes and cpu_all ran). Reading never changes state.
 */
export interface ArchEvent {
  /** 1, 2, 3 ... in the order the events happened */
  readonly seq: number;
  readonly kind: MaintKind | 'flush' | 'cpu_all';
  /** the CPU; -1 for arch_sync_dma_for_cpu_all and arch_dma_prep_coherent */
  readonly cpu: number;
  /** the range maintained, [start, end); 0, 0 for flush and cpu_all */
  readonly start: bigint;
  readonly end: bigint;
  /** the operation went on a pending list (batched) instead of completing at once */
  readonly pending: boolean;
}

/** How many recent events are kept: far more than one op issues (an sg call issues one per entry). */
const EVENT_RING = 4096;

export interface ArchSyncStats {
  /** completed arch_sync_dma_flush calls (batched only; the stub is not counted) */
  flushes: number;
  /** clean operations issued, arch_dma_prep_coherent included */
  cleans: number;
  invalidates: number;
  /** arch_sync_dma_for_cpu_all calls */
  cpu_all: number;
}

/**
 * Arch DMA cache maintenance of one platform.
 * model: every hook takes the CPU it runs on; the kernel's hooks act on the
 * current CPU implicitly, and the batched DSB only waits for that CPU's operations.
 */
export class ArchDmaSync {
  readonly stats: ArchSyncStats = { flushes: 0, cleans: 0, invalidates: 0, cpu_all: 0 };
  private readonly queues: PendingMaintenance[][];
  /** model: a ring of the last EVENT_RING events, for checkers; the kernel keeps no such record. */
  private readonly ring: ArchEvent[] = [];
  private seq = 0;

  constructor(
    private readonly cache: CpuCache,
    private readonly opts: ArchSyncOptions,
  ) {
    if (!Number.isInteger(opts.ncpus) || opts.ncpus < 1) throw new Error(`BUG: ncpus ${opts.ncpus} must be a positive integer`);
    this.queues = Array.from({ length: opts.ncpus }, () => []);
  }

  /** CONFIG_ARCH_HAS_BATCHED_DMA_SYNC: whether arch_sync_dma_flush is real (§5.5). */
  get batched(): boolean {
    return this.opts.batched;
  }

  /**
   * arch_sync_dma_for_device - hand [@paddr, @paddr+@size) to the device: clean
   * (dcache_clean_poc) for every direction, so no dirty line can later be evicted
   * on top of device data (§5.2, VIS-1, VIS-2).
   * @cpu: the CPU running the hook; @dir: must be a valid direction.
   */
  arch_sync_dma_for_device(cpu: number, paddr: bigint, size: bigint, dir: DmaDirection): void {
    this.checkDir(dir);
    this.issue(cpu, 'clean', paddr, size);
  }

  /**
   * arch_sync_dma_for_cpu - hand the range back to the CPU. DMA_TO_DEVICE: the
   * device did not write, nothing to do. Otherwise dcache_inval_poc: stale
   * (speculative) copies are dropped; partly covered edge lines are cleaned and
   * invalidated (§5.2, VIS-2, VIS-3).
   */
  arch_sync_dma_for_cpu(cpu: number, paddr: bigint, size: bigint, dir: DmaDirection): void {
    this.checkDir(dir);
    if (dir === 'DMA_TO_DEVICE') return;
    this.issue(cpu, 'invalidate', paddr, size);
  }

  /**
   * arch_sync_dma_flush - wait for @cpu's issued maintenance (arm64: dsb(sy)).
   * An empty stub, not counted, unless batched (§5.5, BAT-3).
   */
  arch_sync_dma_flush(cpu: number): void {
    this.checkCpu(cpu);
    if (!this.opts.batched) return;
    this.stats.flushes++;
    this.record('flush', cpu, 0n, 0n, false);
    const ops = this.queues[cpu]!;
    // A fresh list, so arrays handed out by pending() stay as they were.
    this.queues[cpu] = [];
    for (const op of ops) this.apply(op);
  }

  /** arch_sync_dma_for_cpu_all - empty on arm64 (§5.2); counted so BAT-5 can be checked. */
  arch_sync_dma_for_cpu_all(): void {
    this.stats.cpu_all++;
    this.record('cpu_all', -1, 0n, 0n, false);
  }

  /**
   * arch_dma_prep_coherent - clean the pages of a coherent allocation before they
   * are remapped uncached. Always complete on return: it uses dcache_clean_poc,
   * not the _nosync form, in both 6.12 and newest.
   */
  arch_dma_prep_coherent(paddr: bigint, size: bigint): void {
    this.stats.cleans++;
    const op = this.span('clean', paddr, size);
    this.record('clean', -1, op.start, op.end, false);
    this.apply(op);
  }

  /** @cpu's issued but incomplete operations, oldest first (always empty when not batched). */
  pending(cpu: number): readonly PendingMaintenance[] {
    this.checkCpu(cpu);
    return this.queues[cpu]!;
  }

  /** Sequence number of the newest event (0 before any). */
  get event_seq(): number {
    return this.seq;
  }

  /**
   * Events after @seq, oldest first; null when some of them have already left
   * the ring (the caller cannot see everything that happened).
   */
  events_since(seq: number): readonly ArchEvent[] | null {
    if (this.seq - seq > this.ring.length) return null;
    const out: ArchEvent[] = [];
    for (let s = seq + 1; s <= this.seq; s++) out.push(this.ring[(s - 1) % EVENT_RING]!);
    return out;
  }

  private record(kind: ArchEvent['kind'], cpu: number, start: bigint, end: bigint, pending: boolean): void {
    const e: ArchEvent = { seq: ++this.seq, kind, cpu, start, end, pending };
    if (this.ring.length < EVENT_RING) this.ring.push(e);
    else this.ring[(e.seq - 1) % EVENT_RING] = e;
  }

  /** true if an issued-but-incomplete op of `kind` (any kind if omitted) on any CPU overlaps [start, end) */
  pendingOverlaps(start: bigint, end: bigint, kind?: MaintKind): boolean {
    // model: a scan of the pending lists; they hold at most one sg call's entries.
    for (const q of this.queues) {
      for (const op of q) {
        if ((kind === undefined || op.kind === kind) && op.start < end && start < op.end) return true;
      }
    }
    return false;
  }

  private issue(cpu: number, kind: MaintKind, paddr: bigint, size: bigint): void {
    this.checkCpu(cpu);
    if (kind === 'clean') this.stats.cleans++;
    else this.stats.invalidates++;
    const op = this.span(kind, paddr, size);
    this.record(kind, cpu, op.start, op.end, this.opts.batched);
    if (this.opts.batched) this.queues[cpu]!.push(op);
    else this.apply(op);
  }

  /**
   * The range the line loops of cache.S really touch. They run at least once, so a
   * zero size still hits the line holding @paddr: cleaned, or for an invalidate
   * discarded (DC IVAC) when @paddr is line-aligned and cleaned+invalidated
   * (DC CIVAC) when it is not. [paddr, paddr+1) is a partial line, hence the latter.
   */
  private span(kind: MaintKind, paddr: bigint, size: bigint): PendingMaintenance {
    if (paddr < 0n || size < 0n) throw new Error(`BUG: cache maintenance on 0x${paddr.toString(16)}+${size}`);
    if (size > 0n) return { kind, start: paddr, end: paddr + size };
    const ls = BigInt(this.cache.lineSize);
    const aligned = paddr % ls === 0n;
    return { kind, start: paddr, end: paddr + (kind === 'invalidate' && aligned ? ls : 1n) };
  }

  private apply(op: PendingMaintenance): void {
    const len = op.end - op.start;
    if (len > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error(`BUG: cache maintenance of ${len} bytes`);
    const ls = BigInt(this.cache.lineSize);
    if (op.kind === 'clean') {
      // Fault: the loop ends one line early when the range ends inside a line.
      const end = this.opts.faults?.has('arch-clean-skips-last-line') && op.end % ls !== 0n ? op.end - (op.end % ls) : op.end;
      if (end > op.start) this.cache.clean(op.start, Number(end - op.start));
    } else if (this.opts.faults?.has('arch-inval-discards-edges')) {
      // Fault: DC IVAC on the edge lines too, as if they were wholly inside.
      const start = op.start - (op.start % ls);
      const end = op.end % ls === 0n ? op.end : op.end + ls - (op.end % ls);
      this.cache.invalidate(start, Number(end - start));
    } else this.cache.invalidate(op.start, Number(len));
  }

  /** An invalid direction is a BUG_ON in every caller (dma-core.md §0.1). */
  private checkDir(dir: DmaDirection): void {
    if (!validDirection(dir)) throw new Error(`BUG: arch cache maintenance with invalid direction ${dir}`);
  }

  private checkCpu(cpu: number): void {
    if (!Number.isInteger(cpu) || cpu < 0 || cpu >= this.queues.length) throw new Error(`BUG: cpu ${cpu} out of range (ncpus ${this.queues.length})`);
  }
}
