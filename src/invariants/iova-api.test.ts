/**
 * The IOVA-based API under the invariants (iommu.md §3.11, §3.13 I-D1..I-D5, I-D11, I-D12, §6.3, §6.5):
 * IOVA-API-* silent on clean sequences (strict and lazy domains, bouncing, the destroy quirk, misuse the
 * model refuses) and firing on planted faults or corrupted model state; and the allocator and granule
 * invariants (IOVA-STATES, IOVA-NO-LOST-RANGES, DMA-IOMMU-NO-SHARED-GRANULE) following the states' IOVA.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DMA_IOVA_USE_SWIOTLB, newIovaState } from '../iommu/dma-iova';
import { IOMMU_READ, IOMMU_WRITE, newGather } from '../iommu/io-pgtable';
import { Session } from './session';
import { PLATFORM, fired, holdsThenFires, magazine } from './iommu-kit';

const DEV = (mode: string, extra = ''): string[] => [PLATFORM, `the kernel calls iommu_add with name smmu mode ${mode}`, `a device "nic" with iommu smmu dma_mask DMA_BIT_MASK(64)${extra}`];
const UNTRUSTED = ' untrusted true min_align_mask 0xFFF';
const DIR = 'DMA_BIDIRECTIONAL';
const ALLOC = (st: string, phys: string, size: string): string => `"nic" calls dma_iova_try_alloc with state ${st} phys ${phys} size ${size}`;
const LINK = (st: string, phys: string, off: string, size: string): string => `"nic" calls dma_iova_link with state ${st} phys ${phys} offset ${off} size ${size} dir ${DIR}`;
const SYNC = (st: string, size: string): string => `"nic" calls dma_iova_sync with state ${st} offset 0 size ${size}`;
const UNLINK = (st: string, off: string, size: string): string => `"nic" calls dma_iova_unlink with state ${st} offset ${off} size ${size} dir ${DIR}`;
const DESTROY = (st: string, len: string): string => `"nic" calls dma_iova_destroy with state ${st} mapped_len ${len} dir ${DIR}`;
const FREE = (st: string): string => `"nic" calls dma_iova_free with state ${st}`;
const READ = (st: string, off = '0'): string => `"nic" calls device_read with dma_addr $${st}+${off} size 16`;
const WRITE = (st: string, off = '0'): string => `"nic" calls device_write with dma_addr $${st}+${off} data {len 16, seed 7}`;
const TIMEOUT = 'the kernel calls advance_time with ms 11';

/** Three links back to back (the first 0x200 into a granule, the last ending part-way), synced and used. */
const IO = (st: string, phys = '0x1234_5200'): string[] => [
  ALLOC(st, phys, '0x5000'), LINK(st, phys, '0', '0xe00'), LINK(st, '0x2000_0000', '0xe00', '0x2000'), LINK(st, '0x3000_0000', '0x2e00', '0x1234'),
  SYNC(st, '0x5000'), READ(st, '0x10'), WRITE(st, '0xe00'), READ(st, '0x3000'),
];
const IO_LEN = '0x4034';

const dom = (s: Session) => s.platform.iommu.domains.get('nic')!;
const state = (s: Session, name: string) => s.platform.iova_states.get(name)!;

// ---- clean ------------------------------------------------------------------------------------

test('clean IOVA-API traffic on strict and lazy domains, trusted and bouncing: every invariant holds', () => {
  for (const mode of ['strict', 'lazy']) {
    for (const extra of ['', UNTRUSTED, ' coherent false bus platform']) {
      if (mode === 'lazy' && extra === UNTRUSTED) continue; // untrusted devices always get a strict domain
      const s = new Session();
      s.run(...DEV(mode, extra), ...IO('a'),
        'the kernel calls dma_use_iova with state a', 'the kernel calls dma_iova_size with state a',
        // Dynamic use: unlink the last link, link something else there, unlink all, free.
        UNLINK('a', '0x2e00', '0x1234'), READ('a', '0x100'), LINK('a', '0x4000_0000', '0x2e00', '0x800'), SYNC('a', '0x5000'), READ('a', '0x2e00'),
        UNLINK('a', '0', '0xe00'), UNLINK('a', '0xe00', '0x2000'), UNLINK('a', '0x2e00', '0x800'), FREE('a'),
        'the kernel calls dma_use_iova with state a', 'the kernel calls dma_iova_size with state a',
        // One-shot: destroy the whole I/O; a second one reuses the IOVA (strict: at once; lazy: after the timeout).
        ...IO('b'), DESTROY('b', IO_LEN), TIMEOUT, ...IO('c', '0x1_2000_0200'), DESTROY('c', IO_LEN), TIMEOUT,
        '"nic" calls dma_map_phys with phys 0x5000_0000 size 0x3000 dir DMA_TO_DEVICE as m', '"nic" calls dma_unmap_phys with dma_addr $m size 0x3000 dir DMA_TO_DEVICE', TIMEOUT);
      assert.deepEqual(s.fired(), [], `${mode}${extra}\n${s.report()}`);
      if (extra === UNTRUSTED) assert.equal(state(s, 'a').__size & DMA_IOVA_USE_SWIOTLB, DMA_IOVA_USE_SWIOTLB, 'the head and tail bounced');
    }
  }
});

