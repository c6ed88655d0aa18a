/**
 * No false alarms: every invariant on, over (1) a realistic hand-written driver
 * session per platform flavour and (2) seeded random driver programs that mix
 * correct use with the usual mistakes. A violation here is either a model bug
 * or a checker claiming more than the spec promises; both must be fixed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { INVARIANTS } from './registry';
import { Session } from './session';
import { DIRS, hexa, rng, runProgram } from './random-kit';

const RAM = 'ram [{base 0x0, size 4G}, {base 0x1_0000_0000, size 4G}]';

/** A day in the life of four drivers on one machine. */
function realistic(platform: string): string[] {
  return [
    platform,
    'a device "gpu" with bus platform coherent false dma_mask DMA_BIT_MASK(64) coherent_dma_mask DMA_BIT_MASK(64)',
    'a device "cam" with bus platform coherent false dma_mask DMA_BIT_MASK(32) min_align_mask 0xFFF',
    'a device "nic" with dma_mask DMA_BIT_MASK(32)',
    'a device "ssd" with dma_mask DMA_BIT_MASK(64) min_align_mask 0xFFF',
    '"gpu" calls dma_set_mask_and_coherent with mask DMA_BIT_MASK(64)',
    '"gpu" calls dma_max_mapping_size', '"gpu" calls dma_opt_mapping_size', '"cam" calls dma_max_mapping_size', '"cam" calls dma_opt_mapping_size',
    // A command buffer to the GPU, a frame from the camera (bounced: 32-bit, high buffer).
    'the CPU calls cpu_write with phys 0x1000_0000 data {len 8192, seed 1}',
    '"gpu" calls dma_map_phys with phys 0x1000_0000 size 8K dir DMA_TO_DEVICE as cmd',
    '"gpu" calls dma_mapping_error with dma_addr $cmd',
    'the CPU calls cpu_speculate with phys 0x1000_0000 size 16K',
    '"gpu" calls device_read with dma_addr $cmd size 8K',
    '"gpu" calls device_read with dma_addr $cmd+0x40 size 64',
    'the CPU calls cpu_write with phys 0x1_2000_0000 data {len 16384, fill 0x11}',
    '"cam" calls dma_map_phys with phys 0x1_2000_0234 size 12K dir DMA_FROM_DEVICE as frame',
    '"cam" calls device_write with dma_addr $frame data {len 4096, seed 2}',
    'the CPU calls cpu_speculate with phys $frame size 12K',
    '"cam" calls dma_sync_single_for_cpu with dma_addr $frame size 12K dir DMA_FROM_DEVICE',
    'the CPU calls cpu_read with phys 0x1_2000_0234 size 12K',
    'the CPU calls cpu_read with phys 0x1_2000_1234 size 64',
    '"cam" calls dma_sync_single_for_device with dma_addr $frame size 12K dir DMA_FROM_DEVICE',
    '"cam" calls device_write with dma_addr $frame+0x1000 data {len 64, fill 0x42}',
    '"cam" calls dma_unmap_phys with dma_addr $frame size 12K dir DMA_FROM_DEVICE',
    'the CPU calls cpu_read with phys 0x1_2000_1234 size 64',
    'the CPU calls cpu_read with phys 0x1_2000_0234 size 64',
    '"gpu" calls dma_unmap_phys with dma_addr $cmd size 8K dir DMA_TO_DEVICE',
    // Small unaligned FROM_DEVICE buffers: arm64 kmalloc bouncing.
    'the CPU calls cpu_write with phys 0x1100_0000 data {len 256, fill 0x5e}',
    '"gpu" calls dma_map_phys with phys 0x1100_0020 size 96 dir DMA_FROM_DEVICE as small',
    '"gpu" calls device_write with dma_addr $small data {len 32, fill 0x77}',
    '"gpu" calls dma_unmap_phys with dma_addr $small size 96 dir DMA_FROM_DEVICE',
    'the CPU calls cpu_read with phys 0x1100_0000 size 160',
    'the CPU calls cpu_read with phys 0x1100_0020 size 64',
    // A BIDIRECTIONAL ring the device reads back.
    'the CPU calls cpu_write with phys 0x1200_0000 data {len 4096, seed 3}',
    '"gpu" calls dma_map_phys with phys 0x1200_0000 size 4K dir DMA_BIDIRECTIONAL as ring',
    '"gpu" calls device_write with dma_addr $ring+0x100 data {len 64, fill 0xee}',
    '"gpu" calls device_read with dma_addr $ring+0xe0 size 64',
    '"gpu" calls dma_sync_single_for_cpu with dma_addr $ring size 4K dir DMA_BIDIRECTIONAL',
    'the CPU calls cpu_write with phys 0x1200_0000 data {len 64, fill 0x01}',
    '"gpu" calls dma_sync_single_for_device with dma_addr $ring size 4K dir DMA_BIDIRECTIONAL',
    '"gpu" calls device_read with dma_addr $ring size 64',
    '"gpu" calls dma_unmap_phys with dma_addr $ring size 4K dir DMA_BIDIRECTIONAL',
    'the CPU calls cpu_read with phys 0x1200_0100 size 64',
    // Scatter-gather: direct and bounced entries on a non-coherent device.
    'the CPU calls cpu_write with phys 0x1300_0000 data {len 12288, seed 4}',
    'the CPU calls cpu_write with phys 0x1_3000_0000 data {len 4096, seed 5}',
    '"cam" calls dma_map_sg with sg [{phys 0x1300_0000, length 4K}, {phys 0x1_3000_0000, length 4K}, {phys 0x1300_2000, length 4K}] dir DMA_TO_DEVICE as sg',
    '"cam" calls device_read with dma_addr $sg size 64',
    '"cam" calls dma_sync_sg_for_cpu with sg $sg dir DMA_TO_DEVICE',
    '"cam" calls dma_sync_sg_for_device with sg $sg dir DMA_TO_DEVICE',
    '"cam" calls dma_unmap_sg with sg $sg dir DMA_TO_DEVICE',
    '"ssd" calls dma_map_sgtable with sg [{phys 0x1400_0000, length 64K}, {phys 0x1_4000_0200, length 4K}] dir DMA_FROM_DEVICE as io',
    '"ssd" calls device_write with dma_addr $io data {len 4096, seed 6}',
    '"ssd" calls dma_unmap_sgtable with sg $io dir DMA_FROM_DEVICE',
    'the CPU calls cpu_read with phys 0x1400_0000 size 4K',
    // Coherent memory and a pool of descriptors.
    '"nic" calls dma_alloc_coherent with size 16K as desc',
    'the CPU calls cpu_write with phys $desc.cpu_addr data {len 64, fill 0x10}',
    '"nic" calls device_read with dma_addr $desc size 64',
    '"nic" calls device_write with dma_addr $desc+0x40 data {len 64, fill 0x20}',
    'the CPU calls cpu_read with phys $desc.cpu_addr size 128',
    '"gpu" calls dma_alloc_coherent with size 4K as gdesc',
    'the CPU calls cpu_write with phys $gdesc.cpu_addr data {len 64, fill 0x30}',
    '"gpu" calls device_read with dma_addr $gdesc size 64',
    '"gpu" calls device_write with dma_addr $gdesc+0x80 data {len 64, fill 0x31}',
    'the CPU calls cpu_read with phys $gdesc.cpu_addr+0x80 size 64',
    '"gpu" calls dma_pool_create with name rx size 256 align 64',
    'the kernel calls dma_pool_alloc with pool rx as r0',
    'the kernel calls dma_pool_alloc with pool rx as r1',
    'the CPU calls cpu_write with phys $r1.cpu_addr data {len 64, fill 0x41}',
    '"gpu" calls device_read with dma_addr $r1 size 64',
    'the kernel calls dma_pool_free with pool rx cpu_addr $r0.cpu_addr dma_addr $r0',
    'the kernel calls dma_pool_free with pool rx cpu_addr $r1.cpu_addr dma_addr $r1',
    'the kernel calls dma_pool_destroy with pool rx',
    '"gpu" calls dma_free_coherent with size 4K cpu_addr $gdesc.cpu_addr dma_addr $gdesc',
    '"nic" calls dma_free_coherent with size 16K cpu_addr $desc.cpu_addr dma_addr $desc',
    // The NIC bounces a big packet, then leaks one mapping at unbind.
    '"nic" calls dma_map_phys with phys 0x1_5000_0000 size 64K dir DMA_TO_DEVICE as pkt',
    '"nic" calls dma_map_phys with phys 0x1_5001_0000 size 2K dir DMA_FROM_DEVICE as leak',
    '"nic" calls dma_unmap_phys with dma_addr $pkt size 64K dir DMA_TO_DEVICE',
    'the kernel calls swiotlb_info', 'the kernel calls platform_counters',
    'device "nic" is removed',
  ];
}

