/**
 * One coherent CPU data cache over PhysMem: the reference-model semantics of
 * dma-core.md §5.4. Each line of `lineSize` bytes is Invalid (absent), Clean or
 * Dirty and carries its own copy of the data. The spontaneous events of §5.4
 * (evict, speculate) are methods the fuzzer calls; the cache never does them by itself.
 *
 * Lines are grouped by 4 KiB page (key `addr >> 12`, exact as a number) so that
 * every per-line step is number arithmetic; a page's line data lives in one buffer.
 */
import BTree from 'sorted-btree';
import type { PhysMem } from './phys-mem';
import { SweepingMap } from '../sweeping-map';

export type LineState = 'invalid' | 'clean' | 'dirty';

/** A present line, as the invariant checkers see it. `data` is a live view: read it before the next operation. */
export interface CacheLineView {
  readonly addr: bigint;
  readonly dirty: boolean;
  readonly data: Uint8Array;
}

/** fills: from memory (CPU miss, speculation); writebacks: Dirty lines to memory; discards: Dirty lines dropped unwritten. */
export interface CpuCacheCounters {
  fills: number;
  writebacks: number;
  discards: number;
}

const PAGE_SHIFT = 12;
const PAGE_SIZE = 1 << PAGE_SHIFT;
const PAGE_MASK = BigInt(PAGE_SIZE - 1);
const ADDR_LIMIT = 1n << 64n;
const INVALID = 0;
const CLEAN = 1;
const DIRTY = 2;
const STATE_NAMES: readonly LineState[] = ['invalid', 'clean', 'dirty'];

interface LinePage {
  readonly data: Uint8Array;
  readonly state: Uint8Array;
  present: number;
}

/** Visits one present line: its page, page number and index, the covered bytes [from, to) of the line, and pos, where `from` sits in the caller's buffer. */
type PresentFn = (p: LinePage, pageNo: number, li: number, from: number, to: number, pos: number) => void;
/** Visits the bytes [off, end) of one page, at pos in the caller's buffer. */
type ChunkFn = (pageNo: number, off: number, end: number, pos: number) => void;

const cmpBigint = (a: bigint, b: bigint): number => (a < b ? -1 : a > b ? 1 : 0);

/** The CPU data cache of one platform; see the file header. */
export class CpuCache {
  readonly lineSize: number;
  readonly counters: CpuCacheCounters = { fills: 0, writebacks: 0, discards: 0 };
  private readonly lineShift: number;
  private readonly pages = new SweepingMap<number, LinePage>();
  /** One emptied page kept for reuse, so evict/fill churn does not allocate. */
  private spare: LinePage | undefined;
  /**
   * model: while every device is coherent the cache is invisible (coherent
   * devices snoop it), so lines are not tracked and CPU accesses go straight to
   * memory — a state a real cache may always be in, since it may write back and
   * drop any line at any time. The platform turns tracking on for good when the
   * first non-coherent device appears.
   */
  private tracking = true;
  /** Uncached ranges: start -> end (exclusive), non-overlapping. */
  private readonly uncached = new BTree<bigint, bigint>(undefined, cmpBigint);

  constructor(
    private readonly mem: PhysMem,
    lineSize: number,
  ) {
    if (!Number.isInteger(lineSize) || lineSize < 1 || lineSize > PAGE_SIZE || (lineSize & (lineSize - 1)) !== 0) {
      throw new Error(`BUG: cache line size ${lineSize} is not a power of two <= ${PAGE_SIZE}`);
    }
    this.lineSize = lineSize;
    this.lineShift = Math.log2(lineSize);
  }

  /** Starts tracking lines (see `tracking`); there is no way back. */
  startTracking(): void {
    this.tracking = true;
  }

  /** Stops tracking lines; only valid while no line is present (a fresh cache). */
  transparent(): void {
    if (this.pages.size !== 0) throw new Error('BUG: the cache can turn transparent only while empty');
    this.tracking = false;
  }

  get isTracking(): boolean {
    return this.tracking;
  }

  /** CPU load: Invalid lines are filled and become Clean; uncached ranges read memory. */
  read(addr: bigint, len: number): Uint8Array {
    const out = new Uint8Array(len);
    const direct = (a: bigint, pos: number, n: number): void => this.mem.readInto(a, out.subarray(pos, pos + n));
    this.cpuAccess(addr, len, direct, (pageNo, off, end, pos) => {
      const p = this.fillRange(pageNo, off, end, false);
      out.set(p.data.subarray(off, end), pos);
    });
    return out;
  }

