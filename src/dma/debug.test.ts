import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DMA_DEBUG_CODES, DmaDebug, type DebugSg, type DmaDebugOptions } from './debug';
import { DMA_ATTRS, DMA_BIT_MASK, DMA_MAPPING_ERROR, U64_MAX, type Device, type DmaDirection } from './types';
import { WarnSink } from '../warn';

const SKIP = DMA_ATTRS.DMA_ATTR_SKIP_CPU_SYNC;
const IGNORE_CL = DMA_ATTRS.DMA_ATTR_DEBUGGING_IGNORE_CACHELINES;
const REQ_COH = DMA_ATTRS.DMA_ATTR_REQUIRE_COHERENT;
const TO: DmaDirection = 'DMA_TO_DEVICE';
const FROM: DmaDirection = 'DMA_FROM_DEVICE';
const BIDI: DmaDirection = 'DMA_BIDIRECTIONAL';

function mkDev(name: string, over: Partial<Device> = {}): Device {
  return {
    name, bus: 'pci', dma_mask: DMA_BIT_MASK(64), coherent_dma_mask: DMA_BIT_MASK(64), bus_dma_limit: 0n,
    dma_range_map: null, dma_coherent: true, dma_skip_sync: false, min_align_mask: 0n, max_segment_size: 65536n,
    segment_boundary_mask: 0xffffffffn, force_bounce: false, iommu: null, untrusted: false, ...over,
  };
}

function setup(over: Partial<DmaDebugOptions> = {}) {
  const warn = new WarnSink();
  const d = new DmaDebug({ warn, linux: '6.12', cacheline_shift: 6, bounce_unaligned_kmalloc: false, ...over });
  const codes = (): string[] => warn.drain().map((w) => w.code);
  return { d, warn, codes };
}

/** dma_map_page with a checked address, as a careful driver does. */
function mapChecked(d: DmaDebug, dev: Device, addr: bigint, size: bigint, dir: DmaDirection, attrs = 0, phys = addr): void {
  d.debug_dma_map_phys(dev, 'linear', phys, size, dir, addr, attrs, false);
  d.debug_dma_mapping_error(dev, addr);
}

const sgl = (...segs: [bigint, bigint][]): DebugSg[] => segs.map(([a, len]) => ({ phys: a, length: len, dma_address: a, dma_length: len }));

describe('code table', () => {
  test('every code the brief names exists, and each of the 22 checks has a code', () => {
    const want = [
      'DEBUG_MAP_FROM_STACK', 'DEBUG_MAP_KERNEL_TEXT', 'DEBUG_MAP_INVALID_AREA', 'DEBUG_MAP_VMALLOC', 'DEBUG_CACHELINE_OVERLAP',
      'DEBUG_CACHELINE_OVERLAP_LIMIT', 'DEBUG_SG_SEGMENT_TOO_LONG', 'DEBUG_SG_SEGMENT_BOUNDARY', 'DEBUG_FREE_INVALID_ADDRESS',
      'DEBUG_FREE_NOT_ALLOCATED', 'DEBUG_FREE_WRONG_SIZE', 'DEBUG_FREE_WRONG_FUNCTION', 'DEBUG_FREE_WRONG_CPU_ADDRESS',
      'DEBUG_FREE_WRONG_SG_COUNT', 'DEBUG_FREE_WRONG_DIRECTION', 'DEBUG_MAP_ERROR_NOT_CHECKED', 'DEBUG_SYNC_NOT_ALLOCATED',
      'DEBUG_SYNC_OUTSIDE_RANGE', 'DEBUG_SYNC_WRONG_DIRECTION', 'DEBUG_SYNC_DEVICE_READ_ONLY', 'DEBUG_SYNC_DEVICE_WRITE_ONLY',
      'DEBUG_SYNC_WRONG_SG_COUNT', 'DEBUG_LEAK_AT_REMOVE', 'DEBUG_CACHELINE_OVERLAP_FULL',
    ];
    for (const c of want) assert.ok(c in DMA_DEBUG_CODES, c);
    const checks = new Set<number | null>(Object.values(DMA_DEBUG_CODES).map((i) => i.check));
    for (let n = 1; n <= 22; n++) assert.ok(checks.has(n), `check ${n}`);
    for (const [code, info] of Object.entries(DMA_DEBUG_CODES)) {
      assert.match(code, /^DEBUG_[A-Z0-9_]+$/);
      assert.match(info.clause, /dma-core\.md §6/);
    }
  });
});

