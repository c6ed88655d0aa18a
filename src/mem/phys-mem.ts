/**
 * Sparse physical memory: the bytes M[b] of dma-core.md §5.4 and the RAM layout
 * of the `platform` op (DESIGN.md). Imports nothing, like the rest of src/mem.
 *
 * Bytes materialise in 4 KiB chunks on first write and read as 0 before that.
 * Chunk keys are `addr >> 12` as a plain number (at most 2^52, so exact), and all
 * per-byte work is done in number arithmetic; bigint is touched once per chunk.
 */

/** One RAM region (a memblock "memory" range). */
export interface RamRegion {
  readonly base: bigint;
  readonly size: bigint;
}

const CHUNK_SHIFT = 12;
const CHUNK_SIZE = 1 << CHUNK_SHIFT;
const CHUNK_MASK = BigInt(CHUNK_SIZE - 1);
const ADDR_LIMIT = 1n << 64n;

/** Physical memory of one platform; see the file header. */
export class PhysMem {
  /** The RAM regions, sorted by base. */
  readonly ram: readonly RamRegion[];
  private readonly chunks = new Map<number, Uint8Array>();

  constructor(ram: readonly RamRegion[]) {
    const sorted = ram.map((r) => ({ base: r.base, size: r.size })).sort((a, b) => (a.base < b.base ? -1 : a.base > b.base ? 1 : 0));
    for (let i = 0; i < sorted.length; i++) {
      const r = sorted[i]!;
      if (r.base < 0n || r.size <= 0n || r.base + r.size > ADDR_LIMIT) {
        throw new Error(`BUG: bad RAM region base=0x${r.base.toString(16)} size=0x${r.size.toString(16)}`);
      }
      if (i > 0 && sorted[i - 1]!.base + sorted[i - 1]!.size > r.base) {
        throw new Error(`BUG: RAM regions overlap at 0x${r.base.toString(16)}`);
      }
    }
    this.ram = sorted;
  }

  /**
   * isRam - whether [addr, addr+len) lies inside one RAM region.
   * Returns false for len 0: an empty range is not memory anyone can map.
   */
  isRam(addr: bigint, len: bigint): boolean {
    if (len <= 0n || addr < 0n) return false;
    const end = addr + len;
    // model: a linear scan; platforms have a handful of regions.
    for (const r of this.ram) {
      if (addr >= r.base && end <= r.base + r.size) return true;
    }
    return false;
  }

  /** read - a copy of the len bytes at addr. */
  read(addr: bigint, len: number): Uint8Array {
    const out = new Uint8Array(len);
    this.readInto(addr, out);
    return out;
  }

  /**
   * readInto - fill dst with the bytes at addr, without allocating; the CPU
   * cache uses it for line fills.
   */
  readInto(addr: bigint, dst: Uint8Array): void {
    this.check(addr, dst.length);
    let chunk = Number(addr >> BigInt(CHUNK_SHIFT));
    let off = Number(addr & CHUNK_MASK);
    for (let pos = 0; pos < dst.length; chunk++, off = 0) {
      const n = Math.min(CHUNK_SIZE - off, dst.length - pos);
      const c = this.chunks.get(chunk);
      if (c === undefined) dst.fill(0, pos, pos + n);
      else dst.set(c.subarray(off, off + n), pos);
      pos += n;
    }
  }

  /**
   * write - store data at addr.
   * model: addresses outside RAM are backed like RAM (MMIO and peer memory act as
   * plain bytes); callers that must refuse them ask isRam() first, as the kernel does.
   */
  write(addr: bigint, data: Uint8Array): void {
    this.check(addr, data.length);
    let chunk = Number(addr >> BigInt(CHUNK_SHIFT));
    let off = Number(addr & CHUNK_MASK);
    for (let pos = 0; pos < data.length; chunk++, off = 0) {
      const n = Math.min(CHUNK_SIZE - off, data.length - pos);
      let c = this.chunks.get(chunk);
      if (c === undefined) {
        c = new Uint8Array(CHUNK_SIZE);
        this.chunks.set(chunk, c);
      }
      c.set(data.subarray(pos, pos + n), off);
      pos += n;
    }
  }

  /** Number of materialised 4 KiB chunks (for tests and memory accounting). */
  get materialised(): number {
    return this.chunks.size;
  }

  private check(addr: bigint, len: number): void {
    if (addr < 0n || !Number.isSafeInteger(len) || len < 0 || addr + BigInt(len) > ADDR_LIMIT) {
      throw new Error(`BUG: physical access out of range addr=0x${addr.toString(16)} len=${len}`);
    }
  }
}
