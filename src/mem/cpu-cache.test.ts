import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { PhysMem } from './phys-mem';
import { CpuCache } from './cpu-cache';

const HIGH = 0x1_0000_0000_0000_0000n - 0x10_0000n; // top 1 MiB of the 64-bit space
const bytes = (len: number, v: number): Uint8Array => new Uint8Array(len).fill(v);

/** A fresh machine per test: 1 MiB of RAM at 0, 1 MiB at the top of the address space. */
const mk = (lineSize = 64): { mem: PhysMem; cache: CpuCache } => {
  const mem = new PhysMem([
    { base: 0n, size: 0x10_0000n },
    { base: HIGH, size: 0x10_0000n },
  ]);
  return { mem, cache: new CpuCache(mem, lineSize) };
};

test('line size must be a power of two no larger than a page', () => {
  const { mem } = mk();
  for (const bad of [0, 48, 8192, 1.5]) assert.throws(() => new CpuCache(mem, bad), /^Error: BUG:/);
  assert.equal(new CpuCache(mem, 128).lineSize, 128);
});

test('CPU read: Invalid -> Clean, filled from memory', () => {
  const { mem, cache } = mk();
  mem.write(0x1000n, bytes(8, 0xaa));
  assert.equal(cache.lineState(0x1000n), 'invalid');
  assert.deepEqual(cache.read(0x1004n, 4), bytes(4, 0xaa));
  assert.equal(cache.lineState(0x1000n), 'clean');
  assert.equal(cache.lineState(0x1040n), 'invalid');
  assert.equal(cache.counters.fills, 1);
  // A hit does not fill again, even if memory changed underneath (non-coherent write).
  mem.write(0x1000n, bytes(8, 0xbb));
  assert.deepEqual(cache.read(0x1000n, 2), bytes(2, 0xaa));
  assert.equal(cache.counters.fills, 1);
});

test('CPU write: write-allocate, line Dirty, memory untouched until clean', () => {
  const { mem, cache } = mk();
  mem.write(0x2000n, bytes(64, 0x11));
  cache.write(0x2010n, bytes(4, 0x22));
  assert.equal(cache.lineState(0x2000n), 'dirty');
  assert.deepEqual(mem.read(0x2010n, 4), bytes(4, 0x11));
  const line = cache.read(0x2000n, 64);
  assert.deepEqual(line.subarray(0, 16), bytes(16, 0x11)); // the fill kept the rest of the line
  assert.deepEqual(line.subarray(16, 20), bytes(4, 0x22));
});

test('clean: Dirty -> Clean with write-back; Clean stays Clean', () => {
  const { mem, cache } = mk();
  cache.write(0x3000n, bytes(4, 0x33));
  cache.read(0x3040n, 1);
  cache.clean(0x3000n, 128);
  assert.equal(cache.lineState(0x3000n), 'clean');
  assert.equal(cache.lineState(0x3040n), 'clean');
  assert.deepEqual(mem.read(0x3000n, 4), bytes(4, 0x33));
  assert.equal(cache.counters.writebacks, 1);
  cache.clean(0x3000n, 128);
  assert.equal(cache.counters.writebacks, 1);
});

test('clean covers every line the range overlaps, even by one byte', () => {
  const { mem, cache } = mk();
  cache.write(0x3000n, bytes(1, 1));
  cache.write(0x3080n, bytes(1, 2));
  cache.clean(0x303fn, 0x42); // last byte of line 0 .. first byte of line 2
  assert.deepEqual([mem.read(0x3000n, 1)[0], mem.read(0x3080n, 1)[0]], [1, 2]);
});

test('evict: Dirty -> Invalid with write-back; Clean -> Invalid without', () => {
  const { mem, cache } = mk();
  cache.write(0x4000n, bytes(2, 0x44));
  cache.read(0x4040n, 1);
  cache.evict(0x4000n, 0x80);
  assert.equal(cache.lineState(0x4000n), 'invalid');
  assert.equal(cache.lineState(0x4040n), 'invalid');
  assert.deepEqual(mem.read(0x4000n, 2), bytes(2, 0x44));
  assert.equal(cache.counters.writebacks, 1);
  assert.equal(cache.counters.discards, 0);
});