describe('observable behaviours (dma-core.md §6.5)', () => {
  test('1: unmap with a different size, unchecked: two errors, one printed; a second unmap finds nothing', () => {
    const { d, codes, warn } = setup();
    const dev = mkDev('nic');
    d.debug_dma_map_phys(dev, 'linear', 0x5000n, 4096n, TO, 0x5000n, 0, false);
    d.debug_dma_unmap_phys(dev, 0x5000n, 2048n, TO);
    const w = warn.peek();
    assert.deepEqual(codes(), ['DEBUG_FREE_WRONG_SIZE', 'DEBUG_MAP_ERROR_NOT_CHECKED']);
    assert.match(w[0].message, /\[map size=4096 bytes\] \[unmap size=2048 bytes\]/);
    assert.match(w[0].message, /0x0000000000005000/);
    assert.equal(d.stats.error_count, 2);
    assert.equal(d.stats.printed, 1);
    assert.equal(d.stats.live_entries, 0);
    d.debug_dma_unmap_phys(dev, 0x5000n, 2048n, TO);
    assert.deepEqual(codes(), ['DEBUG_FREE_NOT_ALLOCATED']);
  });

  test('2: first-cacheline overlap; TO_DEVICE and SKIP_CPU_SYNC are exempt; 0x1000_0000+128 and 0x1000_0040 do not collide', () => {
    for (const [second, attrs, want] of [[FROM, 0, ['DEBUG_CACHELINE_OVERLAP']], [TO, 0, []], [FROM, SKIP, []]] as const) {
      const { d, codes, warn } = setup();
      const dev = mkDev('nic');
      mapChecked(d, dev, 0x1000_0040n, 32n, FROM);
      mapChecked(d, dev, 0x1000_0060n, 32n, second, attrs);
      if (want.length) assert.match(warn.peek()[0].message, /cacheline=0x400001/);
      assert.deepEqual(codes(), want);
      assert.deepEqual(d.view.self_check(), []);
    }
    const { d, codes } = setup({ full_range_overlap: false });
    const dev = mkDev('nic');
    mapChecked(d, dev, 0x1000_0000n, 128n, FROM);
    mapChecked(d, dev, 0x1000_0040n, 64n, FROM);
    assert.deepEqual(codes(), []);
  });

  test('3: a sync past the end of the mapping is "not allocated"; a sync inside is fine', () => {
    const { d, codes } = setup();
    const dev = mkDev('nic');
    mapChecked(d, dev, 0x10000n, 0x1000n, FROM);
    d.debug_dma_sync_single_for_cpu(dev, 0x10800n, 0x1000n, FROM);
    assert.deepEqual(codes(), ['DEBUG_SYNC_NOT_ALLOCATED']);
    d.debug_dma_sync_single_for_cpu(dev, 0x10000n + 0x800n, 0x800n, FROM); // sync_single_range_for_cpu(0x10000, 0x800, 0x800)
    assert.deepEqual(codes(), []);
  });

  test('4: a TO_DEVICE mapping synced for the cpu with FROM_DEVICE gives two errors; with TO_DEVICE none', () => {
    const { d, codes } = setup();
    const dev = mkDev('nic');
    mapChecked(d, dev, 0x20000n, 0x1000n, TO);
    d.debug_dma_sync_single_for_cpu(dev, 0x20000n, 0x1000n, FROM);
    assert.deepEqual(codes(), ['DEBUG_SYNC_WRONG_DIRECTION', 'DEBUG_SYNC_DEVICE_READ_ONLY']);
    d.debug_dma_sync_single_for_cpu(dev, 0x20000n, 0x1000n, TO);
    assert.deepEqual(codes(), []);
  });

  test('5: sg unmap with nents=2 for a 3-entry map: two count errors; entry 2 leaks at unbind', () => {
    const { d, codes, warn } = setup();
    const dev = mkDev('nic');
    const sg = sgl([0x100000n, 0x1000n], [0x200000n, 0x1000n], [0x300000n, 0x1000n]);
    d.debug_dma_map_sg(dev, 'linear', sg, 3, 3, FROM, 0, false);
    assert.equal(d.stats.live_entries, 3);
    d.debug_dma_unmap_sg(dev, sg, 2, FROM);
    const msgs = warn.peek().map((w) => w.message);
    assert.deepEqual(codes(), ['DEBUG_FREE_WRONG_SG_COUNT', 'DEBUG_FREE_WRONG_SG_COUNT']);
    for (const m of msgs) assert.match(m, /\[map count=3\] \[unmap count=2\]/);
    assert.equal(d.stats.live_entries, 1);
    d.debug_dma_device_removed(dev);
    assert.equal(warn.peek()[0].code, 'DEBUG_LEAK_AT_REMOVE');
    assert.match(warn.peek()[0].message, /\[count=1\].*0x0000000000300000.*\[mapped as scatter-gather\]/);
  });

  test('6: unmapping DMA_MAPPING_ERROR is "free an invalid DMA memory address"', () => {
    const { d, codes } = setup();
    d.debug_dma_unmap_phys(mkDev('nic'), DMA_MAPPING_ERROR, 0x1000n, TO);
    assert.deepEqual(codes(), ['DEBUG_FREE_INVALID_ADDRESS']);
  });

  test('7: dma_mapping_error marks one entry per call', () => {
    // check after the first map only: the second entry stays unchecked
    const a = setup();
    const dev = mkDev('nic');
    a.d.debug_dma_map_phys(dev, 'linear', 0x9000n, 0x100n, TO, 0x9000n, 0, false);
    a.d.debug_dma_mapping_error(dev, 0x9000n);
    a.d.debug_dma_map_phys(dev, 'linear', 0x9000n, 0x100n, TO, 0x9000n, 0, false);
    a.d.debug_dma_unmap_phys(dev, 0x9000n, 0x100n, TO);
    a.d.debug_dma_unmap_phys(dev, 0x9000n, 0x100n, TO);
    assert.deepEqual(a.codes(), ['DEBUG_MAP_ERROR_NOT_CHECKED']);
    // kernel detail: the map hook itself calls dma_mapping_error(), which marks the older
    // unchecked entry, so map, map, check once leaves nothing unchecked
    const b = setup();
    b.d.debug_dma_map_phys(dev, 'linear', 0x9000n, 0x100n, TO, 0x9000n, 0, false);
    b.d.debug_dma_map_phys(dev, 'linear', 0x9000n, 0x100n, TO, 0x9000n, 0, false);
    b.d.debug_dma_mapping_error(dev, 0x9000n);
    b.d.debug_dma_unmap_phys(dev, 0x9000n, 0x100n, TO);
    b.d.debug_dma_unmap_phys(dev, 0x9000n, 0x100n, TO);
    assert.deepEqual(b.codes(), []);
  });

  test('8: with num_errors=1 only the first error prints; all_errors prints all', () => {
    const { d, codes } = setup();
    const dev = mkDev('nic');
    d.debug_dma_unmap_phys(dev, 0x1000n, 1n, TO);
    d.debug_dma_unmap_phys(dev, DMA_MAPPING_ERROR, 1n, TO);
    assert.deepEqual(codes(), ['DEBUG_FREE_NOT_ALLOCATED', 'DEBUG_FREE_INVALID_ADDRESS']);
    assert.deepEqual([d.stats.error_count, d.stats.printed, d.stats.num_errors], [2, 1, 0]);
    const all = setup({ all_errors: true });
    all.d.debug_dma_unmap_phys(dev, 0x1000n, 1n, TO);
    all.d.debug_dma_unmap_phys(dev, 0x2000n, 1n, TO);
    assert.deepEqual([all.d.stats.error_count, all.d.stats.printed], [2, 2]);
  });
});

describe('mapping-time checks (1-7)', () => {
  test('1: stack memory, linear and vmapped; clean memory is quiet', () => {
    const { d, codes, warn } = setup();
    const dev = mkDev('nic');
    d.debug_dma_map_phys(dev, 'stack', 0x7000n, 64n, TO, 0x7000n, 0, false);
    assert.match(warn.peek()[0].message, /maps memory from stack \[addr=0x7000\]/);
    d.debug_dma_map_phys(dev, 'vmap_stack', 0x8000n, 64n, TO, 0x8000n, 0, false);
    assert.match(warn.peek()[1].message, /\[probable addr=0x8000\]/);
    assert.deepEqual(codes(), ['DEBUG_MAP_FROM_STACK', 'DEBUG_MAP_FROM_STACK']);
    d.debug_dma_map_phys(dev, 'linear', 0x9000n, 64n, TO, 0x9000n, 0, false);
    assert.deepEqual(codes(), []);
    // sg: every input element is checked, even ones not mapped
    const sg = sgl([0x10000n, 64n], [0x20000n, 64n]);
    sg[1].mem = 'stack';
    d.debug_dma_map_sg(dev, 'linear', sg, 2, 1, TO, 0, false);
    assert.deepEqual(codes(), ['DEBUG_MAP_FROM_STACK']);
  });

  test('2: kernel text or rodata', () => {
    const { d, codes } = setup();
    const dev = mkDev('nic');
    d.debug_dma_map_phys(dev, 'text', 0x100000n, 64n, TO, 0x100000n, 0, false);
    d.debug_dma_map_phys(dev, 'rodata', 0x200000n, 64n, TO, 0x200000n, 0, false);
    d.debug_dma_map_sg(dev, 'rodata', sgl([0x300000n, 64n]), 1, 1, TO, 0, false);
    assert.deepEqual(codes(), ['DEBUG_MAP_KERNEL_TEXT', 'DEBUG_MAP_KERNEL_TEXT', 'DEBUG_MAP_KERNEL_TEXT']);
    d.debug_dma_map_phys(dev, 'linear', 0x400000n, 64n, TO, 0x400000n, 0, false);
    assert.deepEqual(codes(), []);
  });

  test('3, 4: dma_map_single pre-checks: invalid area; vmalloc is also not a valid linear address', () => {
    const { d, codes } = setup();
    const dev = mkDev('nic');
    d.debug_dma_map_single(dev, 'invalid', 0x1000n, 64n);
    assert.deepEqual(codes(), ['DEBUG_MAP_INVALID_AREA']);
    d.debug_dma_map_single(dev, 'vmalloc', 0x1000n, 64n);
    assert.deepEqual(codes(), ['DEBUG_MAP_INVALID_AREA', 'DEBUG_MAP_VMALLOC']);
    for (const mem of ['linear', 'stack', 'text'] as const) d.debug_dma_map_single(dev, mem, 0x1000n, 64n);
    assert.deepEqual(codes(), []);
    assert.equal(d.stats.live_entries, 0); // pre-checks record nothing
  });

  test('5: more than 7 overlaps of one cacheline: the counter stops at 7 and the limit warning fires', () => {
    const { d, codes, warn } = setup();
    const dev = mkDev('nic');
    for (let i = 0; i < 9; i++) mapChecked(d, dev, 0x4000_0000n + BigInt(i) * 0x1000n, 32n, FROM, 0, 0x2000_0000n);
    const got = codes();
    assert.equal(got.filter((c) => c === 'DEBUG_CACHELINE_OVERLAP').length, 8);
    assert.deepEqual(got.filter((c) => c === 'DEBUG_CACHELINE_OVERLAP_LIMIT'), ['DEBUG_CACHELINE_OVERLAP_LIMIT']);
    assert.equal(got.indexOf('DEBUG_CACHELINE_OVERLAP_LIMIT'), 7); // before the ninth map's EEXIST
    assert.equal(d.stats.error_count, 8); // WARN_ONCE is not err_printk
    assert.ok(d.stats.overlap_limit_warned);
    const key = d.view.cacheline_key(0x2000_0000n);
    assert.deepEqual({ ...d.view.cacheline(key) }, { cln: key, overlap: 7, live: 9, saturated: true });
    assert.deepEqual(d.view.self_check(), []);
    // the drift the kernel has: eight unmaps delete the key although one mapping is live
    for (let i = 0; i < 8; i++) d.debug_dma_unmap_phys(dev, 0x4000_0000n + BigInt(i) * 0x1000n, 32n, FROM);
    assert.deepEqual({ ...d.view.cacheline(key) }, { cln: key, overlap: -1, live: 1, saturated: true });
    assert.deepEqual(d.view.self_check(), []);
    // and a new mapping of that line is not an overlap any more
    mapChecked(d, dev, 0x5000_0000n, 32n, FROM, 0, 0x2000_0000n);
    assert.deepEqual(warn.drain().filter((w) => w.code === 'DEBUG_CACHELINE_OVERLAP'), []);
  });

  test('6, 7: sg segment too long and across the boundary; defaults when dma_parms are 0', () => {
    const { d, codes, warn } = setup();
    const dev = mkDev('nic', { max_segment_size: 4096n, segment_boundary_mask: 0xffffn });
    d.debug_dma_map_sg(dev, 'linear', sgl([0x100000n, 8192n]), 1, 1, TO, 0, false);
    assert.deepEqual(codes(), ['DEBUG_SG_SEGMENT_TOO_LONG']);
    d.debug_dma_map_sg(dev, 'linear', sgl([0x20ff00n, 0x200n]), 1, 1, TO, 0, false);
    assert.match(warn.peek()[0].message, /\[start=0x000000000020ff00\] \[end=0x00000000002100ff\] \[boundary=0x000000000000ffff\]/);
    assert.deepEqual(codes(), ['DEBUG_SG_SEGMENT_BOUNDARY']);
    d.debug_dma_map_sg(dev, 'linear', sgl([0x300000n, 4096n]), 1, 1, TO, 0, false);
    assert.deepEqual(codes(), []);
    const dflt = mkDev('dflt', { max_segment_size: 0n, segment_boundary_mask: 0n });
    d.debug_dma_map_sg(dflt, 'linear', sgl([0x400000n, 65536n], [0xff_ffff_f000n, 0x2000n]), 2, 2, TO, 0, false);
    assert.deepEqual(codes(), []);
    d.debug_dma_map_sg(dflt, 'linear', sgl([0x500000n, 65537n]), 1, 1, TO, 0, false);
    assert.deepEqual(codes(), ['DEBUG_SG_SEGMENT_TOO_LONG']);
    const off = setup({ debug_sg: false });
    off.d.debug_dma_map_sg(dev, 'linear', sgl([0x100000n, 8192n]), 1, 1, TO, 0, false);
    assert.deepEqual(off.codes(), []);
  });
});