test('the destroy quirk: a shorter mapped_len files the pfn under a smaller class, and its bigger node serves later requests without alarm', () => {
  for (const mode of ['strict', 'lazy']) {
    const s = new Session();
    s.run(...DEV(mode), ALLOC('a', '0', '0x4000'), LINK('a', '0x1000_0000', '0', '0x1000'), SYNC('a', '0x4000'), READ('a'), DESTROY('a', '0x1000'), TIMEOUT);
    const h = state(s, 'a').addr;
    // The 4-pfn node now sits in the 1-pfn class: a 1-page map gets it, and frees it there again.
    s.run('"nic" calls dma_map_phys with phys 0x2000_0000 size 0x1000 dir DMA_TO_DEVICE as m');
    assert.equal(s.last!.result.ok && s.last!.result.values.dma_addr, h);
    s.run('"nic" calls dma_unmap_phys with dma_addr $m size 0x1000 dir DMA_TO_DEVICE', TIMEOUT, ALLOC('b', '0', '0x1000'));
    assert.equal(state(s, 'b').addr, h);
    s.run(LINK('b', '0x3000_0000', '0', '0x1000'), SYNC('b', '0x1000'), READ('b'), DESTROY('b', '0x1000'), TIMEOUT,
      `the kernel calls find_iova with domain nic pfn ${h >> 12n}`);
    assert.equal(s.last!.result.ok && s.last!.result.values.pfn_hi, (h >> 12n) + 3n, 'the node kept its 4 pfns');
    assert.deepEqual(s.fired(), [], `${mode}\n${s.report()}`);
  }
});

test('misuse the model refuses, and the kernel\'s -EEXIST, raise no violation', () => {
  for (const mode of ['strict', 'lazy']) {
    const s = new Session();
    s.run(...DEV(mode), 'a device "other" with iommu smmu dma_mask DMA_BIT_MASK(64)', ...IO('a'),
      LINK('a', '0x5000_0000', '0xe00', '0x1000'), // over an earlier link: -EEXIST, nothing changes
      LINK('a', '0x5000_0000', '0x4e00', '0x1000'), // past the allocation: refused
      LINK('a', '0x5000_0200', '0x4e00', '0x100'), // unaligned phys at offset > 0: -EIO
      '"other" calls dma_iova_link with state a phys 0x5000_0000 offset 0x4000 size 0x100 dir DMA_TO_DEVICE', // wrong device
      FREE('a'), // links remain: refused
      DESTROY('a', '0x1000'), // shorter than the links: refused
      UNLINK('a', '0x1000', '0x1000'), // cuts the middle link: the checkers stop following the domain
      READ('a', '0xe00'));
    assert.deepEqual(s.fired(), [], `${mode}\n${s.report()}`);
    const t = new Session();
    t.run(...DEV(mode), ...IO('a'), DESTROY('a', IO_LEN),
      LINK('a', '0x5000_0000', '0x4000', '0x100'), UNLINK('a', '0', '0x1000'), DESTROY('a', IO_LEN), FREE('a'), // use after free: refused
      ALLOC('b', '0', '0x2000'), LINK('b', '0x5000_0000', '0', '0x2000'), ALLOC('b', '0', '0x1000'), // b's first IOVA is orphaned, still linked
      'a device "old" with dma_mask DMA_BIT_MASK(32)', '"old" calls dma_iova_try_alloc with state d phys 0 size 0x1000', // no IOMMU-DMA: false
      '"old" calls dma_iova_link with state d phys 0x1000 offset 0 size 0x1000 dir DMA_TO_DEVICE', 'the kernel calls dma_use_iova with state d',
      '"nic" calls dma_iova_try_alloc with state e phys 0 size 0', // size 0: false
      'the kernel calls dma_use_iova with state b', TIMEOUT);
    assert.deepEqual(t.fired(), [], `${mode}\n${t.report()}`);
  }
});