test('speculate fills only absent lines of RAM and never touches present ones', () => {
  const { mem, cache } = mk();
  mem.write(0x5000n, bytes(0x100, 0x55));
  cache.write(0x5040n, bytes(1, 0x66));
  cache.speculate(0x5000n, 0x100);
  assert.deepEqual(
    [0x5000n, 0x5040n, 0x5080n, 0x50c0n].map((a) => cache.lineState(a)),
    ['clean', 'dirty', 'clean', 'clean'],
  );
  assert.deepEqual(cache.read(0x5040n, 1), bytes(1, 0x66));
  cache.speculate(0x10_0000n - 0x40n, 0x80); // last RAM line, then a hole
  assert.equal(cache.lineState(0x10_0000n - 0x40n), 'clean');
  assert.equal(cache.lineState(0x10_0000n), 'invalid');
});

test('invalidate: a Dirty line wholly inside is discarded', () => {
  const { mem, cache } = mk();
  mem.write(0x6000n, bytes(64, 0x01));
  cache.write(0x6000n, bytes(64, 0x02));
  cache.invalidate(0x6000n, 64);
  assert.equal(cache.lineState(0x6000n), 'invalid');
  assert.equal(cache.counters.discards, 1);
  assert.deepEqual(cache.read(0x6000n, 64), bytes(64, 0x01));
});

test('invalidate: CPU-dirty bytes sharing an edge line survive (clean+invalidate)', () => {
  const { mem, cache } = mk();
  // Buffer [0x7020, 0x70a0): partial first line 0x7000, full line 0x7040, partial last line 0x7080.
  cache.write(0x7000n, bytes(0x20, 0xc1)); // CPU data before the buffer
  cache.write(0x70a0n, bytes(0x20, 0xc2)); // CPU data after the buffer
  cache.write(0x7040n, bytes(0x40, 0xdd)); // stale copy inside the buffer
  cache.invalidate(0x7020n, 0x80);
  for (const a of [0x7000n, 0x7040n, 0x7080n]) assert.equal(cache.lineState(a), 'invalid');
  assert.deepEqual(mem.read(0x7000n, 0x20), bytes(0x20, 0xc1));
  assert.deepEqual(mem.read(0x70a0n, 0x20), bytes(0x20, 0xc2));
  assert.deepEqual(mem.read(0x7040n, 0x40), bytes(0x40, 0)); // the inner dirty line was discarded
  assert.deepEqual(cache.counters, { fills: 3, writebacks: 2, discards: 1 });
});

test('invalidate inside one line cleans and invalidates it; Clean lines are dropped', () => {
  const { mem, cache } = mk();
  cache.write(0x8000n, bytes(64, 0x08));
  cache.invalidate(0x8010n, 8);
  assert.equal(cache.lineState(0x8000n), 'invalid');
  assert.deepEqual(mem.read(0x8000n, 64), bytes(64, 0x08));
  cache.read(0x8000n, 1);
  cache.invalidate(0x8000n, 64);
  assert.equal(cache.lineState(0x8000n), 'invalid');
});

test('device access: non-coherent sees memory only, coherent snoops', () => {
  const { mem, cache } = mk();
  mem.write(0x9000n, bytes(8, 0x01));
  cache.write(0x9000n, bytes(4, 0x02));
  assert.deepEqual(cache.deviceRead(0x9000n, 8, false), bytes(8, 0x01));
  assert.deepEqual(cache.deviceRead(0x9000n, 8, true), Uint8Array.of(2, 2, 2, 2, 1, 1, 1, 1));

  cache.read(0x9040n, 1); // a clean copy
  cache.deviceWrite(0x9040n, bytes(4, 0x03), false);
  assert.deepEqual(cache.read(0x9040n, 4), bytes(4, 0)); // stale
  assert.deepEqual(mem.read(0x9040n, 4), bytes(4, 0x03));

  cache.deviceWrite(0x9000n, bytes(2, 0x04), true);
  assert.equal(cache.lineState(0x9000n), 'dirty'); // state kept
  assert.deepEqual(cache.read(0x9000n, 4), Uint8Array.of(4, 4, 2, 2));
  assert.deepEqual(mem.read(0x9000n, 4), Uint8Array.of(4, 4, 1, 1));
});