  /**
   * What a CPU load of the range would return, without filling any line: for
   * invariant checkers, which must never change state (a fill would).
   */
  peek(addr: bigint, len: number): Uint8Array {
    const out = this.mem.read(addr, len);
    if (!this.tracking || this.pages.size === 0) return out;
    this.cpuAccess(addr, len, () => {}, undefined, (p, _pageNo, li, from, to, pos) => {
      const base = li << this.lineShift;
      out.set(p.data.subarray(base + from, base + to), pos);
    });
    return out;
  }

  /** CPU store: write-allocate, the line becomes Dirty; uncached ranges write memory. */
  write(addr: bigint, data: Uint8Array): void {
    const direct = (a: bigint, pos: number, n: number): void => this.mem.write(a, data.subarray(pos, pos + n));
    this.cpuAccess(addr, data.length, direct, (pageNo, off, end, pos) => {
      const p = this.fillRange(pageNo, off, end, true);
      p.data.set(data.subarray(pos, pos + (end - off)), off);
      p.state.fill(DIRTY, off >> this.lineShift, ((end - 1) >> this.lineShift) + 1);
    });
  }

  /** A CPU memcpy (loads, then stores, through the cache), as swiotlb_bounce does (§4.5). */
  memcpy(dst: bigint, src: bigint, len: number): void {
    this.write(dst, this.read(src, len));
  }

  /** Spontaneous fill (§5.4) of every Invalid line of normal memory overlapping the range; present lines are untouched. */
  speculate(addr: bigint, len: number): void {
    const end = addr + BigInt(len);
    // Only RAM outside uncached ranges is normal cacheable memory.
    for (const r of this.mem.ram) {
      const lo = addr > r.base ? addr : r.base;
      const rEnd = r.base + r.size;
      const hi = end < rEnd ? end : rEnd;
      if (lo >= hi) continue;
      this.cpuAccess(lo, Number(hi - lo), () => {}, (pageNo, off, end) => void this.fillRange(pageNo, off, end, false));
    }
  }

  /** Spontaneous eviction (§5.4): Dirty lines are written back, then every overlapping line is dropped. */
  evict(addr: bigint, len: number): void {
    this.walkPresent(addr, len, 0, (p, pageNo, li) => {
      if (p.state[li] === DIRTY) this.writeback(p, pageNo, li);
      this.drop(p, pageNo, li);
    });
  }

  /** dcache_clean_poc: every Dirty line overlapping the range is written back and stays valid (Clean). */
  clean(addr: bigint, len: number): void {
    this.walkPresent(addr, len, 0, (p, pageNo, li) => {
      if (p.state[li] === DIRTY) this.writeback(p, pageNo, li);
    });
  }

  /**
   * dcache_inval_poc: lines wholly inside the range are dropped and Dirty data is
   * discarded (DC IVAC); a partly covered first or last line is cleaned first (DC CIVAC),
   * so CPU-dirty bytes sharing that line survive (§5.2).
   */
  invalidate(addr: bigint, len: number): void {
    this.walkPresent(addr, len, 0, (p, pageNo, li, from, to) => {
      if (p.state[li] === DIRTY) {
        if (from === 0 && to === this.lineSize) this.counters.discards++;
        else this.writeback(p, pageNo, li);
      }
      this.drop(p, pageNo, li);
    });
  }

  /** Device read: non-coherent sees memory only; coherent snoops, so Dirty lines' bytes win (§5.4). */
  deviceRead(addr: bigint, len: number, coherent: boolean): Uint8Array {
    const out = this.mem.read(addr, len);
    if (!coherent || this.pages.size === 0) return out;
    this.walkPresent(addr, len, 0, (p, _pageNo, li, from, to, pos) => {
      if (p.state[li] !== DIRTY) return;
      const base = li << this.lineShift;
      out.set(p.data.subarray(base + from, base + to), pos);
    });
    return out;
  }

