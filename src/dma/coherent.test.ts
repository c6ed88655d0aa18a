import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PageAllocator, type PhysRange } from '../mm/page-alloc';
import { dma_coherent_ok, dma_direct_alloc, dma_direct_free, type CoherentEnv } from './coherent';
import { DMA_ATTRS, DMA_BIT_MASK, DMA_MAPPING_ERROR, U64_MAX, type Device } from './types';

const G = 1n << 30n;
const PS = 4096;

function mkdev(over: Partial<Device> = {}): Device {
  return {
    name: 'dev0', bus: 'platform', dma_mask: DMA_BIT_MASK(64), coherent_dma_mask: DMA_BIT_MASK(64),
    bus_dma_limit: 0n, dma_range_map: null, dma_coherent: true, dma_skip_sync: false, min_align_mask: 0n,
    max_segment_size: 65536n, segment_boundary_mask: U64_MAX, force_bounce: false, iommu: null, untrusted: false,
    ...over,
  };
}

interface Fake extends CoherentEnv {
  log: string[];
  /** Pages holding stale (non-zero) data; cpu_zero clears them. */
  stale: Set<bigint>;
}

/** A fake env; `offset` is a dma_range_map offset (dma = phys - offset) over `window` bytes of phys. */
function mkenv(ram: PhysRange[], reserved: PhysRange[] = [], offset = 0n, window = U64_MAX): Fake {
  const stale = new Set<bigint>();
  const log: string[] = [];
  const hex = (x: bigint): string => `0x${x.toString(16)}`;
  return {
    pages: new PageAllocator(ram, reserved, PS),
    page_size: PS,
    zone_dma_limit: DMA_BIT_MASK(24),
    phys_to_dma: (_d, phys) => (phys >= offset && phys - offset <= window ? phys - offset : DMA_MAPPING_ERROR),
    dma_to_phys: (_d, dma) => (dma <= window ? dma + offset : U64_MAX),
    cpu_zero(phys, size) {
      log.push(`zero ${hex(phys)} ${hex(size)}`);
      for (let p = phys; p < phys + size; p += BigInt(PS)) stale.delete(p);
    },
    set_uncached: (phys, size, on) => void log.push(`uncached ${on} ${hex(phys)} ${hex(size)}`),
    arch_dma_prep_coherent: (phys, size) => void log.push(`prep ${hex(phys)} ${hex(size)}`),
    log,
    stale,
  };
}

const RAM8G: PhysRange[] = [{ base: 0n, size: 8n * G }];

test('coherent device: page-rounded, aligned to its order, zeroed, dma = phys; free restores', () => {
  const env = mkenv(RAM8G);
  const before = env.pages.stats();
  const a = dma_direct_alloc(env, mkdev(), 5000n, 0)!;
  assert.equal(a.size, 8192n);
  assert.equal(a.order, 1);
  assert.equal(a.cpu_addr, 8n * G - 8192n); // model: top-down
  assert.equal(a.dma_addr, a.cpu_addr);
  assert.deepEqual(env.log, [`zero 0x${a.cpu_addr.toString(16)} 0x2000`]);
  dma_direct_free(env, mkdev(), a);
  assert.deepEqual(env.pages.stats(), before);
});

test('memory is zeroed over the page-aligned size only, not the order tail', () => {
  const env = mkenv(RAM8G);
  const top = 8n * G - 16384n;
  for (let p = top; p < 8n * G; p += 4096n) env.stale.add(p);
  const a = dma_direct_alloc(env, mkdev(), 12288n, 0)!;
  assert.equal(a.order, 2);
  assert.equal(a.cpu_addr, top);
  assert.deepEqual([...env.stale], [top + 12288n]); // alloc_pages has no __GFP_ZERO
});

test('zone choice: 32-bit coherent mask with RAM above 4 GiB → below 4 GiB; 24-bit → ZONE_DMA', () => {
  const env = mkenv(RAM8G);
  const a = dma_direct_alloc(env, mkdev({ coherent_dma_mask: DMA_BIT_MASK(32) }), 4096n, 0)!;
  assert.equal(a.dma_addr, 0xffff_f000n);
  const b = dma_direct_alloc(env, mkdev({ coherent_dma_mask: DMA_BIT_MASK(24) }), 65536n, 0)!;
  assert.equal(b.dma_addr, 0xff_0000n);
  assert.equal(b.dma_addr % 65536n, 0n); // H11
});

test('zone fallback: a 30-bit mask tries ZONE_DMA32, fails coherent_ok, retries in ZONE_DMA', () => {
  const env = mkenv(RAM8G);
  const a = dma_direct_alloc(env, mkdev({ coherent_dma_mask: DMA_BIT_MASK(30) }), 4096n, 0)!;
  assert.equal(a.dma_addr, 0xfff000n); // not the best page below 1 GiB: the kernel jumps to ZONE_DMA
  assert.equal(env.pages.stats().allocated_pages, 1); // the rejected DMA32 page went back
  const b = dma_direct_alloc(env, mkdev({ bus_dma_limit: 0x3fff_ffffn }), 4096n, 0)!;
  assert.equal(b.dma_addr, 0xffe000n);
});