test('memcpy copies through the cache', () => {
  const { mem, cache } = mk();
  mem.write(0xa000n, bytes(100, 0x5a));
  cache.memcpy(0xb010n, 0xa000n, 100);
  assert.deepEqual(cache.read(0xb010n, 100), bytes(100, 0x5a));
  assert.equal(cache.lineState(0xa000n), 'clean');
  assert.equal(cache.lineState(0xb000n), 'dirty');
  assert.deepEqual(mem.read(0xb010n, 4), bytes(4, 0));
});

test('uncached ranges: CPU goes to memory, never allocates, and is idempotent per range', () => {
  const { mem, cache } = mk();
  cache.setUncached(0xc000n, 0x1000n, true);
  cache.setUncached(0xc000n, 0x1000n, true);
  cache.write(0xbff8n, bytes(16, 0x77)); // straddles the start: half cached, half not
  assert.equal(cache.lineState(0xbfc0n), 'dirty');
  assert.equal(cache.lineState(0xc000n), 'invalid');
  assert.deepEqual(mem.read(0xc000n, 8), bytes(8, 0x77));
  assert.deepEqual(mem.read(0xbff8n, 8), bytes(8, 0));
  assert.deepEqual(cache.read(0xbff8n, 16), bytes(16, 0x77));
  cache.speculate(0xc000n, 0x1000);
  assert.equal([...cache.lines()].length, 1);
  assert.equal(cache.isUncached(0xcfffn), true);
  assert.equal(cache.isUncached(0xd000n), false);
  assert.throws(() => cache.setUncached(0xc800n, 0x1000n, true), /^Error: BUG:/);
  assert.throws(() => cache.setUncached(0xb800n, 0x1000n, true), /^Error: BUG:/);
  assert.throws(() => cache.setUncached(0xc000n, 0x2000n, false), /^Error: BUG:/);
  cache.setUncached(0xc000n, 0x1000n, false);
  cache.setUncached(0xc000n, 0x1000n, false);
  cache.read(0xc000n, 1);
  assert.equal(cache.lineState(0xc000n), 'clean');
});

test('lines() lists present lines in address order; high addresses are exact', () => {
  const { cache } = mk(128);
  cache.write(HIGH + 0xff80n, bytes(1, 9));
  cache.read(0x100n, 1);
  cache.write(0x0n, bytes(1, 1));
  const seen = [...cache.lines()].map((l) => [l.addr, l.dirty, l.data.length, l.data[0]]);
  assert.deepEqual(seen, [
    [0x0n, true, 128, 1],
    [0x100n, false, 128, 0],
    [HIGH + 0xff80n, true, 128, 9],
  ]);
  assert.equal(cache.lineState(HIGH + 0xffffn), 'dirty');
  cache.evict(HIGH, 0x10_0000);
  assert.equal(cache.lineState(HIGH + 0xff80n), 'invalid');
});

// CPU-only operations: whatever clean, evict and speculate happen in between, a CPU
// read returns the last CPU write (§5.4). invalidate is excluded: it may discard.
const WIN = 0x180;
const WIN_BASE = 0x1_0000n - 0x80n; // the window crosses a page boundary
type Model = { bytes: Uint8Array };
type Cmd = fc.Command<Model, CpuCache>;
const span = fc.tuple(fc.nat(WIN - 1), fc.integer({ min: 1, max: 0x90 })).map(([o, n]) => [o, Math.min(n, WIN - o)] as const);