  /** Device write: memory always; a coherent device also updates present lines in place, keeping their state (§5.4). */
  deviceWrite(addr: bigint, data: Uint8Array, coherent: boolean): void {
    this.mem.write(addr, data);
    if (!coherent || this.pages.size === 0) return;
    this.walkPresent(addr, data.length, 0, (p, _pageNo, li, from, to, pos) => {
      p.data.set(data.subarray(pos, pos + (to - from)), (li << this.lineShift) + from);
    });
  }

  /**
   * Marks [addr, addr+len) as mapped uncached by the CPU (a coherent allocation for
   * a non-coherent device), or clears it. Idempotent per exact range. Lines already
   * present stay: the cacheable linear alias keeps them, which is why
   * arch_dma_prep_coherent cleans first (§5.2).
   */
  setUncached(addr: bigint, len: bigint, on: boolean): void {
    const end = addr + len;
    if (len <= 0n || addr < 0n || end > ADDR_LIMIT) throw new Error(`BUG: bad uncached range 0x${addr.toString(16)}+0x${len.toString(16)}`);
    const cur = this.uncached.get(addr);
    if (cur !== undefined && cur !== end) throw new Error(`BUG: uncached range at 0x${addr.toString(16)} has another size`);
    if (!on) {
      if (cur !== undefined) this.uncached.delete(addr);
      return;
    }
    if (cur !== undefined) return;
    const below = this.uncached.getPairOrNextLower(addr);
    const above = this.uncached.nextHigherKey(addr);
    if ((below !== undefined && below[1] > addr) || (above !== undefined && above < end)) {
      throw new Error(`BUG: uncached range 0x${addr.toString(16)}+0x${len.toString(16)} overlaps another`);
    }
    this.uncached.set(addr, end);
  }

  /** Whether the CPU accesses addr uncached. */
  isUncached(addr: bigint): boolean {
    return this.uncachedRun(addr, 1) > 0;
  }

  lineState(addr: bigint): LineState {
    const p = this.pages.get(Number(addr >> BigInt(PAGE_SHIFT)));
    return p === undefined ? 'invalid' : STATE_NAMES[p.state[Number(addr & PAGE_MASK) >> this.lineShift]!]!;
  }

  /** Present lines in address order, read-only, for invariant checkers. */
  *lines(): Iterable<CacheLineView> {
    const keys = [...this.pages.keys()].sort((a, b) => a - b);
    for (const pageNo of keys) {
      const p = this.pages.get(pageNo)!;
      for (let li = 0; li < p.state.length; li++) {
        if (p.state[li] === INVALID) continue;
        const base = li << this.lineShift;
        yield { addr: this.lineAddr(pageNo, li), dirty: p.state[li] === DIRTY, data: p.data.subarray(base, base + this.lineSize) };
      }
    }
  }

  /**
   * Splits a CPU access into uncached runs (memory) and cached runs, visited page by page
   * (perChunk) or present line by present line (perPresent, when perChunk is undefined).
   */
  private cpuAccess(addr: bigint, len: number, direct: (a: bigint, pos: number, n: number) => void, perChunk: ChunkFn | undefined, perPresent?: PresentFn): void {
    if (!this.tracking) return direct(addr, 0, len);
    const cached = (a: bigint, n: number, pos: number): void => (perChunk ? this.walkChunks(a, n, pos, perChunk) : this.walkPresent(a, n, pos, perPresent!));
    if (this.uncached.size === 0) return cached(addr, len, 0);
    for (let pos = 0; pos < len; ) {
      const a = addr + BigInt(pos);
      let n = this.uncachedRun(a, len - pos);
      if (n > 0) direct(a, pos, n);
      else {
        const next = this.uncached.nextHigherKey(a);
        n = next === undefined || next - a >= BigInt(len - pos) ? len - pos : Number(next - a);
        cached(a, n, pos);
      }
      pos += n;
    }
  }

  /** Bytes from a (at most max) that lie in the uncached range holding a; 0 if none holds it. */
  private uncachedRun(a: bigint, max: number): number {
    const pair = this.uncached.getPairOrNextLower(a);
    if (pair === undefined || pair[1] <= a) return 0;
    const left = pair[1] - a;
    return left < BigInt(max) ? Number(left) : max;
  }