// ---- IOVA-API-LINKS-TRANSLATE -----------------------------------------------------------------

test('IOVA-API-LINKS-TRANSLATE: a link that drops the head pad from its length loses its last granule', () => {
  const s = holdsThenFires('IOVA-API-LINKS-TRANSLATE', [...DEV('strict'), ALLOC('a', '0x1234_5200', '0x1000'), LINK('a', '0x1234_5200', '0', '0x1000'), SYNC('a', '0x1000')], ['iova-link-drops-head-pad']);
  assert.ok(s.report('IOVA-API-LINKS-TRANSLATE').includes('has no leaf'), s.report());
});

test('IOVA-API-LINKS-TRANSLATE: a link placed without its offset leaves its own IOVA unmapped', () => {
  holdsThenFires('IOVA-API-LINKS-TRANSLATE', [...DEV('lazy'), ALLOC('a', '0', '0x4000'), LINK('a', '0x2000_0000', '0x2000', '0x2000')], ['iova-link-ignores-offset']);
});

test('IOVA-API-LINKS-TRANSLATE: a linked granule remapped behind the API\'s back shows at the next dma_iova_sync', () => {
  const s = new Session();
  s.run(...DEV('strict'), ...IO('a'));
  assert.deepEqual(s.fired(), [], s.report());
  const pt = dom(s).domain.pgtbl!;
  const iova = state(s, 'a').addr + 0xe00n; // the second link, 0x2000_0000
  pt.unmap_pages(iova, 0x1000n, 1n, newGather());
  pt.map_pages(iova, 0x6000_0000n, 0x1000n, 1n, IOMMU_READ | IOMMU_WRITE);
  s.run(SYNC('a', '0x5000'));
  fired(s, 'IOVA-API-LINKS-TRANSLATE');
  assert.ok(s.report('IOVA-API-LINKS-TRANSLATE').includes('0x60000000'), s.report());
});

test('IOVA-API-LINKS-TRANSLATE: a bounced head whose slot holds other bytes', () => {
  const s = new Session();
  s.run(...DEV('strict', UNTRUSTED), ALLOC('a', '0x1234_5200', '0x3000'));
  // Corruption: swiotlb fills the slot from the byte after the driver's.
  const pool = s.platform.swiotlb!;
  const real = pool.swiotlb_tbl_map_single.bind(pool);
  pool.swiotlb_tbl_map_single = (dev, orig, ...rest) => real(dev, orig + 0x1000n, ...rest);
  s.run(LINK('a', '0x1234_5200', '0', '0x2e00'));
  assert.equal(s.last!.result.ok, true);
  fired(s, 'IOVA-API-LINKS-TRANSLATE');
  assert.ok(s.report('IOVA-API-LINKS-TRANSLATE').includes('bounce slot'), s.report());
});

// ---- IOVA-API-NOTHING-ELSE --------------------------------------------------------------------

test('IOVA-API-NOTHING-ELSE: a link placed without its offset translates IOVA nothing was linked to', () => {
  const s = holdsThenFires('IOVA-API-NOTHING-ELSE', [...DEV('strict'), ALLOC('a', '0', '0x4000'), LINK('a', '0x2000_0000', '0x2000', '0x2000'), SYNC('a', '0x4000')], ['iova-link-ignores-offset']);
  assert.ok(s.report('IOVA-API-NOTHING-ELSE').includes('nothing maps it'), s.report());
});

test('IOVA-API-NOTHING-ELSE: a stray translation in the allocation shows at sync and at dma_iova_free', () => {
  const s = new Session();
  s.run(...DEV('strict'), ALLOC('a', '0', '0x4000'), LINK('a', '0x2000_0000', '0', '0x1000'));
  dom(s).domain.pgtbl!.map_pages(state(s, 'a').addr + 0x3000n, 0x7000_0000n, 0x1000n, 1n, IOMMU_READ); // corruption
  s.run(SYNC('a', '0x4000'));
  fired(s, 'IOVA-API-NOTHING-ELSE');
  const t = new Session();
  t.run(...DEV('strict'), ALLOC('a', '0', '0x4000'), LINK('a', '0x2000_0000', '0', '0x1000'), UNLINK('a', '0', '0x1000'));
  dom(t).domain.pgtbl!.map_pages(state(t, 'a').addr + 0x2000n, 0x7000_0000n, 0x1000n, 1n, IOMMU_READ); // corruption
  t.run(FREE('a'));
  fired(t, 'IOVA-API-NOTHING-ELSE');
});