const commands: fc.Arbitrary<Cmd>[] = [
  fc.tuple(span, fc.nat(255)).map(([[o, n], v]) => ({
    check: () => true,
    run: (m: Model, r: CpuCache) => {
      r.write(WIN_BASE + BigInt(o), bytes(n, v));
      m.bytes.fill(v, o, o + n);
    },
    toString: () => `write(${o}, ${n}, ${v})`,
  })),
  span.map(([o, n]) => ({
    check: () => true,
    run: (m: Model, r: CpuCache) => {
      assert.deepEqual(r.read(WIN_BASE + BigInt(o), n), m.bytes.subarray(o, o + n));
      assert.deepEqual(r.deviceRead(WIN_BASE + BigInt(o), n, true), m.bytes.subarray(o, o + n));
    },
    toString: () => `read(${o}, ${n})`,
  })),
  fc.tuple(span, fc.nat(WIN - 1)).map(([[o, n], d]) => {
    const len = Math.min(n, WIN - d);
    return {
      check: () => true,
      run: (m: Model, r: CpuCache) => {
        r.memcpy(WIN_BASE + BigInt(d), WIN_BASE + BigInt(o), len);
        m.bytes.set(m.bytes.slice(o, o + len), d);
      },
      toString: () => `memcpy(${d}, ${o}, ${len})`,
    };
  }),
  ...(['clean', 'evict', 'speculate'] as const).map((op) =>
    span.map(([o, n]) => ({
      check: () => true,
      run: (_m: Model, r: CpuCache) => r[op](WIN_BASE + BigInt(o), n),
      toString: () => `${op}(${o}, ${n})`,
    })),
  ),
];

test('property: CPU reads return the last CPU write whatever clean/evict/speculate do', () => {
  fc.assert(
    fc.property(fc.constantFrom(16, 64, 128), fc.uint8Array({ minLength: WIN, maxLength: WIN }), fc.commands(commands, { maxCommands: 60 }), (ls, init, cmds) => {
      const setup = () => {
        const { mem } = mk();
        mem.write(WIN_BASE, init);
        return { model: { bytes: init.slice() }, real: new CpuCache(mem, ls) };
      };
      fc.modelRun(setup, cmds);
    }),
    { numRuns: 300 },
  );
});

// Differential: CpuCache walks pages and runs of lines; this reference does every step line by
// line and byte by byte, straight from §5.4. Same ops, same results, same lines, memory, counters.
class NaiveCache {
  readonly lines = new Map<number, { dirty: boolean; data: Uint8Array }>();
  readonly counters = { fills: 0, writebacks: 0, discards: 0 };
  constructor(readonly mem: Uint8Array, readonly ls: number, readonly uncached: (b: number) => boolean) {}
  private line(b: number): { dirty: boolean; data: Uint8Array } {
    const a = b - (b % this.ls);
    let l = this.lines.get(a);
    if (!l) {
      this.lines.set(a, (l = { dirty: false, data: this.mem.slice(a, a + this.ls) }));
      this.counters.fills++;
    }
    return l;
  }
  private each(o: number, n: number, fn: (a: number, l: { dirty: boolean; data: Uint8Array }, whole: boolean) => void): void {
    for (let a = o - (o % this.ls); a < o + n; a += this.ls) {
      const l = this.lines.get(a);
      if (l) fn(a, l, a >= o && a + this.ls <= o + n);
    }
  }
  private writeback(a: number, l: { dirty: boolean; data: Uint8Array }): void {
    this.mem.set(l.data, a);
    l.dirty = false;
    this.counters.writebacks++;
  }
  read(o: number, n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.uncached(o + i) ? this.mem[o + i]! : this.line(o + i).data[(o + i) % this.ls]!;
    return out;
  }
  peek(o: number, n: number): Uint8Array {
    const out = this.mem.slice(o, o + n);
    for (let i = 0; i < n; i++) {
      const l = this.lines.get(o + i - ((o + i) % this.ls));
      if (l && !this.uncached(o + i)) out[i] = l.data[(o + i) % this.ls]!;
    }
    return out;
  }
  write(o: number, v: Uint8Array): void {
    v.forEach((x, i) => {
      if (this.uncached(o + i)) this.mem[o + i] = x;
      else {
        const l = this.line(o + i);
        l.data[(o + i) % this.ls] = x;
        l.dirty = true;
      }
    });
  }
  speculate(o: number, n: number): void {
    for (let i = 0; i < n; i++) if (!this.uncached(o + i)) this.line(o + i);
  }
  evict(o: number, n: number): void {
    this.each(o, n, (a, l) => {
      if (l.dirty) this.writeback(a, l);
      this.lines.delete(a);
    });
  }
  clean(o: number, n: number): void {
    this.each(o, n, (a, l) => l.dirty && this.writeback(a, l));
  }
  invalidate(o: number, n: number): void {
    this.each(o, n, (a, l, whole) => {
      if (l.dirty && whole) this.counters.discards++;
      else if (l.dirty) this.writeback(a, l);
      this.lines.delete(a);
    });
  }
  deviceRead(o: number, n: number): Uint8Array {
    const out = this.mem.slice(o, o + n);
    for (let i = 0; i < n; i++) {
      const l = this.lines.get(o + i - ((o + i) % this.ls));
      if (l?.dirty) out[i] = l.data[(o + i) % this.ls]!;
    }
    return out;
  }
  deviceWrite(o: number, v: Uint8Array): void {
    this.mem.set(v, o);
    v.forEach((x, i) => {
      const l = this.lines.get(o + i - ((o + i) % this.ls));
      if (l) l.data[(o + i) % this.ls] = x;
    });
  }
}

