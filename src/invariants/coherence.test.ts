/** VIS-* and COHERENT-DATA-*: silent while the driver keeps the rules, and firing on planted cache/bounce faults. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Session, holdsThenFires } from './session';

const ARM = 'a platform with arch arm64 ram [{base 0x0, size 4G}, {base 0x1_0000_0000, size 4G}] swiotlb {size 64M} dma_debug false';
const ARM_612 = `${ARM} linux 6.12`;
const X86 = 'a platform with ram [{base 0x0, size 4G}, {base 0x1_0000_0000, size 4G}] swiotlb {size 64M}';
const DEV = 'a device "dev" with bus platform coherent false dma_mask DMA_BIT_MASK(64) coherent_dma_mask DMA_BIT_MASK(64)';
const DEV32 = 'a device "dev" with bus platform coherent false dma_mask DMA_BIT_MASK(32)';


test('VIS-TO-DEVICE: the clean at map time pushes the CPU’s data to the device', () => {
  holdsThenFires('VIS-TO-DEVICE', [
    ARM, DEV, 'the CPU calls cpu_write with phys 0x1000_0000 data {len 4096, seed 1}',
    '"dev" calls dma_map_phys with phys 0x1000_0000 size 4K dir DMA_TO_DEVICE as buf',
    '"dev" calls device_read with dma_addr $buf size 4K',
    '"dev" calls device_read with dma_addr $buf+0x40 size 64',
  ], ['direct-skip-clean-on-map']);
});

test('VIS-TO-DEVICE: a bounced TO_DEVICE buffer reaches the device through the slot', () => {
  holdsThenFires('VIS-TO-DEVICE', [
    ARM_612, DEV32, 'the CPU calls cpu_write with phys 0x1_2345_6000 data {len 4096, seed 1}',
    '"dev" calls dma_map_phys with phys 0x1_2345_6000 size 4K dir DMA_TO_DEVICE as buf',
    '"dev" calls device_read with dma_addr $buf size 64',
  ], ['swiotlb-skip-map-copy']);
});

test('VIS-FROM-DEVICE: a dirty line left by a missing clean is evicted over the device’s data', () => {
  holdsThenFires('VIS-FROM-DEVICE', [
    ARM, DEV, 'the CPU calls cpu_write with phys 0x1000_0000 data {len 4096, seed 1}',
    '"dev" calls dma_map_phys with phys 0x1000_0000 size 4K dir DMA_FROM_DEVICE as buf',
    '"dev" calls device_write with dma_addr $buf data {len 4096, seed 2}',
    'the CPU calls cpu_evict with phys 0x1000_0000 size 4K',
    '"dev" calls dma_unmap_phys with dma_addr $buf size 4K dir DMA_FROM_DEVICE',
    'the CPU calls cpu_read with phys 0x1000_0000 size 4K',
  ], ['direct-skip-clean-on-map']);
});

test('VIS-FROM-DEVICE: a batched bounce copy must wait for its invalidate (BAT-2)', () => {
  holdsThenFires('VIS-FROM-DEVICE', [
    ARM, DEV32, 'the CPU calls cpu_write with phys 0x1_2345_6000 data {len 2048, fill 0x11}',
    '"dev" calls dma_map_sg with sg [{phys 0x1_2345_6000, length 2K}] dir DMA_FROM_DEVICE as s',
    'the CPU calls cpu_speculate with phys $s size 2K',
    '"dev" calls device_write with dma_addr $s data {len 2048, seed 30}',
    '"dev" calls dma_sync_sg_for_cpu with sg $s dir DMA_FROM_DEVICE',
    'the CPU calls cpu_read with phys 0x1_2345_6000 size 2K',
  ], ['swiotlb-no-flush-before-bounce']);
});

test('VIS-BOUNCE-TRANSPARENT: bytes the device did not write come back unchanged (CVE-2022-0854)', () => {
  holdsThenFires('VIS-BOUNCE-TRANSPARENT', [
    X86, 'a device "nic"',
    // An earlier user leaves its data in the slot.
    '"nic" calls dma_map_phys with phys 0x1_5000_0000 size 4K dir DMA_FROM_DEVICE as old',
    '"nic" calls device_write with dma_addr $old data {len 4096, fill 0x99}',
    '"nic" calls dma_unmap_phys with dma_addr $old size 4K dir DMA_FROM_DEVICE',
    'the CPU calls cpu_write with phys 0x1_2345_6000 data {len 4096, seed 7}',
    '"nic" calls dma_map_phys with phys 0x1_2345_6000 size 4K dir DMA_FROM_DEVICE as buf',
    '"nic" calls device_write with dma_addr $buf data {len 16, fill 0xd0}',
    '"nic" calls dma_unmap_phys with dma_addr $buf size 4K dir DMA_FROM_DEVICE',
    'the CPU calls cpu_read with phys 0x1_2345_6000 size 64',
  ], ['swiotlb-skip-map-copy']);
});

test('VIS-CPU-BYTES-KEPT: invalidating a partly covered edge line keeps the CPU’s bytes in it', () => {
  holdsThenFires('VIS-CPU-BYTES-KEPT', [
    ARM, DEV,
    '"dev" calls dma_map_phys with phys 0x1000_0020 size 64 dir DMA_FROM_DEVICE as buf',
    'the CPU calls cpu_write with phys 0x1000_0000 data {len 32, fill 0xaa}',
    '"dev" calls device_write with dma_addr $buf data {len 64, seed 3}',
    '"dev" calls dma_unmap_phys with dma_addr $buf size 64 dir DMA_FROM_DEVICE',
    'the CPU calls cpu_read with phys 0x1000_0000 size 32',
  ], ['arch-inval-discards-edges']);
});

test('VIS-TO-DEVICE: a clean that stops short of the last partial line', () => {
  holdsThenFires('VIS-TO-DEVICE', [
    ARM, DEV, 'the CPU calls cpu_write with phys 0x1000_0000 data {len 100, seed 4}',
    '"dev" calls dma_map_phys with phys 0x1000_0000 size 100 dir DMA_TO_DEVICE as buf',
    '"dev" calls device_read with dma_addr $buf+64 size 36',
  ], ['arch-clean-skips-last-line']);
});

test('VIS-NO-MAINT-ON-ORIG: maintenance of a bounced mapping stays on the slot', () => {
  holdsThenFires('VIS-NO-MAINT-ON-ORIG', [
    ARM_612, DEV32, '"dev" calls dma_map_phys with phys 0x1_2345_6000 size 4K dir DMA_BIDIRECTIONAL as buf',
    '"dev" calls dma_sync_single_for_cpu with dma_addr $buf size 4K dir DMA_BIDIRECTIONAL',
    '"dev" calls dma_unmap_phys with dma_addr $buf size 4K dir DMA_BIDIRECTIONAL',
  ], ['swiotlb-maint-on-orig']);
});

test('COHERENT-DATA-TO-DEVICE / FROM-DEVICE: a non-coherent device’s coherent buffer must be uncached', () => {
  const steps = [
    ARM, DEV, '"dev" calls dma_alloc_coherent with size 4K as c',
    '"dev" calls device_read with dma_addr $c+0x200 size 64',
    'the CPU calls cpu_write with phys $c.cpu_addr data {len 64, fill 0x5a}',
    '"dev" calls device_read with dma_addr $c size 64',
    '"dev" calls device_write with dma_addr $c+0x100 data {len 64, fill 0x3c}',
    'the CPU calls cpu_read with phys $c.cpu_addr+0x100 size 64',
  ];
  holdsThenFires('COHERENT-DATA-TO-DEVICE', steps, ['coherent-no-uncached-remap']);
  holdsThenFires('COHERENT-DATA-FROM-DEVICE', steps, ['coherent-no-uncached-remap']);
});

test('the data checkers make no claim after the hazards of VIS-3', () => {
  const s = new Session();
  s.run(ARM, DEV,
    // VIS-3.1: a CPU write sharing a line with a FROM_DEVICE buffer during device ownership.
    '"dev" calls dma_map_phys with phys 0x1000_0020 size 64 dir DMA_FROM_DEVICE as a',
    'the CPU calls cpu_write with phys 0x1000_0000 data {len 32, fill 0xaa}',
    '"dev" calls device_write with dma_addr $a data {len 64, seed 3}',
    'the CPU calls cpu_evict with phys 0x1000_0000 size 128',
    '"dev" calls dma_unmap_phys with dma_addr $a size 64 dir DMA_FROM_DEVICE',
    'the CPU calls cpu_read with phys 0x1000_0000 size 96',
    // VIS-3.2: reading without sync_for_cpu.
    '"dev" calls dma_map_phys with phys 0x2000_0000 size 4K dir DMA_FROM_DEVICE as b',
    'the CPU calls cpu_speculate with phys 0x2000_0000 size 4K',
    '"dev" calls device_write with dma_addr $b data {len 64, fill 0x77}',
    'the CPU calls cpu_read with phys 0x2000_0000 size 64',
    // VIS-3.3: SKIP_CPU_SYNC on the map of a CPU-written TO_DEVICE buffer.
    'the CPU calls cpu_write with phys 0x3000_0000 data {len 64, fill 0x12}',
    '"dev" calls dma_map_phys with phys 0x3000_0000 size 64 dir DMA_TO_DEVICE attrs [DMA_ATTR_SKIP_CPU_SYNC] as c',
    '"dev" calls device_read with dma_addr $c size 64',
    // VIS-3.4: a CPU write to a TO_DEVICE buffer after the map.
    '"dev" calls dma_map_phys with phys 0x4000_0000 size 64 dir DMA_TO_DEVICE as d',
    'the CPU calls cpu_write with phys 0x4000_0000 data {len 64, fill 0x34}',
    '"dev" calls device_read with dma_addr $d size 64');
  assert.deepEqual(s.fired(), [], s.report());
});