// ---- IOVA-API-REVOKED -------------------------------------------------------------------------

test('IOVA-API-REVOKED: dma_iova_unlink without the IOTLB sync', () => {
  for (const mode of ['strict', 'lazy']) {
    const s = holdsThenFires('IOVA-API-REVOKED', [...DEV(mode), ...IO('a'), UNLINK('a', '0xe00', '0x2000')], ['iova-unlink-no-sync']);
    assert.ok(s.report('IOVA-API-REVOKED').includes('IOTLB entries still covering'), s.report()); // the WRITE at 0xe00 cached it
    // No device access, so nothing is cached: the missing sync still shows.
    holdsThenFires('IOVA-API-REVOKED', [...DEV(mode), ALLOC('a', '0', '0x2000'), LINK('a', '0x2000_0000', '0', '0x2000'), UNLINK('a', '0', '0x2000')], ['iova-unlink-no-sync']);
  }
});

test('IOVA-API-REVOKED: a strict destroy whose IOTLB invalidation is lost', () => {
  const s = new Session();
  s.run(...DEV('strict'), ...IO('a'));
  dom(s).domain.iotlb!.invalidate_range = () => 0; // corruption: the IOTLB ignores range invalidations
  s.run(DESTROY('a', IO_LEN));
  fired(s, 'IOVA-API-REVOKED');
  assert.ok(s.report('IOVA-API-REVOKED').includes('dma_iova_destroy'), s.report());
});

test('IOVA-API-REVOKED: a lazy destroy that skips the flush queue hands stale IOVA to the next try_alloc', () => {
  const steps = [...DEV('lazy'), ALLOC('a', '0', '0x1000'), LINK('a', '0x1234_5000', '0', '0x1000'), READ('a'), DESTROY('a', '0x1000'), ALLOC('b', '0', '0x1000')];
  const s = holdsThenFires('IOVA-API-REVOKED', steps, ['iova-destroy-bypasses-fq']);
  assert.ok(s.report('IOVA-API-REVOKED').includes('stale IOTLB'), s.report());
  fired(s, 'IOVA-STATES'); // live → free without passing the flush queue
});

test('IOVA-API-REVOKED: a destroyed IOVA leaving the flush queue without a real flush', () => {
  const steps = [...DEV('lazy'), ALLOC('a', '0', '0x1000'), LINK('a', '0x1234_5000', '0', '0x1000'), READ('a'), DESTROY('a', '0x1000'), TIMEOUT, ALLOC('b', '0', '0x1000')];
  holdsThenFires('IOVA-API-REVOKED', steps, ['lazy-unmap-no-invalidate']);
  holdsThenFires('IOVA-API-REVOKED', [...DEV('lazy'), ...IO('a'), DESTROY('a', IO_LEN), ...IO('b'), DESTROY('b', IO_LEN), ALLOC('c', '0', '0x1000')], ['fq-retire-before-flush']);
});

// ---- IOVA-API-STATE ---------------------------------------------------------------------------

test('IOVA-API-STATE: a destroy that clears the state (dma_use_iova must stay true)', () => {
  const s = holdsThenFires('IOVA-API-STATE', [...DEV('strict'), ...IO('a'), DESTROY('a', IO_LEN), 'the kernel calls dma_use_iova with state a'], ['iova-destroy-clears-state']);
  assert.ok(s.report('IOVA-API-STATE').includes('dma_use_iova'), s.report());
});

test('IOVA-API-STATE: dma_iova_size must mask DMA_IOVA_USE_SWIOTLB, and the bit must mean a link bounced', () => {
  const s = new Session();
  s.run(...DEV('strict', UNTRUSTED), ...IO('a'), 'the kernel calls dma_iova_size with state a');
  assert.equal(s.last!.result.ok && s.last!.result.values.size, 0x5000n);
  assert.deepEqual(s.fired(), [], s.report());
  state(s, 'a').__size &= ~DMA_IOVA_USE_SWIOTLB; // corruption: the bounce flag is lost
  s.run('the kernel calls dma_use_iova with state a');
  fired(s, 'IOVA-API-STATE');
  const t = new Session();
  t.run(...DEV('strict'), ...IO('a'));
  state(t, 'a').__size += 0x1000n; // corruption: the size changes under the driver
  t.run('the kernel calls dma_iova_size with state a');
  fired(t, 'IOVA-API-STATE');
  assert.ok(t.report('IOVA-API-STATE').includes('try_alloc size'), t.report());
});