test('all invariants: a realistic session raises no violation', () => {
  for (const platform of [
    `a platform with arch arm64 ${RAM} swiotlb {size 64M} ncpus 2`,
    `a platform with arch arm64 ${RAM} swiotlb {size 64M} linux 6.12`,
    `a platform with arch arm64 ${RAM} swiotlb {size 64M, nareas 4} dma_debug false cache_line 128`,
  ]) {
    const s = new Session();
    s.run(...realistic(platform));
    assert.deepEqual(s.fired(), [], `${platform}\n${s.report()}`);
  }
  assert.ok(INVARIANTS.length >= 30);
});

// ---- random driver programs -----------------------------------------------------------------

/** xorshift32: deterministic, seeded per program. */

interface Live { h: string; dev: string; size: bigint; dir: string; sg: boolean }

/** One program: mostly well-behaved, with a share of the mistakes drivers make. */
function program(seed: number): string[] {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[r(xs.length)]!;
  const arm = r(4) !== 0;
  const steps = [`a platform with arch ${arm ? 'arm64' : 'x86_64'} ${RAM} swiotlb {size ${pick(['4M', '64M'])}${r(8) === 0 ? ', force true' : ''}${r(4) === 0 ? ', nareas 4' : ''}} ` +
    `linux ${pick(['6.12', 'newest'])} ncpus 4 dma_debug ${r(3) !== 0} cache_line ${pick([64, 64, 128])} page_size ${pick(['4K', '4K', '16K', '64K'])}`];
  const devs = ['d0', 'd1', 'd2'];
  const ranged = new Set<string>();
  for (const d of devs) {
    // Sometimes a bus offset: RAM seen 2 GiB higher by the device.
    const map = r(5) === 0 ? ' dma_range_map [{cpu_start 0x0, dma_start 0x8000_0000, size 0x2_0000_0000}]' : '';
    if (map) ranged.add(d);
    steps.push(`a device "${d}" with bus ${pick(['pci', 'platform'])} coherent ${arm ? r(3) === 0 : true} dma_mask ${pick(['DMA_BIT_MASK(32)', 'DMA_BIT_MASK(64)', 'DMA_BIT_MASK(36)'])} ` +
      `coherent_dma_mask DMA_BIT_MASK(32) min_align_mask ${pick(['0', '0', '0xFFF'])}${map}`);
  }
  const bases = [0x1000_0000n, 0x1000_8000n, 0x1_2000_0000n, 0x1_2000_8000n];
  const buf = (): { phys: bigint; size: bigint } => ({
    phys: pick(bases) + BigInt(pick([0, 0, 0x20, 0x40, 0x234, 0x1000])),
    size: BigInt(pick([32, 64, 96, 100, 2048, 4096, 5000, 8192])),
  });
  const live: Live[] = [];
  const dead: Live[] = [];
  const coh: { h: string; dev: string; size: bigint }[] = [];
  let n = 0;
  for (let i = 0; i < 70; i++) {
    const c = r(100);
    const b = buf();
    if (c < 14) steps.push(`the CPU calls cpu_write with phys ${hexa(b.phys)} data {len ${Number(b.size) % 300 + 1}, seed ${r(1000)}}`);
    else if (c < 22) steps.push(`the CPU calls cpu_read with phys ${hexa(b.phys)} size ${pick([16, 64, Number(b.size)])} cpu ${r(2)}`);
    else if (c < 26) steps.push(`the CPU calls ${pick(['cpu_speculate', 'cpu_evict'])} with phys ${hexa(b.phys - 0x40n)} size ${b.size + 0x80n}`);
    else if (c < 40) {
      const h = `m${n++}`;
      const l: Live = { h, dev: pick(devs), size: b.size, dir: pick(DIRS), sg: false };
      const attrs = pick(['', '', '', '', '', '', ' attrs [DMA_ATTR_SKIP_CPU_SYNC]', ' attrs [DMA_ATTR_NO_WARN]', ' attrs [DMA_ATTR_MMIO]', ' attrs [DMA_ATTR_REQUIRE_COHERENT]']);
      // model: syncing an untranslated (MMIO) address of a bus-offset device crashes the model (dma_to_phys gives -1): not generated.
      const raw = !ranged.has(l.dev);
      const fn = pick(['dma_map_phys', 'dma_map_phys', 'dma_map_page', 'dma_map_single', raw ? 'dma_map_resource' : 'dma_map_phys']);
      steps.push(`"${l.dev}" calls ${fn} with phys ${hexa(b.phys)} size ${l.size} dir ${l.dir}${fn === 'dma_map_resource' || (!raw && attrs.includes('MMIO')) ? '' : attrs} as ${h}`);
      live.push(l);
    } else if (c < 46) {
      const h = `s${n++}`;
      const ents = Array.from({ length: 1 + r(3) }, () => buf());
      const l: Live = { h, dev: pick(devs), size: 0n, dir: pick(DIRS), sg: true };
      steps.push(`"${l.dev}" calls dma_map_sg with sg [${ents.map((e) => `{phys ${hexa(e.phys)}, length ${e.size}}`).join(', ')}] dir ${l.dir} as ${h}`);
      live.push(l);
    } else if (c < 58 && live.length) {
      const l = pick(live);
      if (l.sg) steps.push(`"${l.dev}" calls ${pick(['dma_sync_sg_for_cpu', 'dma_sync_sg_for_device'])} with sg $${l.h} dir ${r(8) ? l.dir : pick(DIRS)}`);
      else if (r(6) === 0) steps.push(`"${l.dev}" calls dma_sync_single_range_for_cpu with dma_addr $${l.h} offset 0x10 size 0x10 dir ${l.dir}`);
      else steps.push(`"${l.dev}" calls ${pick(['dma_sync_single_for_cpu', 'dma_sync_single_for_device'])} with dma_addr $${l.h} size ${l.size} dir ${r(8) ? l.dir : pick(DIRS)}`);
    } else if (c < 70 && live.length) {
      const l = pick(live);
      const dev = r(12) ? l.dev : pick(devs);
      const len = l.sg ? 16 : Math.max(1, Number(l.size) - 8);
      steps.push(r(2)
        ? `"${dev}" calls device_write with dma_addr $${l.h}+${r(8)} data {len ${len}, seed ${r(1000)}}`
        : `"${dev}" calls device_read with dma_addr $${l.h}+${r(8)} size ${Math.min(len, 64)}`);
    } else if (c < 82 && (live.length || dead.length)) {
      const again = dead.length && r(15) === 0;
      const l = again ? pick(dead) : pick(live.length ? live : dead);
      if (l.sg) steps.push(`"${l.dev}" calls dma_unmap_sg with sg $${l.h}${r(10) === 0 ? ' nents 1' : ''} dir ${l.dir}`);
      else steps.push(`"${l.dev}" calls dma_unmap_phys with dma_addr $${l.h} size ${r(10) ? l.size : l.size / 2n} dir ${r(10) ? l.dir : pick(DIRS)}`);
      if (!again) {
        live.splice(live.indexOf(l), 1);
        dead.push(l);
      }
    } else if (c < 88) {
      if (coh.length && r(2)) {
        const k = coh.splice(r(coh.length), 1)[0]!;
        steps.push(`"${k.dev}" calls dma_free_coherent with size ${k.size} cpu_addr $${k.h}.cpu_addr dma_addr $${k.h}`);
      } else {
        const k = { h: `c${n++}`, dev: pick(devs), size: BigInt(pick([64, 4096, 8192])) };
        steps.push(`"${k.dev}" calls dma_alloc_coherent with size ${k.size} as ${k.h}`);
        coh.push(k);
      }
    } else if (c < 94 && coh.length) {
      const k = pick(coh);
      steps.push(pick([
        `the CPU calls cpu_write with phys $${k.h}.cpu_addr+${r(32)} data {len 32, seed ${r(99)}}`,
        `the CPU calls cpu_read with phys $${k.h}.cpu_addr size 64`,
        `"${k.dev}" calls device_write with dma_addr $${k.h}+${r(32)} data {len 16, seed ${r(99)}}`,
        `"${k.dev}" calls device_read with dma_addr $${k.h} size 64`,
      ]));
    } else if (c < 95) {
      // swiotlb directly, and dma_pool traffic.
      steps.push(pick([
        `"${pick(devs)}" calls swiotlb_tbl_map_single with phys ${hexa(b.phys)} size ${b.size} dir ${pick(DIRS)} as t${n++}`,
        `"${pick(devs)}" calls swiotlb_tbl_unmap_single with tlb_addr $t${r(n + 1)} size ${b.size} dir ${pick(DIRS)}`,
        `"${devs[0]}" calls dma_pool_create with name pl${n++} size ${pick([16, 64, 100, 4096])}`,
        `the kernel calls dma_pool_alloc with pool pl${r(n + 1)} as p${n++}`,
        `the kernel calls dma_pool_free with pool pl${r(n + 1)} cpu_addr $p${r(n + 1)}.cpu_addr dma_addr $p${r(n + 1)}`,
      ]));
    } else if (c < 97) {
      steps.push(`"${pick(devs)}" calls ${pick(['dma_max_mapping_size', 'dma_opt_mapping_size', 'dma_get_mask', 'dma_need_sync with dma_addr 0x1000'])}`);
    } else steps.push(`"${pick(devs)}" calls dma_set_mask with mask ${pick(['DMA_BIT_MASK(64)', 'DMA_BIT_MASK(32)', 'DMA_BIT_MASK(20)'])}`);
  }
  for (const d of devs) steps.push(`device "${d}" is removed`);
  return steps;
}


test('all invariants: 300 random driver programs raise no violation', () => {
  for (let seed = 1; seed <= 300; seed++) {
    const steps = program(seed);
    const s = runProgram(steps);
    assert.deepEqual(s.fired(), [], `seed ${seed}\n${s.report()}\n${steps.join('\n')}`);
  }
});