describe('check_unmap (8-15)', () => {
  test('9: several candidates and no perfect fit → "not allocated"; the inner dma_mapping_error marks one', () => {
    const { d, codes } = setup();
    const dev = mkDev('nic');
    d.debug_dma_map_phys(dev, 'linear', 0x3000n, 0x100n, TO, 0x3000n, 0, false);
    d.debug_dma_map_phys(dev, 'linear', 0x3000n, 0x200n, FROM, 0x3000n, 0, false);
    assert.deepEqual(codes(), []); // (the second map's inner dma_mapping_error marked the first)
    d.debug_dma_unmap_phys(dev, 0x3000n, 0x300n, BIDI);
    assert.deepEqual(codes(), ['DEBUG_FREE_NOT_ALLOCATED']);
    assert.deepEqual([...d.view.entries()].map((e) => e.map_err_type), ['checked', 'checked']);
    d.debug_dma_unmap_phys(dev, 0x3000n, 0x100n, TO);
    d.debug_dma_unmap_phys(dev, 0x3000n, 0x200n, FROM);
    assert.deepEqual(codes(), []);
    // another device's entry at the same address is not a candidate
    d.debug_dma_map_phys(dev, 'linear', 0x3000n, 0x100n, TO, 0x3000n, 0, false);
    d.debug_dma_unmap_phys(mkDev('other'), 0x3000n, 0x100n, TO);
    assert.deepEqual(codes(), ['DEBUG_FREE_NOT_ALLOCATED']);
  });

  test('10, 14: size and direction differ: both reported, entry removed anyway', () => {
    const { d, codes } = setup();
    const dev = mkDev('nic');
    mapChecked(d, dev, 0x6000n, 0x1000n, TO);
    d.debug_dma_unmap_phys(dev, 0x6000n, 0x800n, FROM);
    assert.deepEqual(codes(), ['DEBUG_FREE_WRONG_SIZE', 'DEBUG_FREE_WRONG_DIRECTION']);
    assert.equal(d.stats.live_entries, 0);
    mapChecked(d, dev, 0x6000n, 0x1000n, TO);
    d.debug_dma_unmap_phys(dev, 0x6000n, 0x1000n, TO);
    assert.deepEqual(codes(), []);
  });

  test('11: wrong function (single vs resource, sg vs single); 6.12 cannot tell page from single', () => {
    const { d, codes, warn } = setup();
    const dev = mkDev('nic');
    mapChecked(d, dev, 0x6000n, 0x1000n, TO);
    d.debug_dma_unmap_resource(dev, 0x6000n, 0x1000n, TO);
    assert.match(warn.peek()[0].message, /\[mapped as single\] \[unmapped as resource\]/);
    assert.deepEqual(codes(), ['DEBUG_FREE_WRONG_FUNCTION']);
    const sg = sgl([0x7000n, 0x1000n]);
    d.debug_dma_map_sg(dev, 'linear', sg, 1, 1, TO, 0, false);
    d.debug_dma_unmap_phys(dev, 0x7000n, 0x1000n, TO);
    assert.deepEqual(codes(), ['DEBUG_FREE_WRONG_FUNCTION']);
  });

  test('12: coherent and noncoherent frees with a different CPU address', () => {
    const { d, codes } = setup();
    const dev = mkDev('nic');
    d.debug_dma_alloc_coherent(dev, 0x2000n, 0xa000n, 0x1a000n, 0);
    d.debug_dma_free_coherent(dev, 0x2000n, 0x1b000n, 0xa000n);
    assert.deepEqual(codes(), ['DEBUG_FREE_WRONG_CPU_ADDRESS']);
    d.debug_dma_alloc_pages(dev, 0x2c000n, 0x1000n, FROM, 0xc000n);
    d.debug_dma_free_pages(dev, 0x2d000n, 0x1000n, FROM, 0xc000n);
    assert.deepEqual(codes(), ['DEBUG_FREE_WRONG_CPU_ADDRESS']);
    d.debug_dma_alloc_coherent(dev, 0x2000n, 0xa000n, 0x1a000n, 0);
    d.debug_dma_free_coherent(dev, 0x2000n, 0x1a000n, 0xa000n);
    assert.deepEqual(codes(), []);
    // the CPU address check is skipped when the type already differs (else if)
    d.debug_dma_alloc_coherent(dev, 0x2000n, 0xa000n, 0x1a000n, 0);
    d.debug_dma_free_pages(dev, 0x99000n, 0x2000n, BIDI, 0xa000n);
    assert.deepEqual(codes(), ['DEBUG_FREE_WRONG_FUNCTION']);
  });

  test('13, 15: sg count and unchecked map error; sg and coherent entries never need the check', () => {
    const { d, codes } = setup();
    const dev = mkDev('nic');
    const sg = sgl([0x100000n, 0x1000n], [0x200000n, 0x1000n]);
    d.debug_dma_map_sg(dev, 'linear', sg, 2, 2, FROM, 0, false);
    d.debug_dma_unmap_sg(dev, sg, 2, FROM);
    d.debug_dma_alloc_coherent(dev, 0x1000n, 0x50000n, 0x50000n, 0);
    d.debug_dma_free_coherent(dev, 0x1000n, 0x50000n, 0x50000n);
    assert.deepEqual(codes(), []);
    d.debug_dma_map_resource(dev, 0xfe000000n, 0x1000n, FROM, 0xfe000000n, 0);
    d.debug_dma_unmap_resource(dev, 0xfe000000n, 0x1000n, FROM);
    assert.deepEqual(codes(), ['DEBUG_MAP_ERROR_NOT_CHECKED']);
  });

  test('sg unmap of a list that was never mapped checks every element', () => {
    const { d, codes } = setup();
    d.debug_dma_unmap_sg(mkDev('nic'), sgl([0x1000n, 64n], [0x2000n, 64n], [0x3000n, 64n]), 3, TO);
    assert.deepEqual(codes(), ['DEBUG_FREE_NOT_ALLOCATED', 'DEBUG_FREE_NOT_ALLOCATED', 'DEBUG_FREE_NOT_ALLOCATED']);
  });
});