  /** The range split at page boundaries. */
  private walkChunks(addr: bigint, len: number, pos0: number, fn: ChunkFn): void {
    if (len <= 0) return;
    if (addr < 0n || addr + BigInt(len) > ADDR_LIMIT) throw new Error(`BUG: cache access out of range 0x${addr.toString(16)}+${len}`);
    let pageNo = Number(addr >> BigInt(PAGE_SHIFT));
    let off = Number(addr & PAGE_MASK);
    for (let pos = 0; pos < len; pageNo++, off = 0) {
      const n = Math.min(PAGE_SIZE - off, len - pos);
      fn(pageNo, off, off + n, pos0 + pos);
      pos += n;
    }
  }

  /**
   * Fills every Invalid line overlapping bytes [off, end) of the page (a CPU access's misses) and
   * returns the page. Consecutive misses are read from memory in one go. @overwrite: the caller
   * then stores all of [off, end), so lines wholly inside need no read — only their state changes.
   */
  private fillRange(pageNo: number, off: number, end: number, overwrite: boolean): LinePage {
    let p = this.pages.get(pageNo);
    if (p === undefined) {
      p = this.spare ?? { data: new Uint8Array(PAGE_SIZE), state: new Uint8Array(PAGE_SIZE >> this.lineShift), present: 0 };
      this.spare = undefined;
      this.pages.set(pageNo, p);
    }
    const first = off >> this.lineShift;
    const last = (end - 1) >> this.lineShift;
    let runLo = -1; // first line of the pending run of lines to read
    for (let li = first; li <= last + 1; li++) {
      const miss = li <= last && p.state[li] === INVALID;
      const whole = overwrite && li << this.lineShift >= off && (li + 1) << this.lineShift <= end;
      if (miss) {
        p.state[li] = CLEAN;
        p.present++;
        this.counters.fills++;
      }
      if (miss && !whole) {
        if (runLo < 0) runLo = li;
        continue;
      }
      if (runLo >= 0) {
        const a = runLo << this.lineShift;
        this.mem.readInto((BigInt(pageNo) << BigInt(PAGE_SHIFT)) | BigInt(a), p.data.subarray(a, li << this.lineShift));
        runLo = -1;
      }
    }
    return p;
  }

  /**
   * walk() restricted to present lines: a page with none is skipped whole, so a range op over
   * mostly uncached-by-the-CPU memory costs per present page, not per line. A callback may drop
   * lines (a page whose last line goes is deleted; its remaining states are then all INVALID).
   */
  private walkPresent(addr: bigint, len: number, pos0: number, fn: PresentFn): void {
    if (len <= 0) return;
    if (addr < 0n || addr + BigInt(len) > ADDR_LIMIT) throw new Error(`BUG: cache access out of range 0x${addr.toString(16)}+${len}`);
    if (this.pages.size === 0) return;
    const mask = this.lineSize - 1;
    let pageNo = Number(addr >> BigInt(PAGE_SHIFT));
    let off = Number(addr & PAGE_MASK);
    for (let pos = 0; pos < len; ) {
      const chunk = Math.min(PAGE_SIZE - off, len - pos);
      const p = this.pages.get(pageNo);
      if (p !== undefined) {
        for (let o = off, q = pos; o < off + chunk; ) {
          const from = o & mask;
          const to = Math.min(this.lineSize, from + (off + chunk - o));
          const li = o >> this.lineShift;
          if (p.state[li] !== INVALID) fn(p, pageNo, li, from, to, pos0 + q);
          q += to - from;
          o += to - from;
        }
      }
      pos += chunk;
      off = 0;
      pageNo++;
    }
  }

  /** The whole line goes to memory, stale bytes included: the mechanism of §5.4 VIS-3.1. */
  private writeback(p: LinePage, pageNo: number, li: number): void {
    const base = li << this.lineShift;
    this.mem.write(this.lineAddr(pageNo, li), p.data.subarray(base, base + this.lineSize));
    p.state[li] = CLEAN;
    this.counters.writebacks++;
  }

  private drop(p: LinePage, pageNo: number, li: number): void {
    p.state[li] = INVALID;
    if (--p.present === 0) {
      this.pages.delete(pageNo);
      this.spare = p; // every state byte is INVALID again; stale data is overwritten on fill
    }
  }

  private lineAddr(pageNo: number, li: number): bigint {
    return (BigInt(pageNo) << BigInt(PAGE_SHIFT)) | BigInt(li << this.lineShift);
  }
}
