/**
 * Sparse expected bytes for the data checkers: each byte is unknown (tag 0) or
 * known with a value and a tag saying where the value came from, so a mismatch
 * can be charged to the right invariant. Stored per 4 KiB page; every operation
 * costs O(bytes touched), or O(pages held) when it spans more pages than that.
 */
import { SweepingMap } from '../sweeping-map';

/** The data shadows read an op's bytes through the engine's per-op memo (one pattern per op). */
export { specBytes } from '../engine/spec-bytes';

const PAGE_SHIFT = 12n;
const PAGE = 4096;

interface Page {
  readonly val: Uint8Array;
  /** 0: unknown; otherwise the caller's tag */
  readonly tag: Uint8Array;
  known: number;
}

/** The expected bytes of one range: tag 0 where nothing is known. */
export interface Expected {
  readonly val: Uint8Array;
  readonly tag: Uint8Array;
}

/** Unknown bytes in [off, off+n) of a page; a wholly known page (the common case on rewrites) or a fresh one needs no scan. */
function unknownIn(p: Page, off: number, n: number): number {
  if (p.known === PAGE) return 0;
  if (p.known === 0) return n;
  let c = 0;
  for (let i = off; i < off + n; i++) if (p.tag[i] === 0) c++;
  return c;
}

export class ByteShadow {
  private readonly pages = new SweepingMap<number, Page>();

  /** Records data at addr with tag (non-zero). */
  set(addr: bigint, data: Uint8Array, tag: number): void {
    this.walk(addr, data.length, true, (p, off, pos, n) => {
      p.known += unknownIn(p, off, n);
      p.val.set(data.subarray(pos, pos + n), off);
      p.tag.fill(tag, off, off + n);
    });
  }

  /** Records len bytes of one value. */
  fill(addr: bigint, len: number, value: number, tag: number): void {
    this.walk(addr, len, true, (p, off, _pos, n) => {
      p.known += unknownIn(p, off, n);
      p.val.fill(value, off, off + n);
      p.tag.fill(tag, off, off + n);
    });
  }

  /** Copies the known bytes of src, with their tags, over this shadow at addr; unknown ones leave it as it is. */
  overlay(addr: bigint, src: Expected): void {
    if (!src.tag.some((t) => t !== 0)) return;
    this.walk(addr, src.val.length, true, (p, off, pos, n) => {
      for (let i = 0; i < n; i++) {
        const t = src.tag[pos + i]!;
        if (t === 0) continue;
        if (p.tag[off + i] === 0) p.known++;
        p.val[off + i] = src.val[pos + i]!;
        p.tag[off + i] = t;
      }
    });
    this.prune(addr, BigInt(src.val.length));
  }

  /** Forgets [addr, addr+len). */
  forget(addr: bigint, len: bigint): void {
    if (len <= 0n || this.pages.size === 0) return;
    const first = Number(addr >> PAGE_SHIFT);
    const last = Number((addr + len - 1n) >> PAGE_SHIFT);
    if (last - first + 1 > this.pages.size) {
      for (const [k, p] of this.pages) if (k >= first && k <= last) this.clearPart(k, p, addr, len);
      return;
    }
    for (let k = first; k <= last; k++) {
      const p = this.pages.get(k);
      if (p) this.clearPart(k, p, addr, len);
    }
  }

  /** Re-tags every known byte of [addr, addr+len) with tag. */
  retag(addr: bigint, len: number, tag: number): void {
    this.walk(addr, len, false, (p, off, _pos, n) => {
      if (p.known === PAGE) p.tag.fill(tag, off, off + n);
      else for (let i = 0; i < n; i++) if (p.tag[off + i] !== 0) p.tag[off + i] = tag;
    });
  }

  /** The expected bytes of [addr, addr+len); a copy. */
  get(addr: bigint, len: number): Expected {
    const val = new Uint8Array(len);
    const tag = new Uint8Array(len);
    this.walk(addr, len, false, (p, off, pos, n) => {
      val.set(p.val.subarray(off, off + n), pos);
      tag.set(p.tag.subarray(off, off + n), pos);
    });
    return { val, tag };
  }

  get empty(): boolean {
    return this.pages.size === 0;
  }

  private clearPart(k: number, p: Page, addr: bigint, len: bigint): void {
    const base = BigInt(k) << PAGE_SHIFT;
    const from = addr > base ? Number(addr - base) : 0;
    const endAbs = addr + len;
    const to = endAbs < base + BigInt(PAGE) ? Number(endAbs - base) : PAGE;
    // A whole or a wholly known page needs no count.
    if (from === 0 && to === PAGE) p.known = 0;
    else if (p.known === PAGE) p.known -= to - from;
    else for (let i = from; i < to; i++) if (p.tag[i] !== 0) p.known--;
    p.tag.fill(0, from, to);
    if (p.known === 0) this.pages.delete(k);
  }

  private prune(addr: bigint, len: bigint): void {
    if (len <= 0n) return;
    const first = Number(addr >> PAGE_SHIFT);
    const last = Number((addr + len - 1n) >> PAGE_SHIFT);
    for (let k = first; k <= last; k++) if (this.pages.get(k)?.known === 0) this.pages.delete(k);
  }

  /** Visits [addr, addr+len) page by page; absent pages are created only if `create`. */
  private walk(addr: bigint, len: number, create: boolean, fn: (p: Page, off: number, pos: number, n: number) => void): void {
    let k = Number(addr >> PAGE_SHIFT);
    let off = Number(addr & BigInt(PAGE - 1));
    for (let pos = 0; pos < len; k++, off = 0) {
      const n = Math.min(PAGE - off, len - pos);
      let p = this.pages.get(k);
      if (p === undefined && create) this.pages.set(k, (p = { val: new Uint8Array(PAGE), tag: new Uint8Array(PAGE), known: 0 }));
      if (p !== undefined) fn(p, off, pos, n);
      pos += n;
    }
  }
}