describe('check_sync (16-21)', () => {
  test('17: "outside allocated range" is reachable only through u64 wrap-around', () => {
    const { d, codes } = setup();
    const dev = mkDev('nic');
    mapChecked(d, dev, 0x1000n, 0x1000n, BIDI);
    d.debug_dma_sync_single_for_cpu(dev, 0x1000n, 0x1001n, BIDI);
    assert.deepEqual(codes(), ['DEBUG_SYNC_NOT_ALLOCATED']);
    // 0x1800 + (2^64 - 0x1000) wraps to 0x800 <= 0x2000: "contained"
    d.debug_dma_sync_single_for_cpu(dev, 0x1800n, U64_MAX + 1n - 0x1000n, BIDI);
    assert.deepEqual(codes(), ['DEBUG_SYNC_OUTSIDE_RANGE']);
  });

  test('18-20: direction rules; BIDIRECTIONAL mappings skip them', () => {
    const { d, codes } = setup();
    const dev = mkDev('nic');
    mapChecked(d, dev, 0x40000n, 0x1000n, FROM);
    d.debug_dma_sync_single_for_device(dev, 0x40000n, 0x100n, TO);
    assert.deepEqual(codes(), ['DEBUG_SYNC_WRONG_DIRECTION', 'DEBUG_SYNC_DEVICE_WRITE_ONLY']);
    d.debug_dma_sync_single_for_device(dev, 0x40000n, 0x100n, BIDI);
    assert.deepEqual(codes(), ['DEBUG_SYNC_WRONG_DIRECTION', 'DEBUG_SYNC_DEVICE_WRITE_ONLY']);
    d.debug_dma_sync_single_for_device(dev, 0x40000n, 0x100n, FROM);
    d.debug_dma_sync_single_for_cpu(dev, 0x40000n, 0x100n, FROM);
    assert.deepEqual(codes(), []);
    mapChecked(d, dev, 0x50000n, 0x1000n, TO);
    d.debug_dma_sync_single_for_cpu(dev, 0x50000n, 0x100n, BIDI);
    assert.deepEqual(codes(), ['DEBUG_SYNC_WRONG_DIRECTION', 'DEBUG_SYNC_DEVICE_READ_ONLY']);
    d.debug_dma_sync_single_for_device(dev, 0x50000n, 0x100n, FROM);
    assert.deepEqual(codes(), ['DEBUG_SYNC_WRONG_DIRECTION']);
    mapChecked(d, dev, 0x60000n, 0x1000n, BIDI);
    d.debug_dma_sync_single_for_cpu(dev, 0x60000n, 0x100n, TO);
    d.debug_dma_sync_single_for_device(dev, 0x60000n, 0x100n, FROM);
    assert.deepEqual(codes(), []);
  });

  test('21: sg sync with a different nents; an sg list never mapped is silently accepted', () => {
    const { d, codes } = setup();
    const dev = mkDev('nic');
    const sg = sgl([0x100000n, 0x1000n], [0x200000n, 0x1000n], [0x300000n, 0x1000n]);
    d.debug_dma_map_sg(dev, 'linear', sg, 3, 3, FROM, 0, false);
    d.debug_dma_sync_sg_for_cpu(dev, sg, 3, FROM);
    d.debug_dma_sync_sg_for_device(dev, sg, 3, FROM);
    assert.deepEqual(codes(), []);
    d.debug_dma_sync_sg_for_cpu(dev, sg, 2, FROM);
    assert.deepEqual(codes(), ['DEBUG_SYNC_WRONG_SG_COUNT', 'DEBUG_SYNC_WRONG_SG_COUNT']);
    d.debug_dma_sync_sg_for_device(dev, sgl([0x900000n, 64n]), 1, TO);
    assert.deepEqual(codes(), []);
  });

  test('bucket_find_contain: the bucket nearest the address answers first; an ambiguous bucket is skipped', () => {
    const { d, codes } = setup();
    const dev = mkDev('nic');
    mapChecked(d, dev, 0x0n, 0x10000n, TO); // bucket 0
    mapChecked(d, dev, 0x2000n, 0x4000n, FROM); // bucket 1
    d.debug_dma_sync_single_for_cpu(dev, 0x3000n, 0x100n, FROM); // bucket 1 answers: FROM, fine
    assert.deepEqual(codes(), []);
    d.debug_dma_sync_single_for_cpu(dev, 0x3000n, 0x100n, TO); // judged against the FROM entry
    assert.deepEqual(codes(), ['DEBUG_SYNC_WRONG_DIRECTION']);
    // a second, different entry in bucket 1 makes that bucket ambiguous: the walk moves on to bucket 0
    mapChecked(d, dev, 0x2000n, 0x3000n, BIDI, 0, 0x9000_0000n);
    d.debug_dma_sync_single_for_cpu(dev, 0x3000n, 0x100n, FROM);
    assert.deepEqual(codes(), ['DEBUG_SYNC_WRONG_DIRECTION', 'DEBUG_SYNC_DEVICE_READ_ONLY']);
  });

  test('newest: the sync ref is type single, so two phy entries at one address are ambiguous', () => {
    const { d, codes } = setup({ linux: 'newest' });
    const dev = mkDev('nic');
    mapChecked(d, dev, 0x8000n, 0x1000n, FROM);
    d.debug_dma_sync_single_for_cpu(dev, 0x8000n, 0x1000n, FROM);
    assert.deepEqual(codes(), []);
    mapChecked(d, dev, 0x8000n, 0x1000n, FROM);
    d.debug_dma_sync_single_for_cpu(dev, 0x8000n, 0x1000n, FROM);
    assert.deepEqual(codes().filter((c) => c.startsWith('DEBUG_SYNC')), ['DEBUG_SYNC_NOT_ALLOCATED']);
  });
});