test('IOVA-API-STATE: state.addr keeps phys\'s offset in its granule', () => {
  const s = new Session();
  s.run(...DEV('strict'), ALLOC('a', '0x1234_5200', '0x1000'));
  assert.equal(state(s, 'a').addr & 0xfffn, 0x200n);
  assert.deepEqual(s.fired(), [], s.report());
  // Corruption: a state whose addr drops the offset (as a try_alloc that forgot pad(phys) would).
  const t = new Session();
  t.run(...DEV('strict'));
  t.platform.iova_states.set('a', new Proxy(newIovaState(), { set: (o, f, v) => Reflect.set(o, f, f === 'addr' && typeof v === 'bigint' ? v & ~0xfffn : v) }));
  t.run(ALLOC('a', '0x1234_5200', '0x1000'));
  fired(t, 'IOVA-API-STATE');
  fired(t, 'DMA-IOMMU-OFFSET');
});

test('IOVA-API-STATE: misuse the model should refuse must change nothing', () => {
  const s = new Session();
  s.run(...DEV('strict'), ALLOC('a', '0', '0x2000'), LINK('a', '0x2000_0000', '0', '0x1000'), UNLINK('a', '0', '0x1000'), FREE('a'));
  state(s, 'a').freed = false; // corruption: the model forgets the free, so a use after free goes through
  s.run(LINK('a', '0x2000_0000', '0', '0x1000'));
  fired(s, 'IOVA-API-STATE');
  assert.ok(s.report('IOVA-API-STATE').includes('must refuse'), s.report());
});

// ---- the allocator and granule invariants over IOVA states -------------------------------------

test('IOVA-STATES: a destroy must free align_up(mapped_len + pad), the quirk\'s size class, not the allocated size', () => {
  for (const mode of ['strict', 'lazy']) {
    const s = holdsThenFires('IOVA-STATES', [...DEV(mode), ALLOC('a', '0', '0x4000'), LINK('a', '0x1000_0000', '0', '0x1000'), DESTROY('a', '0x1000')], ['iova-destroy-frees-alloc-size']);
    assert.ok(/neither cached nor free|should queue/.test(s.report('IOVA-STATES')), s.report());
  }
});

test('IOVA-NO-LOST-RANGES: live IOVA states count, and a destroyed state\'s pfn lost from its cache shows', () => {
  const s = new Session();
  s.run(...DEV('strict'), ...IO('a'), ALLOC('b', '0', '0x4000'), LINK('b', '0x1000_0000', '0', '0x1000'), DESTROY('b', '0x1000'));
  assert.deepEqual(s.fired(), [], s.report());
  magazine(s, 'nic', 0).pop(); // corruption: the pfn filed under class 0 by the quirk vanishes from the cache
  s.run(ALLOC('c', '0', '0x2000'));
  fired(s, 'IOVA-NO-LOST-RANGES');
});

test('DMA-IOMMU-NO-SHARED-GRANULE: a streaming map handed IOVA inside a live state\'s allocation', () => {
  const s = new Session();
  s.run(...DEV('strict'), ...IO('a')); // 8 pfns, the first 5 linked
  magazine(s, 'nic', 0).push((state(s, 'a').addr >> 12n) + 6n); // corruption: a pfn of the state offered as a free 1-pfn range
  s.run('"nic" calls dma_map_phys with phys 0x5000_0000 size 0x1000 dir DMA_TO_DEVICE as m');
  fired(s, 'DMA-IOMMU-NO-SHARED-GRANULE');
  assert.ok(s.report('DMA-IOMMU-NO-SHARED-GRANULE').includes('dma_iova_state "a"'), s.report());
});

test('DMA-IOMMU-NO-SHARED-GRANULE: two links on one granule', () => {
  const s = new Session();
  s.run(...DEV('strict'), ALLOC('a', '0', '0x3000'), LINK('a', '0x2000_0000', '0', '0x2000'));
  dom(s).domain.pgtbl!.unmap_pages(state(s, 'a').addr + 0x1000n, 0x1000n, 1n, newGather()); // corruption: a linked leaf vanishes
  s.run(LINK('a', '0x3000_0000', '0x1000', '0x2000')); // overlaps the first link; the page table no longer refuses it
  assert.equal(s.last!.result.ok, true);
  fired(s, 'DMA-IOMMU-NO-SHARED-GRANULE');
});