test('property: CpuCache matches a line-by-line reference (§5.4) across pages, with an uncached range', () => {
  const D = 0x3000; // three pages from DIFF_BASE
  const DIFF_BASE = 0x4000n;
  const rangeArb = fc.tuple(fc.nat(D - 1), fc.integer({ min: 1, max: 0x1800 })).map(([o, n]) => [o, Math.min(n, D - o)] as const);
  const opArb = fc.tuple(fc.constantFrom('read', 'peek', 'write', 'speculate', 'evict', 'clean', 'invalidate', 'deviceRead', 'deviceWrite'), rangeArb, fc.nat(255));
  fc.assert(
    fc.property(fc.constantFrom(16, 64, 128), fc.option(rangeArb), fc.array(opArb, { maxLength: 40 }), (ls, unc, ops) => {
      const mem = new PhysMem([{ base: 0n, size: 0x10_0000n }]);
      const real = new CpuCache(mem, ls);
      const init = Uint8Array.from({ length: D }, (_, i) => (i * 7 + 3) & 0xff);
      mem.write(DIFF_BASE, init);
      if (unc) real.setUncached(DIFF_BASE + BigInt(unc[0]), BigInt(unc[1]), true);
      const ref = new NaiveCache(init.slice(), ls, (b) => unc !== null && b >= unc[0] && b < unc[0] + unc[1]);
      for (const [op, [o, n], v] of ops) {
        const a = DIFF_BASE + BigInt(o);
        const data = Uint8Array.from({ length: n }, (_, i) => (v + i) & 0xff);
        if (op === 'read' || op === 'peek') assert.deepEqual(real[op](a, n), ref[op](o, n), `${op}(${o}, ${n})`);
        else if (op === 'deviceRead') assert.deepEqual(real.deviceRead(a, n, true), ref.deviceRead(o, n), `deviceRead(${o}, ${n})`);
        else if (op === 'write') (real.write(a, data), ref.write(o, data));
        else if (op === 'deviceWrite') (real.deviceWrite(a, data, true), ref.deviceWrite(o, data));
        else (real[op](a, n), ref[op](o, n));
      }
      const lines = [...real.lines()].map((l) => [Number(l.addr - DIFF_BASE), l.dirty, [...l.data]]);
      const want = [...ref.lines].sort((x, y) => x[0] - y[0]).map(([a, l]) => [a, l.dirty, [...l.data]]);
      assert.deepEqual(lines, want);
      assert.deepEqual(mem.read(DIFF_BASE, D), ref.mem);
      assert.deepEqual(real.counters, ref.counters);
    }),
    { numRuns: 200 },
  );
});