describe('lifetime (22), pool, disabling', () => {
  test('22: pending entries at unbind on PCI; the entries stay; platform devices are not watched', () => {
    const { d, codes, warn } = setup();
    const pci = mkDev('nic');
    mapChecked(d, pci, 0x1000n, 0x100n, TO);
    mapChecked(d, pci, 0x2000_0000n, 0x100n, FROM);
    d.debug_dma_device_removed(pci);
    // the last entry in hash order: bucket 0 (0x2000_0000 aliases to bucket 0, inserted later) wins
    assert.match(warn.peek()[0].message, /\[count=2\].*0x0000000020000000.*\[mapped with DMA_FROM_DEVICE\] \[mapped as single\]/);
    assert.deepEqual(codes(), ['DEBUG_LEAK_AT_REMOVE']);
    assert.equal(d.stats.live_entries, 2);
    const plat = mkDev('uart', { bus: 'platform' });
    mapChecked(d, plat, 0x5000n, 0x100n, TO);
    d.debug_dma_device_removed(plat);
    d.debug_dma_device_removed(mkDev('idle'));
    assert.deepEqual(codes(), []);
  });

  test('pool: entries round up to whole pages; growth by a page; min_free tracks the low mark', () => {
    const { d } = setup({ entries: 40 });
    assert.equal(d.stats.nr_total_entries, 64);
    const dev = mkDev('nic');
    for (let i = 0; i < 65; i++) mapChecked(d, dev, BigInt(i) * 0x1000n, 0x100n, TO);
    // the 64th map took the last free entry (min_free 0); the 65th grew the pool by a page
    assert.deepEqual([d.stats.nr_total_entries, d.stats.num_free_entries, d.stats.min_free_entries, d.stats.pool_growths], [96, 31, 0, 1]);
    d.debug_dma_unmap_phys(dev, 0n, 0x100n, TO);
    assert.deepEqual([d.stats.num_free_entries, d.stats.min_free_entries], [32, 0]);
    assert.equal(setup({ page_size: 16384, entries: 1 }).d.stats.nr_total_entries, 128);
    assert.equal(setup().d.stats.nr_total_entries, 65536);
    assert.throws(() => setup({ entries: 0 }), RangeError);
  });

  test('pool growth failure disables dma-debug; everything freezes (DBG-5)', () => {
    const { d, codes } = setup({ entries: 32, max_entries: 32 });
    const dev = mkDev('nic');
    for (let i = 0; i < 33; i++) d.debug_dma_map_phys(dev, 'linear', BigInt(i) * 0x1000n, 0x100n, TO, BigInt(i) * 0x1000n, 0, false);
    assert.deepEqual(codes(), ['DEBUG_DISABLED']);
    assert.ok(d.stats.disabled);
    const before = { ...d.stats, mutations: d.view.mutations };
    d.debug_dma_unmap_phys(dev, 0x77000n, 1n, TO);
    d.debug_dma_map_phys(dev, 'stack', 0x1000n, 0x100n, TO, 0x1000n, 0, false);
    d.debug_dma_sync_single_for_cpu(dev, 0x99000n, 1n, TO);
    d.debug_dma_device_removed(dev);
    d.debug_dma_map_single(dev, 'invalid', 0n, 1n);
    assert.deepEqual(codes(), []);
    assert.deepEqual({ ...d.stats, mutations: d.view.mutations }, before);
  });

  test('dma_debug=off records nothing', () => {
    const { d, codes } = setup({ disabled: true });
    const dev = mkDev('nic');
    d.debug_dma_map_phys(dev, 'stack', 0x1000n, 0x100n, TO, 0x1000n, 0, false);
    d.debug_dma_unmap_phys(dev, 0x2000n, 0x100n, TO);
    assert.deepEqual(codes(), []);
    assert.equal(d.stats.live_entries, 0);
  });
});

describe('overlap exemptions (check 5)', () => {
  const pair = (over: Partial<DmaDebugOptions>, a1: number, a2: number, swiotlb = false): string[] => {
    const { d, codes } = setup({ full_range_overlap: false, ...over });
    const dev = mkDev('nic');
    d.debug_dma_map_phys(dev, 'linear', 0x1000_0040n, 32n, FROM, 0xa000n, a1, swiotlb);
    d.debug_dma_map_phys(dev, 'linear', 0x1000_0060n, 32n, FROM, 0xb000n, a2, swiotlb);
    return codes();
  };
  const E = ['DEBUG_CACHELINE_OVERLAP'];

  test('CONFIG_DMA_BOUNCE_UNALIGNED_KMALLOC exempts only while swiotlb is active', () => {
    assert.deepEqual(pair({ bounce_unaligned_kmalloc: true }, 0, 0, true), []);
    assert.deepEqual(pair({ bounce_unaligned_kmalloc: true }, 0, 0, false), E);
    assert.deepEqual(pair({ bounce_unaligned_kmalloc: false }, 0, 0, true), E);
  });

  test('SKIP_CPU_SYNC counts for the new mapping only', () => {
    assert.deepEqual(pair({}, 0, SKIP), []);
    assert.deepEqual(pair({}, SKIP, 0), E);
  });

  test('newest: IGNORE_CACHELINES / REQUIRE_COHERENT on both; 6.12 ignores them; cache alignment below L1', () => {
    const nw = { linux: 'newest' as const };
    assert.deepEqual(pair(nw, IGNORE_CL, IGNORE_CL), []);
    assert.deepEqual(pair(nw, REQ_COH, IGNORE_CL), []);
    assert.deepEqual(pair(nw, 0, IGNORE_CL), E);
    assert.deepEqual(pair(nw, IGNORE_CL, 0), E);
    assert.deepEqual(pair({}, IGNORE_CL, IGNORE_CL), E);
    assert.deepEqual(pair({ ...nw, dma_cache_alignment: 1 }, 0, 0), []);
    assert.deepEqual(pair({ ...nw, dma_cache_alignment: 128 }, 0, 0), E);
    assert.deepEqual(pair({ dma_cache_alignment: 1 }, 0, 0), E); // 6.12 has no such condition
  });

  test('newest: a cache-clean mapping does not raise the limit warning', () => {
    const { d, codes } = setup({ linux: 'newest', full_range_overlap: false });
    const dev = mkDev('nic');
    for (let i = 0; i < 9; i++) d.debug_dma_map_phys(dev, 'linear', 0x3000_0000n, 16n, FROM, BigInt(i) * 0x1000n, IGNORE_CL, false);
    assert.deepEqual(codes(), []);
    assert.equal(d.stats.overlap_limit_warned, false);
  });
});

describe('full-range overlap verdict (model)', () => {
  test('0x1000_0000 size 128 and 0x1000_0040: the kernel is silent, the full-range verdict reports', () => {
    const { d, codes, warn } = setup();
    const dev = mkDev('nic');
    mapChecked(d, dev, 0x1000_0000n, 128n, FROM);
    mapChecked(d, dev, 0x1000_0040n, 64n, FROM);
    assert.match(warn.peek()[0].message, /shares cacheline 0x400001 with 1 live mapping/);
    assert.deepEqual(codes(), ['DEBUG_CACHELINE_OVERLAP_FULL']);
    assert.equal(d.stats.error_count, 0);
    assert.equal(d.stats.full_overlaps, 1);
    d.debug_dma_unmap_phys(dev, 0x1000_0000n, 128n, FROM);
    mapChecked(d, dev, 0x1000_0000n, 64n, FROM); // no longer touches 0x1000_0040
    assert.deepEqual(codes(), []);
  });

  test('pairs the kernel verdict covered are not repeated; uncovered partners are counted', () => {
    const { d, codes, warn } = setup();
    const dev = mkDev('nic');
    mapChecked(d, dev, 0x1000_0040n, 32n, FROM);
    mapChecked(d, dev, 0x1000_0060n, 32n, FROM);
    assert.deepEqual(codes(), ['DEBUG_CACHELINE_OVERLAP']);
    mapChecked(d, dev, 0x1000_0000n, 0x100n, FROM); // touches both, first line differs
    assert.match(warn.peek()[0].message, /with 2 live mapping/);
    assert.deepEqual(codes(), ['DEBUG_CACHELINE_OVERLAP_FULL']);
  });

  test('TO_DEVICE, SKIP_CPU_SYNC, resource and newest cache-clean pairs are not watched', () => {
    const dev = mkDev('nic');
    const second: ((d: DmaDebug) => void)[] = [
      (d) => mapChecked(d, dev, 0x1000_0040n, 64n, TO),
      (d) => mapChecked(d, dev, 0x1000_0040n, 64n, FROM, SKIP),
      (d) => d.debug_dma_map_resource(dev, 0x1000_0040n, 64n, FROM, 0x7000n, 0),
    ];
    for (const map2 of second) {
      const { d, codes } = setup();
      mapChecked(d, dev, 0x1000_0000n, 128n, FROM);
      map2(d);
      assert.deepEqual(codes(), []);
    }
    const nw = setup({ linux: 'newest' });
    mapChecked(nw.d, dev, 0x1000_0000n, 128n, FROM, IGNORE_CL);
    mapChecked(nw.d, dev, 0x1000_0040n, 64n, FROM, IGNORE_CL);
    assert.deepEqual(nw.codes(), []);
  });

  test('a wide mapping finds small ones anywhere inside it, and a small one finds the wide one', () => {
    const { d, codes, warn } = setup();
    const dev = mkDev('nic');
    for (let i = 0; i < 2000; i++) mapChecked(d, dev, 0x1_0000_0000n + BigInt(i) * 0x1000n, 0x800n, FROM, 0, 0x1000_0000n + BigInt(i) * 0x80000n);
    assert.deepEqual(codes(), []);
    d.debug_dma_alloc_coherent(dev, 1n << 30n, 0x2_0000_0000n, 0x1_0000_0000n, 0); // no overlap: above them all
    assert.deepEqual(codes(), []);
    d.debug_dma_alloc_coherent(dev, 2n << 30n, 0x3_0000_0000n, 0xc00_0000n, 0); // covers all 2000
    assert.match(warn.peek()[0].message, /with 2000 live mapping/);
    assert.deepEqual(codes(), ['DEBUG_CACHELINE_OVERLAP_FULL']);
    mapChecked(d, dev, 0x4_0000_0000n, 64n, FROM, 0, 0x1_2345_6740n); // inside the first coherent buffer
    assert.match(warn.peek()[0].message, /with 1 live mapping/);
    assert.deepEqual(codes(), ['DEBUG_CACHELINE_OVERLAP_FULL']);
    assert.deepEqual(d.view.self_check(), []);
  });

  test('an IOMMU-merged sg list is watched by its input segments, not by entry i paddr + segment i length', () => {
    // Two 4 KiB pages far apart merged into one 8 KiB IOVA segment: dma-debug records
    // entry 0 = paddr 0x1000_0000 with dma_length 0x2000, and no entry for 0x5000_0000.
    const merged: DebugSg[] = [
      { phys: 0x1000_0000n, length: 0x1000n, dma_address: 0xffff_e000n, dma_length: 0x2000n },
      { phys: 0x5000_0000n, length: 0x1000n, dma_address: 0n, dma_length: 0n },
    ];
    const { d, codes, warn } = setup();
    const dev = mkDev('gpu', { iommu: 'smmu' });
    d.debug_dma_map_sg(dev, 'linear', merged, 2, 1, FROM, 0, false);
    assert.deepEqual(codes(), []);
    // The page after the first segment is not the device's: no overlap (the old verdict reported one).
    mapChecked(d, dev, 0x1000_1000n, 64n, FROM);
    assert.deepEqual(codes(), []);
    // Inside the second input segment: a true overlap, caught although that segment has no entry.
    mapChecked(d, dev, 0x5000_0040n, 64n, FROM);
    assert.match(warn.peek()[0].message, /shares cacheline 0x1400001 with 1 live mapping\(s\), first \[device=gpu\] \[device address=0x00000000ffffe000\]/);
    assert.deepEqual(codes(), ['DEBUG_CACHELINE_OVERLAP_FULL']);
    assert.deepEqual(d.view.self_check(), []);
    // Unmapping the list stops watching both segments.
    d.debug_dma_unmap_sg(dev, merged, 2, FROM);
    mapChecked(d, dev, 0x1000_0000n, 64n, FROM);
    assert.deepEqual(codes(), []);
    assert.deepEqual(d.view.self_check(), []);
  });
});

