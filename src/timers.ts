/**
 * Model time: there is no wall clock. Work is scheduled for a due time and
 * runs when `advance_time` moves the clock past it, in due order (ties in
 * scheduling order), so a sequence replays identically.
 * Used by the flush-queue timer and the IOVA depot trimming (iommu.md §2.9, §3.4).
 */
import BTree from 'sorted-btree';

type Key = readonly [number, number]; // [due_ms, seq]
const cmp = (a: Key, b: Key): number => a[0] - b[0] || a[1] - b[1];

export class Timers {
  private now = 0;
  private seq = 0;
  private readonly queue = new BTree<Key, () => void>(undefined, cmp);

  get now_ms(): number {
    return this.now;
  }

  get pending(): number {
    return this.queue.size;
  }

  /** schedule_delayed_work / mod_timer: run `work` once, `delay_ms` from now. */
  schedule(delay_ms: number, work: () => void): void {
    this.queue.set([this.now + Math.max(0, delay_ms), this.seq++], work);
  }

  /** Moves the clock forward by ms, running every piece of work that falls due, including work scheduled on the way. */
  advance(ms: number): number {
    const target = this.now + ms;
    let ran = 0;
    for (;;) {
      const first = this.queue.minKey();
      if (first === undefined || first[0] > target) break;
      const work = this.queue.get(first)!;
      this.queue.delete(first);
      this.now = first[0];
      work();
      ran++;
    }
    this.now = target;
    return ran;
  }
}
