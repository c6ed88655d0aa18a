/** DBG-1..DBG-5 and NO-LEAK-AT-REMOVE: silent on clean (and misusing) drivers, firing on a dropped entry or corrupted books. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Session } from './session';

const X86 = 'a platform with ram [{base 0x0, size 4G}, {base 0x1_0000_0000, size 4G}] swiotlb {size 64M}';

/** A driver that maps, checks, syncs and frees, with some of the mistakes dma-debug exists for. */
const TRAFFIC = [
  X86, 'a device "nic"', 'a device "soc" with bus platform',
  '"nic" calls dma_map_phys with phys 0x1000_0040 size 4K dir DMA_FROM_DEVICE as a',
  '"nic" calls dma_mapping_error with dma_addr $a',
  '"nic" calls dma_map_phys with phys 0x1000_0060 size 64 dir DMA_FROM_DEVICE as b', // same first cacheline: EEXIST
  '"nic" calls dma_map_phys with phys 0x1_2345_6000 size 8K dir DMA_BIDIRECTIONAL as c',
  '"nic" calls dma_map_sg with sg [{phys 0x2000_0000, length 4K}, {phys 0x1_3000_0000, length 4K}, {phys 0x2000_2000, length 512}] dir DMA_TO_DEVICE as s',
  '"nic" calls dma_sync_single_for_cpu with dma_addr $c size 8K dir DMA_FROM_DEVICE', // wrong direction
  '"nic" calls dma_unmap_phys with dma_addr $a size 2K dir DMA_FROM_DEVICE', // wrong size
  '"nic" calls dma_unmap_phys with dma_addr $a size 4K dir DMA_FROM_DEVICE', // double unmap
  '"nic" calls dma_unmap_sg with sg $s nents 2 dir DMA_TO_DEVICE', // wrong nents
  '"nic" calls dma_alloc_coherent with size 8K as k',
  '"nic" calls dma_free_coherent with size 8K cpu_addr $k.cpu_addr dma_addr $k',
  '"soc" calls dma_pool_create with name p size 64',
  'the kernel calls dma_pool_alloc with pool p as p1',
  'the kernel calls dma_pool_alloc with pool p as p2',
  'the kernel calls dma_pool_free with pool p cpu_addr $p1.cpu_addr dma_addr $p1',
  'the kernel calls dma_pool_free with pool p cpu_addr $p2.cpu_addr dma_addr $p2',
  'the kernel calls dma_pool_destroy with pool p',
  '"nic" calls dma_unmap_phys with dma_addr $b size 64 dir DMA_FROM_DEVICE',
  'device "nic" is removed', // leaks c and one sg entry
  'device "soc" is removed',
];

const internals = <T>(s: Session): T => s.platform.debug as unknown as T;

test('clean and misusing traffic: every dma-debug invariant holds', () => {
  const s = new Session();
  s.run(...TRAFFIC);
  assert.deepEqual(s.fired(), [], s.report());
  assert.ok(s.last!.result.warnings.length === 0);
});

test('DEBUG-LEDGER-MATCHES and NO-LEAK-AT-REMOVE: a mapping dma-debug never recorded', () => {
  const s = new Session({ faults: ['debug-drop-entry'] });
  s.run(...TRAFFIC);
  assert.ok(s.fired().includes('DEBUG-LEDGER-MATCHES'), s.report());
  const t = new Session({ faults: ['debug-drop-entry'] });
  t.run(X86, 'a device "nic"', '"nic" calls dma_map_phys with phys 0x1000_0000 size 4K dir DMA_TO_DEVICE', 'device "nic" is removed');
  assert.ok(t.fired().includes('NO-LEAK-AT-REMOVE'), t.report());
  // Without the fault the leak is reported and the invariant holds.
  const u = new Session();
  u.run(X86, 'a device "nic"', '"nic" calls dma_map_phys with phys 0x1000_0000 size 4K dir DMA_TO_DEVICE', 'device "nic" is removed');
  assert.deepEqual(u.fired(), []);
  assert.ok(u.last!.result.warnings.some((w) => w.code === 'DEBUG_LEAK_AT_REMOVE'));
});

test('DEBUG-ERROR-COUNT-MONOTONE: error_count going backwards', () => {
  const s = new Session();
  s.run(...TRAFFIC.slice(0, 10));
  internals<{ error_count: number }>(s).error_count = 0;
  s.run('"nic" calls dma_get_mask');
  assert.deepEqual(s.fired(), ['DEBUG-ERROR-COUNT-MONOTONE'], s.report());
});

test('DEBUG-OVERLAP-COUNT: a cacheline counter out of step with its entries', () => {
  const s = new Session();
  s.run(X86, 'a device "nic"', '"nic" calls dma_map_phys with phys 0x1000_0040 size 4K dir DMA_FROM_DEVICE as a');
  const st = internals<{ cachelines: { map: Map<bigint, { overlap: number }> } }>(s).cachelines.map.get(0x1000_0040n >> 6n);
  assert.ok(st);
  st.overlap = 3;
  s.run('"nic" calls dma_unmap_phys with dma_addr $a size 4K dir DMA_FROM_DEVICE');
  assert.ok(s.fired().includes('DEBUG-OVERLAP-COUNT'), s.report());
});

test('DEBUG-ENTRY-COUNT: a free-entry count that lost track', () => {
  const s = new Session();
  s.run(X86, 'a device "nic"');
  internals<{ ledger: { num_free_entries: number } }>(s).ledger.num_free_entries -= 1;
  s.run('"nic" calls dma_map_phys with phys 0x1000_0000 size 4K dir DMA_TO_DEVICE');
  assert.deepEqual(s.fired(), ['DEBUG-ENTRY-COUNT'], s.report());
});

test('DEBUG-DISABLED-FROZEN: disabled stays disabled and silent', () => {
  const s = new Session();
  s.run(X86, 'a device "nic"', '"nic" calls dma_map_phys with phys 0x1000_0000 size 4K dir DMA_TO_DEVICE as a');
  s.platform.debug!.disable('test');
  s.run('"nic" calls dma_unmap_phys with dma_addr $a size 2K dir DMA_TO_DEVICE');
  assert.deepEqual(s.fired(), [], s.report());
  internals<{ disabled_: boolean }>(s).disabled_ = false;
  s.run('"nic" calls dma_unmap_phys with dma_addr 0x1000_0000 size 2K dir DMA_TO_DEVICE');
  assert.ok(s.fired().includes('DEBUG-DISABLED-FROZEN'), s.report());
});