describe('6.12 vs newest', () => {
  test('types: single/resource in 6.12, phy in newest', () => {
    for (const [linux, single, resource] of [['6.12', 'single', 'resource'], ['newest', 'phy', 'phy']] as const) {
      const { d } = setup({ linux });
      const dev = mkDev('nic');
      mapChecked(d, dev, 0x1000n, 64n, TO);
      d.debug_dma_map_resource(dev, 0xfe00_0000n, 64n, TO, 0xfe00_0000n, 0);
      assert.deepEqual(d.view.dump().map((e) => e.type), [single, resource]);
    }
  });

  test('6.12 records a failed dma_map_resource at DMA_MAPPING_ERROR; newest does not', () => {
    const old = setup();
    const dev = mkDev('nic');
    old.d.debug_dma_map_resource(dev, 0xfe00_0000n, 64n, TO, DMA_MAPPING_ERROR, 0);
    assert.equal(old.d.stats.live_entries, 1);
    // ...so unmapping the error value now finds that entry instead of "invalid address"
    old.d.debug_dma_unmap_phys(dev, DMA_MAPPING_ERROR, 64n, TO);
    assert.deepEqual(old.codes(), ['DEBUG_FREE_WRONG_FUNCTION', 'DEBUG_MAP_ERROR_NOT_CHECKED']);
    const nw = setup({ linux: 'newest' });
    nw.d.debug_dma_map_resource(dev, 0xfe00_0000n, 64n, TO, DMA_MAPPING_ERROR, 0);
    assert.equal(nw.d.stats.live_entries, 0);
  });

  test('newest: attrs that must match between map and unmap', () => {
    const { d, codes, warn } = setup({ linux: 'newest' });
    const dev = mkDev('nic');
    mapChecked(d, dev, 0x1000n, 64n, TO, DMA_ATTRS.DMA_ATTR_PRIVILEGED);
    d.debug_dma_unmap_phys(dev, 0x1000n, 64n, TO, 0);
    assert.match(warn.peek()[0].message, /\[mapped with 0x200\] \[unmapped with 0x0\]/);
    assert.deepEqual(codes(), ['DEBUG_FREE_WRONG_ATTRS']);
    mapChecked(d, dev, 0x1000n, 64n, TO, SKIP | DMA_ATTRS.DMA_ATTR_NO_WARN);
    d.debug_dma_unmap_phys(dev, 0x1000n, 64n, TO, 0);
    d.debug_dma_alloc_coherent(dev, 0x1000n, 0x5000n, 0x5000n, DMA_ATTRS.DMA_ATTR_NO_KERNEL_MAPPING);
    d.debug_dma_free_coherent(dev, 0x1000n, 0x5000n, 0x5000n, DMA_ATTRS.DMA_ATTR_NO_KERNEL_MAPPING);
    d.debug_dma_map_resource(dev, 0xfe00_0000n, 64n, TO, 0xfe00_0000n, 0);
    d.debug_dma_mapping_error(dev, 0xfe00_0000n);
    d.debug_dma_unmap_resource(dev, 0xfe00_0000n, 64n, TO);
    assert.deepEqual(codes(), []);
    // model: a caller that does not pass the unmap attrs gets no attrs verdict
    mapChecked(d, dev, 0x1000n, 64n, TO, DMA_ATTRS.DMA_ATTR_PRIVILEGED);
    d.debug_dma_unmap_phys(dev, 0x1000n, 64n, TO);
    assert.deepEqual(codes(), []);
    const old = setup();
    mapChecked(old.d, dev, 0x1000n, 64n, TO, DMA_ATTRS.DMA_ATTR_PRIVILEGED);
    old.d.debug_dma_unmap_phys(dev, 0x1000n, 64n, TO, 0);
    assert.deepEqual(old.codes(), []);
  });

  test('newest: MMIO skips the stack and text checks; RAM behind MMIO is reported when known', () => {
    const { d, codes } = setup({ linux: 'newest' });
    const dev = mkDev('nic');
    d.debug_dma_map_phys(dev, 'stack', 0x1000n, 64n, TO, 0x1000n, DMA_ATTRS.DMA_ATTR_MMIO, false);
    assert.deepEqual(codes(), []);
    d.debug_dma_map_resource(dev, 0x2000n, 64n, TO, 0x2000n, 0, false, true);
    assert.deepEqual(codes(), ['DEBUG_MAP_RESOURCE_RAM']);
    assert.equal(d.stats.error_count, 1);
  });
});

// ---- a naive transcription of the kernel's bucket lists, for the lookups --------------------

interface NEntry { dev: Device; addr: bigint; size: bigint; type: string; dir: DmaDirection; err: 'n' | 'c' }

class NaiveKernel {
  private readonly buckets: NEntry[][] = Array.from({ length: 16384 }, () => []);
  private static bucket = (a: bigint): number => Number((a >> 13n) & 0x3fffn);

  private mapping_error(dev: Device, addr: bigint): boolean {
    for (const e of this.buckets[NaiveKernel.bucket(addr)]) {
      if (e.addr === addr && e.dev === dev && e.err === 'n') {
        e.err = 'c';
        break;
      }
    }
    return addr === DMA_MAPPING_ERROR;
  }

  private find(list: readonly NEntry[], ref: NEntry, match: (e: NEntry) => boolean): NEntry | null {
    let ret: NEntry | null = null;
    let matches = 0;
    let last = -1;
    for (const e of list) {
      if (!match(e)) continue;
      matches++;
      const lvl = +(e.size === ref.size) + +(e.type === ref.type) + +(e.dir === ref.dir) + 1; // sg_call_ents: 0 both
      if (lvl === 4) return e;
      if (lvl > last) {
        last = lvl;
        ret = e;
      }
    }
    return matches === 1 ? ret : null;
  }

