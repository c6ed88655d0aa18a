/**
 * The flush queue of a lazy (DMA_FQ) domain (drivers/iommu/dma-iommu.c:
 * queue_iova, fq_ring_free_locked, fq_flush_iotlb, fq_flush_timeout;
 * iommu.md §3.4). Unmapped IOVAs wait here until a full IOTLB flush has
 * completed, so stale translations can never point at a reused IOVA (I-D5).
 */
import type { Faults } from '../faults';

export const IOVA_DEFAULT_FQ_SIZE = 256;
export const IOVA_DEFAULT_FQ_TIMEOUT = 10;
export const IOVA_SINGLE_FQ_SIZE = 32768;
export const IOVA_SINGLE_FQ_TIMEOUT = 1000;

export type FqKind = 'percpu' | 'single';

export interface FqEntry {
  readonly iova_pfn: bigint;
  readonly pages: bigint;
  readonly counter: bigint;
}

/** struct iova_fq: a ring; full when (tail + 1) mod size == head, so it holds size - 1 entries. */
class IovaFq {
  readonly entries: (FqEntry | undefined)[];
  head = 0;
  tail = 0;

  constructor(readonly size: number) {
    this.entries = new Array<FqEntry | undefined>(size);
  }

  get full(): boolean {
    return (this.tail + 1) % this.size === this.head;
  }

  get length(): number {
    return (this.tail - this.head + this.size) % this.size;
  }

  *live(): Iterable<FqEntry> {
    for (let i = this.head; i !== this.tail; i = (i + 1) % this.size) yield this.entries[i]!;
  }
}

export interface FlushQueueDeps {
  /** schedule_delayed timer (model time). */
  schedule(delay_ms: number, work: () => void): void;
  /** The domain's flush_iotlb_all. */
  flush_iotlb_all(): void;
  /** free_iova_fast on the CPU the retiring code runs on. */
  free_iova_fast(cpu: number, pfn: bigint, pages: bigint): void;
  /** Planted faults (src/faults.ts); absent in unit tests. */
  readonly faults?: Faults;
}

export interface FlushQueueStats {
  queued: number;
  retired: number;
  /** fq_flush_iotlb calls because a ring was full. */
  full_flushes: number;
  timer_flushes: number;
}

export class FlushQueue {
  private readonly rings: IovaFq[];
  private fq_flush_start_cnt = 0n;
  private fq_flush_finish_cnt = 0n;
  private fq_timer_on = false;
  readonly stats: FlushQueueStats = { queued: 0, retired: 0, full_flushes: 0, timer_flushes: 0 };
  readonly size: number;
  readonly timeout_ms: number;

  constructor(readonly kind: FqKind, ncpus: number, private readonly deps: FlushQueueDeps) {
    this.size = kind === 'single' ? IOVA_SINGLE_FQ_SIZE : IOVA_DEFAULT_FQ_SIZE;
    this.timeout_ms = kind === 'single' ? IOVA_SINGLE_FQ_TIMEOUT : IOVA_DEFAULT_FQ_TIMEOUT;
    this.rings = Array.from({ length: kind === 'single' ? 1 : ncpus }, () => new IovaFq(this.size));
  }

  get flush_start_cnt(): bigint {
    return this.fq_flush_start_cnt;
  }

  get flush_finish_cnt(): bigint {
    return this.fq_flush_finish_cnt;
  }

  get timer_armed(): boolean {
    return this.fq_timer_on;
  }

  /** Every entry still waiting, for checkers (I-D5, I-D6). */
  *pending(): Iterable<FqEntry & { ring: number }> {
    for (let r = 0; r < this.rings.length; r++) for (const e of this.rings[r].live()) yield { ...e, ring: r };
  }

  ringLength(ring: number): number {
    return this.rings[ring].length;
  }

  /** The @i-th waiting entry of @ring counted from its head (checkers read the tail as i = length - 1). O(1). */
  entry(ring: number, i: number): FqEntry | undefined {
    const fq = this.rings[ring];
    return fq && i >= 0 && i < fq.length ? fq.entries[(fq.head + i) % fq.size] : undefined;
  }

  private ring(cpu: number): IovaFq {
    return this.kind === 'single' ? this.rings[0] : this.rings[cpu];
  }

  /** fq_ring_free_locked: retire, from the head, every entry a completed flush covers. */
  private fq_ring_free(cpu: number, fq: IovaFq): void {
    while (fq.head !== fq.tail) {
      const e = fq.entries[fq.head]!;
      if (e.counter >= this.fq_flush_finish_cnt && !this.deps.faults?.has('fq-retire-before-flush')) break;
      fq.entries[fq.head] = undefined;
      fq.head = (fq.head + 1) % fq.size;
      this.stats.retired++;
      this.deps.free_iova_fast(cpu, e.iova_pfn, e.pages);
    }
  }

  /** fq_flush_iotlb: start, invalidate the whole IOTLB, finish. */
  private fq_flush_iotlb(skipInvalidate = false): void {
    this.fq_flush_start_cnt++;
    if (!this.deps.faults?.has('lazy-unmap-no-invalidate') && !skipInvalidate) this.deps.flush_iotlb_all();
    this.fq_flush_finish_cnt++;
  }

  /**
   * queue_iova: retire what is already flushed, flush if the ring is full,
   * append with the current start count, and arm the timer if it is not armed.
   * model: the timer fires on the CPU that armed it.
   */
  queue_iova(cpu: number, pfn: bigint, pages: bigint): void {
    const fq = this.ring(cpu);
    this.fq_ring_free(cpu, fq);
    if (fq.full && !this.deps.faults?.has('fq-no-flush-when-full')) {
      this.stats.full_flushes++;
      this.fq_flush_iotlb(fq.head !== 0 && this.deps.faults?.has('fq-wrapped-full-flush-skips-invalidate'));
      this.fq_ring_free(cpu, fq);
    }
    fq.entries[fq.tail] = { iova_pfn: pfn, pages, counter: this.fq_flush_start_cnt };
    fq.tail = (fq.tail + 1) % fq.size;
    this.stats.queued++;
    if (!this.fq_timer_on) {
      this.fq_timer_on = true;
      this.deps.schedule(this.timeout_ms, () => this.fq_flush_timeout(cpu));
    }
  }

  /** fq_flush_timeout: disarm, flush, then retire on every ring. */
  private fq_flush_timeout(cpu: number): void {
    if (!this.deps.faults?.has('fq-timer-not-rearmed')) this.fq_timer_on = false;
    this.stats.timer_flushes++;
    this.fq_flush_iotlb();
    for (const fq of this.rings) this.fq_ring_free(cpu, fq);
  }
}