test('zone fallback fails when ZONE_DMA is empty, though memory below the mask exists', () => {
  const env = mkenv(RAM8G, [{ base: 0n, size: 16n << 20n }]);
  assert.equal(dma_direct_alloc(env, mkdev({ coherent_dma_mask: DMA_BIT_MASK(30) }), 4096n, 0), null);
  assert.equal(env.pages.stats().allocated_pages, 0);
});

test('dma_range_map offset: zone from dma_to_phys(limit), coherent_ok on the DMA address', () => {
  // dma = phys - 2 GiB; RAM 2..8 GiB. dma_to_phys(0xffff_ffff) = 0x1_7fff_ffff: ZONE_NORMAL first,
  // its top page has dma 0x1_7fff_f000 > mask, so DMA32 is tried and gives phys 0xffff_f000.
  const env = mkenv([{ base: 2n * G, size: 6n * G }], [], 2n * G);
  const a = dma_direct_alloc(env, mkdev({ coherent_dma_mask: DMA_BIT_MASK(32) }), 4096n, 0)!;
  assert.equal(a.cpu_addr, 0xffff_f000n);
  assert.equal(a.dma_addr, 0x7fff_f000n);
  dma_direct_free(env, mkdev({ coherent_dma_mask: DMA_BIT_MASK(32) }), a);
  assert.equal(env.pages.stats().allocated_pages, 0);
});

test('an all-ones phys limit skips the DMA32 retry and goes straight to ZONE_DMA', () => {
  // Identity map over the low 4 GiB only: phys above it has no DMA address, and the
  // 64-bit limit has no phys either (all-ones), so the retry skips DMA32.
  const env = mkenv(RAM8G, [], 0n, 4n * G - 1n);
  const a = dma_direct_alloc(env, mkdev(), 4096n, 0)!;
  assert.equal(a.dma_addr, 0xfff000n);
});

test('non-coherent device: prep, uncached mapping, then zero; free tears the mapping down', () => {
  const env = mkenv(RAM8G);
  const dev = mkdev({ dma_coherent: false });
  const a = dma_direct_alloc(env, dev, 4096n, 0)!;
  const p = `0x${a.cpu_addr.toString(16)}`;
  assert.deepEqual(env.log, [`prep ${p} 0x1000`, `uncached true ${p} 0x1000`, `zero ${p} 0x1000`]);
  dma_direct_free(env, dev, a);
  assert.equal(env.log[3], `uncached false ${p} 0x1000`);
  assert.equal(env.pages.stats().allocated_pages, 0);
});

test('DMA_ATTR_NO_KERNEL_MAPPING: not zeroed, no uncached mapping, prep even when coherent', () => {
  const env = mkenv(RAM8G);
  const attrs = DMA_ATTRS.DMA_ATTR_NO_KERNEL_MAPPING;
  for (const dev of [mkdev(), mkdev({ dma_coherent: false })]) {
    env.log.length = 0;
    const a = dma_direct_alloc(env, dev, 4096n, attrs)!;
    assert.deepEqual(env.log, [`prep 0x${a.cpu_addr.toString(16)} 0x1000`]);
    dma_direct_free(env, dev, a, attrs);
    assert.equal(env.log.length, 1);
  }
});

test('size 0 and sizes above MAX_PAGE_ORDER fail', () => {
  const env = mkenv(RAM8G);
  assert.equal(dma_direct_alloc(env, mkdev(), 0n, 0), null); // get_order(0) = 52
  assert.equal(dma_direct_alloc(env, mkdev(), 8n << 20n, 0), null); // order 11, no CMA
  assert.equal(dma_direct_alloc(env, mkdev(), U64_MAX, 0), null); // PAGE_ALIGN wraps to 0
  assert.notEqual(dma_direct_alloc(env, mkdev(), 4n << 20n, 0), null); // order 10
});

test('dma_coherent_ok: inclusive end, bus_dma_limit, DMA_MAPPING_ERROR, u64 wrap', () => {
  const d32 = mkdev({ coherent_dma_mask: DMA_BIT_MASK(32) });
  assert.equal(dma_coherent_ok(d32, 0xffff_f000n, 0x1000n), true);
  assert.equal(dma_coherent_ok(d32, 0xffff_f000n, 0x1001n), false);
  const lim = mkdev({ bus_dma_limit: 0x3fff_ffffn });
  assert.equal(dma_coherent_ok(lim, 0x3fff_f000n, 0x1000n), true);
  assert.equal(dma_coherent_ok(lim, 0x3fff_f000n, 0x2000n), false);
  // bus_dma_limit above the mask: min_not_zero picks the mask
  assert.equal(dma_coherent_ok(mkdev({ coherent_dma_mask: DMA_BIT_MASK(30), bus_dma_limit: U64_MAX }), 0x4000_0000n, 1n), false);
  assert.equal(dma_coherent_ok(mkdev(), DMA_MAPPING_ERROR, 1n), false);
  assert.equal(dma_coherent_ok(d32, 0n, 0n), false); // end wraps to all-ones
});