  map(dev: Device, addr: bigint, size: bigint, dir: DmaDirection): void {
    if (this.mapping_error(dev, addr)) return;
    this.buckets[NaiveKernel.bucket(addr)].push({ dev, addr, size, type: 'single', dir, err: 'n' });
  }

  check(dev: Device, addr: bigint): void {
    this.mapping_error(dev, addr);
  }

  unmap(dev: Device, addr: bigint, size: bigint, dir: DmaDirection): string[] {
    const ref: NEntry = { dev, addr, size, type: 'single', dir, err: 'n' };
    const list = this.buckets[NaiveKernel.bucket(addr)];
    const e = this.find(list, ref, (x) => x.addr === addr && x.dev === dev);
    if (!e) return [this.mapping_error(dev, addr) ? 'DEBUG_FREE_INVALID_ADDRESS' : 'DEBUG_FREE_NOT_ALLOCATED'];
    const out: string[] = [];
    if (e.size !== size) out.push('DEBUG_FREE_WRONG_SIZE');
    if (e.dir !== dir) out.push('DEBUG_FREE_WRONG_DIRECTION');
    if (e.err === 'n') out.push('DEBUG_MAP_ERROR_NOT_CHECKED');
    list.splice(list.indexOf(e), 1);
    return out;
  }

  sync(dev: Device, addr: bigint, size: bigint, dir: DmaDirection, to_cpu: boolean): string[] {
    const ref: NEntry = { dev, addr, size, type: 'single', dir, err: 'n' };
    const end = (addr + size) & U64_MAX;
    const contains = (x: NEntry): boolean => x.dev === dev && x.addr <= addr && ((x.addr + x.size) & U64_MAX) >= end;
    let idx = addr;
    const limit = Math.min(16384, Number(addr >> 13n) + 1);
    let e: NEntry | null = null;
    for (let i = 0; i < limit && !e; i++, idx -= 8192n) e = this.find(this.buckets[NaiveKernel.bucket(idx)], ref, contains);
    if (!e) return ['DEBUG_SYNC_NOT_ALLOCATED'];
    const out: string[] = [];
    if (size > e.size) out.push('DEBUG_SYNC_OUTSIDE_RANGE');
    if (e.dir === BIDI) return out;
    if (dir !== e.dir) out.push('DEBUG_SYNC_WRONG_DIRECTION');
    if (to_cpu && e.dir !== FROM && dir !== TO) out.push('DEBUG_SYNC_DEVICE_READ_ONLY');
    if (!to_cpu && e.dir !== TO && dir !== FROM) out.push('DEBUG_SYNC_DEVICE_WRITE_ONLY');
    return out;
  }

  live(): number {
    return this.buckets.reduce((n, b) => n + b.length, 0);
  }
}

const M128 = 1n << 27n;
const arbAddr = fc.oneof(
  fc.constantFrom(0n, 0x1000n, 0x1800n, 0x2000n, 0x3000n, 0x10000n, M128, M128 + 0x1000n, 2n * M128 + 0x2000n, 0xffff_ffff_ffff_f000n, DMA_MAPPING_ERROR),
  fc.bigInt({ min: 0n, max: 0x40000n }).map((x) => x & ~0xffn),
);
const arbSize = fc.constantFrom(0n, 1n, 0x100n, 0x800n, 0x1000n, 0x2000n, 0x3000n, 0x10000n, M128, M128 + 0x2000n, 1n << 40n, U64_MAX - 0x800n);
const arbDir = fc.constantFrom<DmaDirection>(TO, FROM, BIDI);

/** Either fresh values, or a earlier mapping picked by index, perturbed. */
interface Target { pick: number | null; addr: bigint; off: bigint; size: bigint | null; dir: DmaDirection | null }
type Cmd =
  | { k: 'map'; dev: number; addr: bigint; size: bigint; dir: DmaDirection }
  | { k: 'check'; dev: number; t: Target }
  | { k: 'unmap'; dev: number; t: Target }
  | { k: 'sync'; dev: number; t: Target; to_cpu: boolean };

const arbTarget: fc.Arbitrary<Target> = fc.record({
  pick: fc.option(fc.nat(), { freq: 4 }),
  addr: arbAddr,
  off: fc.constantFrom(0n, 0n, 0n, 0x100n, 0x1000n, 0x2000n),
  size: fc.option(arbSize, { freq: 2 }),
  dir: fc.option(arbDir, { freq: 2 }),
});
const arbCmd: fc.Arbitrary<Cmd> = fc.oneof(
  fc.record({ k: fc.constant('map' as const), dev: fc.nat(1), addr: arbAddr, size: arbSize, dir: arbDir }),
  fc.record({ k: fc.constant('check' as const), dev: fc.nat(1), t: arbTarget }),
  fc.record({ k: fc.constant('unmap' as const), dev: fc.nat(1), t: arbTarget }),
  fc.record({ k: fc.constant('sync' as const), dev: fc.nat(1), t: arbTarget, to_cpu: fc.boolean() }),
);

const LOOKUP_CODES = new Set<string>([
  'DEBUG_FREE_INVALID_ADDRESS', 'DEBUG_FREE_NOT_ALLOCATED', 'DEBUG_FREE_WRONG_SIZE', 'DEBUG_FREE_WRONG_DIRECTION', 'DEBUG_MAP_ERROR_NOT_CHECKED',
  'DEBUG_SYNC_NOT_ALLOCATED', 'DEBUG_SYNC_OUTSIDE_RANGE', 'DEBUG_SYNC_WRONG_DIRECTION', 'DEBUG_SYNC_DEVICE_READ_ONLY', 'DEBUG_SYNC_DEVICE_WRITE_ONLY',
]);

describe('properties', () => {
  test('lookups agree with a naive transcription of the kernel bucket lists', () => {
    fc.assert(
      fc.property(fc.array(arbCmd, { minLength: 10, maxLength: 100 }), (cmds) => {
        const { d, warn } = setup({ full_range_overlap: false });
        const devs = [mkDev('a'), mkDev('b')];
        const k = new NaiveKernel();
        const hist: { addr: bigint; size: bigint; dir: DmaDirection }[] = [];
        const resolve = (t: Target): { addr: bigint; size: bigint; dir: DmaDirection } => {
          const h = t.pick !== null && hist.length ? hist[t.pick % hist.length] : { addr: t.addr, size: 0x1000n, dir: TO };
          return { addr: (h.addr + t.off) & U64_MAX, size: t.size ?? h.size, dir: t.dir ?? h.dir };
        };
        for (const c of cmds) {
          const dev = devs[c.dev];
          let want: string[] = [];
          if (c.k === 'map') {
            d.debug_dma_map_phys(dev, 'linear', c.addr, c.size, c.dir, c.addr, 0, false);
            k.map(dev, c.addr, c.size, c.dir);
            hist.push(c);
          } else if (c.k === 'check') {
            const r = resolve(c.t);
            d.debug_dma_mapping_error(dev, r.addr);
            k.check(dev, r.addr);
          } else if (c.k === 'unmap') {
            const r = resolve(c.t);
            d.debug_dma_unmap_phys(dev, r.addr, r.size, r.dir);
            want = k.unmap(dev, r.addr, r.size, r.dir);
          } else {
            const r = resolve(c.t);
            if (c.to_cpu) d.debug_dma_sync_single_for_cpu(dev, r.addr, r.size, r.dir);
            else d.debug_dma_sync_single_for_device(dev, r.addr, r.size, r.dir);
            want = k.sync(dev, r.addr, r.size, r.dir, c.to_cpu);
          }
          const got = warn.drain().map((w) => w.code).filter((x) => LOOKUP_CODES.has(x));
          assert.deepEqual(got, want, JSON.stringify(c, (_, v: unknown) => (typeof v === 'bigint' ? `0x${v.toString(16)}` : v)));
          assert.equal(d.stats.live_entries, k.live());
        }
      }),
      { numRuns: 300 },
    );
  });

  const arbMem = fc.constantFrom('linear' as const, 'linear' as const, 'stack' as const);
  const arbPhys = fc.integer({ min: 0, max: 40 }).map((i) => 0x1000_0000n + BigInt(i) * 0x20n);
  const arbOp = fc.oneof(
    fc.record({ k: fc.constant('map' as const), dev: fc.nat(2), phys: arbPhys, size: fc.constantFrom(0n, 1n, 32n, 64n, 200n, 0x1000n), dir: arbDir, attrs: fc.constantFrom(0, 0, SKIP, IGNORE_CL), check: fc.boolean(), mem: arbMem }),
    fc.record({ k: fc.constant('unmap' as const), pick: fc.nat(), size_delta: fc.constantFrom(0n, 0n, 0n, 1n), dir: fc.option(arbDir) }),
    fc.record({ k: fc.constant('sg' as const), dev: fc.nat(2), phys: arbPhys, n: fc.integer({ min: 1, max: 4 }), mapped: fc.integer({ min: 1, max: 4 }), dir: arbDir }),
    fc.record({ k: fc.constant('unsg' as const), pick: fc.nat(), nelems_delta: fc.constantFrom(0, 0, -1, 1) }),
    fc.record({ k: fc.constant('coherent' as const), dev: fc.nat(2), phys: arbPhys }),
    fc.record({ k: fc.constant('sync' as const), pick: fc.nat(), dir: arbDir, to_cpu: fc.boolean() }),
    fc.record({ k: fc.constant('remove' as const), dev: fc.nat(2) }),
    fc.record({ k: fc.constant('disable' as const), odds: fc.nat(60) }),
  );

  test('DBG-1..5 hold after a random sequence (with misuse, overlaps, sg, coherent, disabling)', () => {
    fc.assert(
      fc.property(fc.array(arbOp, { minLength: 20, maxLength: 120 }), fc.constantFrom('6.12' as const, 'newest' as const), (ops, linux) => {
        // two entries a page, so the pool grows often
        const { d, warn } = setup({ linux, entries: 2, page_size: 256 });
        const devs = [mkDev('a'), mkDev('b'), mkDev('c', { bus: 'platform' })];
        let next = 0x1_0000_0000n;
        /** What the driver believes is mapped: for DBG-1 accounting. */
        const singles: { dev: Device; addr: bigint; size: bigint; dir: DmaDirection; kind: 'single' | 'coherent'; phys: bigint }[] = [];
        const sgs: { dev: Device; sg: DebugSg[]; nents: number; dir: DmaDirection }[] = [];
        let shadow = 0;
        let last_errors = 0;
        for (const op of ops) {
          const was_disabled = d.stats.disabled;
          const before = { live: d.stats.live_entries, mutations: d.view.mutations };
          if (op.k === 'map') {
            const addr = (next += 0x10000n);
            d.debug_dma_map_phys(devs[op.dev], op.mem, op.phys, op.size, op.dir, addr, op.attrs, false);
            if (op.check) d.debug_dma_mapping_error(devs[op.dev], addr);
            singles.push({ dev: devs[op.dev], addr, size: op.size, dir: op.dir, kind: 'single', phys: op.phys });
            if (!was_disabled) shadow++;
          } else if (op.k === 'coherent') {
            const addr = (next += 0x10000n);
            d.debug_dma_alloc_coherent(devs[op.dev], 0x1000n, addr, op.phys, 0);
            singles.push({ dev: devs[op.dev], addr, size: 0x1000n, dir: BIDI, kind: 'coherent', phys: op.phys });
            if (!was_disabled) shadow++;
          } else if (op.k === 'unmap' && singles.length) {
            const [m] = singles.splice(op.pick % singles.length, 1);
            const dir = op.dir ?? m.dir;
            if (m.kind === 'coherent') d.debug_dma_free_coherent(m.dev, m.size + op.size_delta, m.phys, m.addr);
            else d.debug_dma_unmap_phys(m.dev, m.addr, m.size + op.size_delta, dir);
          } else if (op.k === 'sg') {
            const sg: DebugSg[] = [];
            for (let i = 0; i < op.n; i++) {
              const a = (next += 0x10000n);
              sg.push({ phys: op.phys + BigInt(i) * 0x40n, length: 0x40n, dma_address: a, dma_length: 0x40n });
            }
            const mapped = Math.min(op.mapped, op.n);
            d.debug_dma_map_sg(devs[op.dev], 'linear', sg, op.n, mapped, op.dir, 0, false);
            sgs.push({ dev: devs[op.dev], sg, nents: op.n, dir: op.dir });
            if (!was_disabled) shadow += mapped;
          } else if (op.k === 'unsg' && sgs.length) {
            const [s] = sgs.splice(op.pick % sgs.length, 1);
            d.debug_dma_unmap_sg(s.dev, s.sg, Math.max(1, s.nents + op.nelems_delta), s.dir);
          } else if (op.k === 'sync' && singles.length) {
            const m = singles[op.pick % singles.length];
            if (op.to_cpu) d.debug_dma_sync_single_for_cpu(m.dev, m.addr, m.size, op.dir);
            else d.debug_dma_sync_single_for_device(m.dev, m.addr, m.size, op.dir);
          } else if (op.k === 'remove') {
            d.debug_dma_device_removed(devs[op.dev]);
          } else if (op.k === 'disable' && op.odds === 0) {
            d.disable('test fault hook');
          }
          const w = warn.drain();
          // DBG-2: each check_unmap that finds an entry removes exactly one
          const misses = w.filter((x) => x.code === 'DEBUG_FREE_NOT_ALLOCATED' || x.code === 'DEBUG_FREE_INVALID_ADDRESS').length;
          const removed = before.live - d.stats.live_entries;
          if (!was_disabled && op.k === 'unmap' && singles.length + 1 > 0 && (misses > 0 || removed > 0)) {
            assert.equal(removed, misses === 0 ? 1 : 0, 'one check_unmap removes one entry, or none when it finds none');
          }
          if (!was_disabled && op.k === 'unsg') assert.ok(removed >= 0);
          if (!was_disabled && (op.k === 'unmap' || op.k === 'unsg')) shadow -= removed;
          if (op.k !== 'unmap' && op.k !== 'unsg') assert.ok(removed <= 0, 'only unmaps remove entries');
          assert.ok(d.stats.error_count >= last_errors, 'error_count never decreases');
          last_errors = d.stats.error_count;
          // DBG-1 (as counts: one entry per recorded mapping still live)
          if (!d.stats.disabled) assert.equal(d.stats.live_entries, shadow);
          // DBG-3, DBG-4 and index consistency
          assert.deepEqual(d.view.self_check(), []);
          // DBG-5: once disabled, nothing changes
          if (was_disabled) {
            assert.deepEqual(w, []);
            assert.equal(d.view.mutations, before.mutations);
            assert.equal(d.stats.live_entries, before.live);
          }
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe('scale', () => {
  test('map+unmap through the checker stays fast at 100k live entries', () => {
    const { d, warn } = setup();
    const dev = mkDev('nic');
    const N = 100_000;
    for (let i = 0; i < N; i++) {
      const a = 0x1_0000_0000n + BigInt(i) * 0x1000n;
      mapChecked(d, dev, a, 0x800n, i & 1 ? FROM : TO);
    }
    assert.equal(warn.drain().length, 0);
    const R = 50_000;
    const t0 = process.hrtime.bigint();
    for (let r = 0; r < R; r++) {
      const a = 0x9_0000_0000n + BigInt(r & 1023) * 0x1000n;
      mapChecked(d, dev, a, 0x1000n, r & 1 ? FROM : TO);
      d.debug_dma_sync_single_for_cpu(dev, a + 0x100n, 0x100n, r & 1 ? FROM : TO);
      d.debug_dma_unmap_phys(dev, a, 0x1000n, r & 1 ? FROM : TO);
    }
    const ns = Number(process.hrtime.bigint() - t0) / R;
    assert.equal(warn.drain().length, 0);
    assert.equal(d.stats.live_entries, N);
    // generous bound for slow CI; typically ~0.5-0.7 µs for map + check + sync + unmap
    assert.ok(ns < 10_000, `map+check+sync+unmap took ${ns.toFixed(0)} ns`);
  });
});
