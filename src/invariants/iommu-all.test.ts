/**
 * No false alarms on the IOMMU side: every invariant (part 1 and part 2) on,
 * over (1) a realistic session mixing strict and lazy domains, merged and
 * entry-by-entry sg lists, untrusted bouncing, range-cache reuse, flush-queue
 * timeouts and several CPUs, next to a direct-path device; and (2) 300 seeded
 * random programs that mix correct use with the usual driver mistakes,
 * including the IOVA-based API (try_alloc, link, sync, unlink, destroy, free on
 * strict and lazy domains, bouncing for untrusted devices, misuse at a low
 * rate), which also catch every planted IOVA-API fault. Also: the part-2
 * invariants never fire on direct-path devices.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { INVARIANTS } from './registry';
import { Session } from './session';
import { DIRS, hexa, rng, runProgram } from './random-kit';
import { IOVA_INVARIANTS } from './iova';
import { DMA_IOMMU_INVARIANTS } from './dma-iommu';
import { IOMMU_INVARIANTS } from './iommu';
import { PGTABLE_INVARIANTS } from './pgtable';
import { IOVA_API_INVARIANTS } from './iova-api';
import { RAM, times } from './iommu-kit';

const PART2 = [...IOVA_INVARIANTS, ...DMA_IOMMU_INVARIANTS, ...IOMMU_INVARIANTS, ...PGTABLE_INVARIANTS, ...IOVA_API_INVARIANTS].map((f) => f.info.id);

function realistic(platform: string): string[] {
  return [
    platform,
    'the kernel calls iommu_add with name smmu mode lazy',
    'the kernel calls iommu_add with name smmu1 mode strict fq single reserved [{start 0x8000_0000, end 0x8FFF_FFFF}]',
    'a device "nic" with iommu smmu dma_mask DMA_BIT_MASK(64)',
    'a device "gpu" with iommu smmu bus platform coherent false dma_mask DMA_BIT_MASK(64) coherent_dma_mask DMA_BIT_MASK(64)',
    'a device "ext" with iommu smmu1 untrusted true dma_mask DMA_BIT_MASK(64) min_align_mask 0xFFF',
    'a device "blk" with iommu smmu1 dma_mask DMA_BIT_MASK(32) segment_boundary_mask 0xFFFF max_segment_size 128K',
    'a device "old" with dma_mask DMA_BIT_MASK(32)',
    '"nic" calls dma_get_merge_boundary', '"ext" calls dma_max_mapping_size', '"nic" calls dma_opt_mapping_size',
    // Packets through the NIC on two CPUs, reused from the range caches after the flush-queue timeout.
    ...times(6, 'the CPU calls cpu_write with phys 0x{x} data {len 256, seed {i}}', '"nic" calls dma_map_phys with phys 0x{x} size 1500 dir DMA_TO_DEVICE cpu 1 as p{i}',
      '"nic" calls device_read with dma_addr $p{i} size 64'),
    ...times(6, '"nic" calls dma_unmap_phys with dma_addr $p{i} size 1500 dir DMA_TO_DEVICE cpu 1'),
    '"nic" calls dma_map_phys with phys 0x2000_0000 size 9000 dir DMA_FROM_DEVICE as rx',
    '"nic" calls device_write with dma_addr $rx data {len 9000, seed 9}',
    '"nic" calls dma_sync_single_for_cpu with dma_addr $rx size 9000 dir DMA_FROM_DEVICE',
    '"nic" calls dma_unmap_phys with dma_addr $rx size 9000 dir DMA_FROM_DEVICE',
    'the kernel calls advance_time with ms 10',
    ...times(6, '"nic" calls dma_map_phys with phys 0x{x} size 1500 dir DMA_TO_DEVICE cpu 1 as q{i}'),
    ...times(6, '"nic" calls dma_unmap_phys with dma_addr $q{i} size 1500 dir DMA_TO_DEVICE'),
    // A non-coherent GPU: small unaligned FROM_DEVICE buffers bounce (kmalloc), sg lists entry by entry.
    '"gpu" calls dma_map_phys with phys 0x1100_0020 size 96 dir DMA_FROM_DEVICE as small',
    '"gpu" calls device_write with dma_addr $small data {len 32, fill 0x77}',
    '"gpu" calls dma_unmap_phys with dma_addr $small size 96 dir DMA_FROM_DEVICE',
    '"gpu" calls dma_map_sg with sg [{phys 0x1300_0000, length 4K}, {phys 0x1300_1000, length 4K}, {phys 0x1400_0200, length 0x200}] dir DMA_TO_DEVICE as gs',
    '"gpu" calls device_read with dma_addr $gs size 8K',
    '"gpu" calls dma_unmap_sg with sg $gs dir DMA_TO_DEVICE',
    '"gpu" calls dma_map_sg with sg [{phys 0x1300_0000, length 4K}, {phys 0x1300_2000, length 100}] dir DMA_FROM_DEVICE as gk',
    '"gpu" calls dma_unmap_sg with sg $gk dir DMA_FROM_DEVICE',
    '"gpu" calls dma_alloc_coherent with size 64K as ring',
    '"gpu" calls device_write with dma_addr $ring+0x100 data {len 64, seed 3}',
    // An untrusted device behind a strict domain: bounced, zero-padded, never merged.
    '"ext" calls dma_map_phys with phys 0x1500_0134 size 0x300 dir DMA_BIDIRECTIONAL as e0',
    '"ext" calls device_read with dma_addr $e0 size 0x300',
    '"ext" calls dma_map_phys with phys 0x1500_4000 size 8K dir DMA_TO_DEVICE as e1',
    '"ext" calls dma_map_sg with sg [{phys 0x1600_0000, length 4K}, {phys 0x1600_1000, length 0x80}] dir DMA_FROM_DEVICE as es',
    '"ext" calls device_write with dma_addr $es[1].dma_address data {len 0x80, fill 0x5a}',
    '"ext" calls dma_unmap_sg with sg $es dir DMA_FROM_DEVICE',
    '"ext" calls dma_unmap_phys with dma_addr $e0 size 0x300 dir DMA_BIDIRECTIONAL',
    '"ext" calls dma_unmap_phys with dma_addr $e1 size 8K dir DMA_TO_DEVICE',
    // Block I/O: 64 KiB boundary, segments merged up to 128 KiB, padding where an entry would cross.
    '"blk" calls dma_map_sgtable with sg [{phys 0x1700_0000, length 0x8000}, {phys 0x1800_0000, length 0x8000}, {phys 0x1900_0000, length 0x8000}] dir DMA_FROM_DEVICE as b0',
    '"blk" calls dma_map_sg with sg [{phys 0x1A00_0000, length 0xC000}, {phys 0x1B00_0000, length 0xC000}] dir DMA_TO_DEVICE as b1',
    '"blk" calls device_write with dma_addr $b0 data {len 4096, seed 4}',
    '"blk" calls dma_unmap_sgtable with sg $b0 dir DMA_FROM_DEVICE',
    '"blk" calls dma_unmap_sg with sg $b1 dir DMA_TO_DEVICE',
    '"blk" calls dma_map_resource with phys 0xF000_0000 size 0x1000 dir DMA_BIDIRECTIONAL as mmio',
    '"blk" calls dma_unmap_resource with dma_addr $mmio size 0x1000 dir DMA_BIDIRECTIONAL',
    // The direct-path device next door.
    '"old" calls dma_map_phys with phys 0x1_2000_0000 size 4K dir DMA_TO_DEVICE as d0',
    '"old" calls dma_unmap_phys with dma_addr $d0 size 4K dir DMA_TO_DEVICE',
    // Lower layers on the UNMANAGED domains and a stand-alone allocator.
    'the kernel calls iommu_map with domain smmu iova 0x4000_0000 paddr 0x1_0000_0000 size 4M prot 3',
    'the kernel calls iommu_iova_to_phys with domain smmu iova 0x4030_0123',
    'the kernel calls iommu_unmap with domain smmu iova 0x4000_0000 size 4M',
    'the kernel calls init_iova_domain with name iv granule 4K start_pfn 1',
    'the kernel calls alloc_iova_fast with domain iv size 5 limit_pfn 0xFFFFF as f0',
    'the kernel calls free_iova_fast with domain iv pfn $f0 size 5',
    'the kernel calls alloc_iova_fast with domain iv size 7 limit_pfn 0xFFFFF cpu 1 as f1',
    'the kernel calls iova_cpuhp_dead with domain iv cpu 0',
    '"gpu" calls dma_free_coherent with size 64K cpu_addr $ring.cpu_addr dma_addr $ring',
    'the kernel calls advance_time with ms 200',
    'device "nic" is removed', 'device "gpu" is removed',
  ];
}

test('all invariants: a realistic IOMMU session raises no violation', () => {
  for (const platform of [`a platform with arch arm64 ${RAM} swiotlb {size 64M} ncpus 2`, `a platform with arch arm64 ${RAM} swiotlb {size 64M} ncpus 2 linux 6.12`]) {
    const s = new Session();
    s.run(...realistic(platform));
    assert.deepEqual(s.fired(), [], `${platform}\n${s.report()}`);
  }
  assert.equal(PART2.length, 34);
  assert.ok(INVARIANTS.length >= PART2.length + 30);
});

// ---- random programs ------------------------------------------------------------------------


interface Live { h: string; dev: string; size: bigint; dir: string; kind: 'single' | 'resource' | 'sg' | 'coherent' }

/** A dma_iova_state as the generator means to use it (the model may refuse or fail any step of it). */
interface IovaPlan {
  name: string;
  dev: string;
  G: bigint;
  size: bigint;
  pad: bigint;
  dir: string;
  links: { off: bigint; size: bigint }[];
  /** the offset the next link goes to (granule-aligned in IOVA), and whether the last, unaligned link was made */
  end: bigint;
  full: boolean;
  freed: boolean;
}

const alignUp = (x: bigint, g: bigint): bigint => (x + g - 1n) & ~(g - 1n);

/**
 * One step (or a few) of the IOVA-based API: mostly the documented pattern (try_alloc, links back to
 * back, sync, device traffic, unlink, destroy or free), on strict and lazy domains, bouncing for the
 * untrusted device; now and then the misuse iommu.md §6.3 lists (out of range, overlap, wrong offset,
 * wrong device, free while linked, destroy with the wrong length, use after free, an orphaned state).
 */
function iovaSteps(r: (n: number) => number, plans: IovaPlan[], devG: Readonly<Record<string, bigint>>, fresh: () => number, bases: readonly bigint[], cpu: number,
  force?: 'alloc' | 'link' | 'sync' | 'access' | 'destroy' | 'free'): string[] {
  const pick = <T>(xs: readonly T[]): T => xs[r(xs.length)]!;
  const misuse = r(20) === 0;
  const live = plans.filter((p) => !p.freed);
  const c = r(100);
  if (c < 6 && live.length < 4) {
    // A whole I/O at once: try_alloc, links back to back, sync, device traffic, destroy (or unlink all and free).
    const out = iovaSteps(r, plans, devG, fresh, bases, cpu, 'alloc');
    const p = plans[plans.length - 1]!;
    for (let i = 0; i < 1 + r(5) && !p.full; i++) out.push(...iovaSteps(r, plans, devG, fresh, bases, cpu, 'link'));
    out.push(...iovaSteps(r, plans, devG, fresh, bases, cpu, 'sync'));
    for (let i = r(3); i > 0; i--) out.push(...iovaSteps(r, plans, devG, fresh, bases, cpu, 'access'));
    out.push(...iovaSteps(r, plans, devG, fresh, bases, cpu, r(3) === 0 ? 'free' : 'destroy'));
    return out;
  }
  if (force === 'alloc' || (force === undefined && ((c < 14 && live.length < 4) || live.length === 0))) {
    const orphan = live.length > 0 && r(25) === 0 ? pick(live) : undefined;
    const dev = orphan?.dev ?? pick(['a', 'b', 'b', 'c', 'c', 'c', 'd']);
    const G = devG[dev] ?? 0x1000n;
    const pad = BigInt(pick([0, 0, 0, 0x200, 0x234, 0xe00])) % G;
    const size = BigInt(pick([0x1000, 0x1800, 0x3000, 0x5000, 0x8000, 0x10000, 0x21000, 0x20_0000]));
    if (orphan) orphan.freed = true;
    const name = orphan?.name ?? `io${fresh()}`;
    plans.push({ name, dev, G, size, pad, dir: pick(DIRS), links: [], end: 0n, full: false, freed: false });
    return [`"${dev}" calls dma_iova_try_alloc with state ${name} phys ${hexa(alignUp(pick(bases), G) + pad)} size ${size} cpu ${cpu}`];
  }
  const dead = plans.filter((p) => p.freed);
  const p = force ? plans[plans.length - 1]! : misuse && dead.length > 0 && r(2) === 0 ? pick(dead) : pick(live); // use after free
  const dev = misuse && r(4) === 0 ? pick(['a', 'b', 'c', 'd']) : p.dev; // wrong device
  const G = p.G;
  const attrs = r(10) === 0 ? ' attrs [DMA_ATTR_SKIP_CPU_SYNC]' : '';
  const linkStep = (off: bigint, phys: bigint, size: bigint): string =>
    `"${dev}" calls dma_iova_link with state ${p.name} phys ${hexa(phys)} offset ${hexa(off)} size ${hexa(size)} dir ${p.dir}${attrs} cpu ${cpu}`;
  const unlinkStep = (off: bigint, size: bigint): string => `"${dev}" calls dma_iova_unlink with state ${p.name} offset ${hexa(off)} size ${hexa(size)} dir ${p.dir}${attrs} cpu ${cpu}`;
  const want = force ?? (c < 45 ? 'link' : c < 58 ? 'sync' : c < 72 ? 'access' : c < 80 ? 'unlink' : c < 88 ? 'destroy' : c < 94 ? 'free' : 'query');
  if (want === 'link') {
    if (misuse && p.links.length > 0) {
      const k = pick(p.links);
      return [pick([
        linkStep(k.off, alignUp(pick(bases), G), k.size), // over an earlier link: -EEXIST
        linkStep(p.end, alignUp(pick(bases), G), p.size - p.end + G), // past the allocation: refused
        linkStep(p.end + G, pick(bases) + 0x200n, G), // unaligned phys at offset > 0: -EIO
      ])];
    }
    const left = p.size - p.end;
    if (p.full || left <= 0n) return [`"${dev}" calls dma_iova_sync with state ${p.name} offset 0 size ${hexa(p.size)} cpu ${cpu}`];
    if (p.end === 0n && p.links.length === 0 && r(5) === 0) p.end = G * BigInt(1 + r(2)) - p.pad; // links need not start at 0
    const first = p.end === 0n;
    const head = first ? p.pad : 0n;
    // Every link but the last ends on a granule; the last may take whatever is left.
    const whole = BigInt(1 + r(4)) * G - head;
    const last = whole >= left || r(4) === 0;
    const size = last ? (r(3) === 0 ? left : left - BigInt(r(Number(left < 0x1000n ? left : 0x1000n)))) : whole;
    const phys = alignUp(pick(bases), G) + (first ? (misuse ? BigInt(pick([0x100, 0x200, 0])) : head) : 0n);
    p.links.push({ off: p.end, size });
    const step = linkStep(p.end, phys, size);
    p.end += size;
    p.full = last;
    return [step];
  }
  if (want === 'sync') return [`"${dev}" calls dma_iova_sync with state ${p.name} offset 0 size ${hexa(p.size)} cpu ${cpu}`];
  if (want === 'access' && p.links.length > 0) {
    const k = pick(p.links);
    const at = k.off + BigInt(r(Number(k.size < 0x100n ? k.size : 0x100n)));
    return [r(2) === 0
      ? `"${p.dev}" calls device_read with dma_addr $${p.name}+${hexa(at)} size 16`
      : `"${p.dev}" calls device_write with dma_addr $${p.name}+${hexa(at)} data {len 16, seed ${r(1000)}}`];
  }
  if (want === 'unlink' && p.links.length > 0) {
    // Unlink the last link (the next one goes there again), now and then one in the middle (a hole).
    const k = r(4) === 0 ? pick(p.links) : p.links[p.links.length - 1]!;
    p.links.splice(p.links.indexOf(k), 1);
    if (k.off + k.size === p.end) {
      p.end = k.off;
      p.full = false;
    }
    return [misuse ? unlinkStep(k.off, pick([k.size / 2n + 1n, k.size + G])) : unlinkStep(k.off, k.size)];
  }
  if (want === 'destroy') {
    const len = misuse ? pick([p.end / 2n, p.end + G, 0n]) : p.end;
    if (!misuse || len >= p.end) p.freed = true;
    return [`"${dev}" calls dma_iova_destroy with state ${p.name} mapped_len ${hexa(len)} dir ${p.dir}${attrs} cpu ${cpu}`];
  }
  if (want === 'free') {
    const out = misuse ? [] : p.links.map((k) => unlinkStep(k.off, k.size));
    if (!misuse || p.links.length === 0) p.freed = true;
    p.links = [];
    return [...out, `"${dev}" calls dma_iova_free with state ${p.name} cpu ${cpu}`];
  }
  return [r(2) === 0 ? `the kernel calls dma_use_iova with state ${p.name}` : `the kernel calls dma_iova_size with state ${p.name}`];
}

/** One program: IOMMU devices (strict, lazy, untrusted, non-coherent) and a direct one; mostly correct use. */
export function program(seed: number): string[] {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[r(xs.length)]!;
  const arm = r(4) !== 0;
  const ncpus = 1 + r(3);
  const page = pick(['4K', '4K', '4K', '16K', '64K']);
  // With 16K or 64K pages the IOMMU may offer 16K|32M or 64K|512M (granule = PAGE_SIZE) or keep 4K|2M|1G (granule below it).
  const bitmap = r(2) === 0 ? { '4K': '', '16K': ' pgsize_bitmap 0x2004000', '64K': ' pgsize_bitmap 0x20010000' }[page] : '';
  const pool = pick([' swiotlb {size 4M}', ' swiotlb {size 64M}', ' swiotlb {size 64M}', '']);
  const linux = pick(['6.12', 'newest']);
  const steps = [`a platform with arch ${arm ? 'arm64' : 'x86_64'} ${RAM}${pool} linux ${linux} ncpus ${ncpus} dma_debug ${r(2) === 0} page_size ${page}`];
  steps.push(`the kernel calls iommu_add with name lz mode lazy fq ${pick(['percpu', 'percpu', 'single'])}${r(5) === 0 ? ' forcedac true' : ''}${bitmap}`);
  steps.push(`the kernel calls iommu_add with name id mode ${pick(['identity', 'blocked', 'strict'])}`);
  // Reserved IOVA: none, the top 2 MiB below 4 GiB, or all of it (32-bit devices then fail, PCI ones go above 4 GiB).
  const reserved = pick(['', '', ' reserved [{start 0xFFE0_0000, end 0xFFFF_FFFF}]', ' reserved [{start 0x1000, end 0xFFF7_FFFF}]', ' reserved [{start 0x1000, end 0xFFFF_FFFF}]']);
  const stBitmap = r(2) === 0 ? bitmap : '';
  steps.push(`the kernel calls iommu_add with name st mode strict${reserved}${pick(['', '', '', ' ias 36', ' ias 32'])}${stBitmap}`);
  const devs = ['a', 'b', 'c'];
  steps.push(`a device "a" with iommu lz dma_mask ${pick(['DMA_BIT_MASK(64)', 'DMA_BIT_MASK(64)', 'DMA_BIT_MASK(32)'])}${r(4) === 0 ? ' segment_boundary_mask 0xFFFF' : ''}${r(3) === 0 ? ' max_segment_size 128K' : ''}`);
  steps.push(`a device "b" with iommu st bus ${pick(['pci', 'platform'])} coherent ${arm ? r(2) === 0 : true} dma_mask ${pick(['DMA_BIT_MASK(64)', 'DMA_BIT_MASK(36)', 'DMA_BIT_MASK(32)'])}` +
    ` coherent_dma_mask DMA_BIT_MASK(32)${r(3) === 0 ? ' max_segment_size 128K' : ''}`);
  const untrusted = r(2) === 0;
  const cIommu = pick(['st', 'lz']);
  // Now and then c shares a's domain (an IOMMU group), which needs the same IOMMU and a trusted device.
  const group = cIommu === 'lz' && !untrusted && r(3) === 0 ? ' group a' : '';
  steps.push(`a device "c" with iommu ${cIommu} untrusted ${untrusted} dma_mask DMA_BIT_MASK(64) min_align_mask ${pick(['0', '0xFFF'])}${group}`);
  steps.push(`a device "d" with dma_mask DMA_BIT_MASK(64)${r(3) === 0 ? ' iommu id' : ''}`);
  const all = [...devs, 'd'];
  // The IOVA granule each device's DMA domain uses: PAGE_SIZE where the IOMMU's smallest page is, else 4 KiB.
  const pageBytes = BigInt({ '4K': 0x1000, '16K': 0x4000, '64K': 0x10000 }[page]!);
  const gOf = (b: string | undefined): bigint => (b ? pageBytes : 0x1000n);
  const devG: Record<string, bigint> = { a: gOf(bitmap), b: gOf(stBitmap), c: cIommu === 'lz' ? gOf(bitmap) : gOf(stBitmap) };
  const plans: IovaPlan[] = [];
  const bases = [0x1000_0000n, 0x1000_8000n, 0x1_2000_0000n, 0x1_2020_0000n];
  const buf = (): { phys: bigint; size: bigint } => ({
    phys: pick(bases) + BigInt(pick([0, 0, 0x20, 0x40, 0x234, 0x1000, 0x10_0000])),
    size: BigInt(pick([32, 96, 100, 2048, 4096, 5000, 8192, 0x10000, 0x21000, 0x20_0000, 0x40_0000])),
  });
  const live: Live[] = [];
  const dead: Live[] = [];
  let n = 0;
  for (let i = 0; i < 80; i++) {
    if (linux === 'newest' && r(4) === 0) {
      steps.push(...iovaSteps(r, plans, devG, () => n++, bases, r(ncpus)));
      continue;
    }
    const c = r(100);
    const b = buf();
    const cpu = r(ncpus);
    if (c < 24) {
      const l: Live = { h: `m${n++}`, dev: pick(all), size: b.size, dir: pick(DIRS), kind: r(12) === 0 ? 'resource' : 'single' };
      const fn = l.kind === 'resource' ? 'dma_map_resource' : pick(['dma_map_phys', 'dma_map_page', 'dma_map_single']);
      steps.push(`"${l.dev}" calls ${fn} with phys ${hexa(b.phys)} size ${l.size} dir ${l.dir} cpu ${cpu} as ${l.h}`);
      live.push(l);
    } else if (c < 34) {
      const l: Live = { h: `s${n++}`, dev: pick(all), size: 0n, dir: pick(DIRS), kind: 'sg' };
      const ents = Array.from({ length: 1 + r(4) }, () => (r(3) === 0 ? { phys: b.phys + b.size, size: b.size } : buf()));
      steps.push(`"${l.dev}" calls ${pick(['dma_map_sg', 'dma_map_sgtable'])} with sg [${ents.map((e) => `{phys ${hexa(e.phys)}, length ${e.size}}`).join(', ')}] dir ${l.dir} cpu ${cpu} as ${l.h}`);
      live.push(l);
    } else if (c < 40) {
      const l: Live = { h: `c${n++}`, dev: pick(all), size: BigInt(pick([64, 4096, 12288, 65536])), dir: 'DMA_BIDIRECTIONAL', kind: 'coherent' };
      steps.push(`"${l.dev}" calls dma_alloc_coherent with size ${l.size} as ${l.h}`);
      live.push(l);
    } else if (c < 58 && live.length) {
      const l = pick(live);
      const dev = r(15) ? l.dev : pick(all);
      const off = l.kind === 'sg' ? `[${r(2)}].dma_address` : `+${pick([0, 8, 0x100])}`;
      steps.push(r(2)
        ? `"${dev}" calls device_write with dma_addr $${l.h}${off} data {len ${pick([16, 64, 256])}, seed ${r(1000)}}`
        : `"${dev}" calls device_read with dma_addr $${l.h}${off} size ${pick([16, 64])}`);
    } else if (c < 62 && live.length) {
      const l = pick(live.filter((x) => x.kind === 'single').length ? live.filter((x) => x.kind === 'single') : live);
      if (l.kind === 'single') steps.push(`"${l.dev}" calls ${pick(['dma_sync_single_for_cpu', 'dma_sync_single_for_device'])} with dma_addr $${l.h} size ${l.size} dir ${l.dir}`);
      else if (l.kind === 'sg') steps.push(`"${l.dev}" calls dma_sync_sg_for_cpu with sg $${l.h} dir ${l.dir}`);
    } else if (c < 80 && (live.length || dead.length)) {
      const again = dead.length > 0 && r(12) === 0;
      const l = again ? pick(dead) : pick(live.length ? live : dead);
      const wrong = r(20) === 0;
      if (l.kind === 'sg') steps.push(`"${l.dev}" calls dma_unmap_sg with sg $${l.h}${wrong ? ' nents 1' : ''} dir ${l.dir} cpu ${cpu}`);
      else if (l.kind === 'coherent') steps.push(`"${l.dev}" calls dma_free_coherent with size ${l.size} cpu_addr $${l.h}.cpu_addr dma_addr $${l.h}`);
      else steps.push(`"${l.dev}" calls ${l.kind === 'resource' ? 'dma_unmap_resource' : 'dma_unmap_phys'} with dma_addr $${l.h} size ${wrong ? l.size / 2n + 1n : l.size} dir ${l.dir} cpu ${cpu}`);
      if (!again) {
        live.splice(live.indexOf(l), 1);
        dead.push(l);
      }
    } else if (c < 87) {
      steps.push(`the kernel calls advance_time with ms ${pick([1, 5, 10, 11, 100, 1000])}`);
    } else if (c < 88) {
      // A burst: enough map+unmap rounds to fill a per-CPU flush-queue ring (255) and the range-cache magazines (127).
      const d = pick(['a', 'b', 'c']);
      const sz = pick(['4K', '8K']);
      steps.push(`the kernel calls repeat with times ${pick([40, 300])} ops [{op dma_map_phys, dev ${d}, phys ${hexa(b.phys & ~0xfffn)}, size ${sz}, dir DMA_TO_DEVICE, cpu ${cpu}, as r}, ` +
        `{op dma_unmap_phys, dev ${d}, dma_addr $r, size ${sz}, dir DMA_TO_DEVICE, cpu ${cpu}}]`);
    } else if (c < 93) {
      const iova = BigInt(pick([0x10_0000, 0x20_0000, 0x4000_0000])) + BigInt(pick([0, 0x1000, 0x1F_F000]));
      const size = BigInt(pick([0x1000, 0x2000, 0x20_0000, 0x40_0000]));
      const dom = r(8) === 0 ? 'a' : pick(['lz', 'st']); // now and then a lower-layer op on a DMA domain: misuse
      steps.push(pick([
        `the kernel calls iommu_map with domain ${dom} iova ${hexa(iova)} paddr ${hexa(iova + BigInt(pick([0, 0x1000, 0x20_0000])))} size ${size} prot ${pick([1, 2, 3, 7])}`,
        `the kernel calls iommu_unmap with domain ${dom} iova ${hexa(iova)} size ${size}`,
        `the kernel calls iommu_unmap_fast with domain ${dom} iova ${hexa(iova)} size ${size}`,
        `the kernel calls iommu_iotlb_sync with domain ${dom}`,
        `the kernel calls iommu_iova_to_phys with domain ${dom} iova ${hexa(iova + 0x123n)}`,
        `the kernel calls iommu_map_sg with domain ${dom} iova ${hexa(iova)} sg [{phys 0x1000_0000, length 0x1000}, {phys 0x1000_1000, length ${pick(['0x1000', '0x1F_F000'])}}] prot 3`,
      ]));
    } else if (c < 97) {
      steps.push(pick([
        `the kernel calls init_iova_domain with name iv granule 4K start_pfn ${pick(['1', '0xFFF00', '0xFFFC0'])}`,
        `the kernel calls alloc_iova with domain iv size ${1 + r(40)} limit_pfn ${pick(['0xFFFFF', '0xFFFF', '0x1FF'])} as v${n++}`,
        `the kernel calls alloc_iova_fast with domain iv size ${1 + r(40)} limit_pfn ${pick(['0xFFFFF', '0x3FF'])} cpu ${cpu} as v${n++}`,
        `the kernel calls free_iova with domain iv pfn $v${r(n + 1)}`,
        `the kernel calls reserve_iova with domain iv pfn_lo 0x${(0x100 + r(64)).toString(16)} pfn_hi 0x${(0x140 + r(64)).toString(16)}`,
        `the kernel calls iova_cpuhp_dead with domain ${pick(['iv', 'a', 'b'])} cpu ${cpu}`,
      ]));
    } else steps.push(`"${pick(all)}" calls dma_set_mask_and_coherent with mask ${pick(['DMA_BIT_MASK(64)', 'DMA_BIT_MASK(32)', 'DMA_BIT_MASK(40)'])}`);
  }
  for (const d of all) steps.push(`device "${d}" is removed`);
  return steps;
}


test('all invariants: 300 random IOMMU driver programs raise no violation', () => {
  for (let seed = 1; seed <= 300; seed++) {
    const steps = program(seed);
    const s = runProgram(steps);
    assert.deepEqual(s.fired(), [], `seed ${seed}\n${s.report()}\n${steps.join('\n')}`);
  }
});

test('the random programs catch every planted IOVA-API fault', () => {
  const faults = ['iova-link-ignores-offset', 'iova-link-drops-head-pad', 'iova-unlink-no-sync', 'iova-destroy-frees-alloc-size', 'iova-destroy-bypasses-fq', 'iova-destroy-clears-state'] as const;
  for (const f of faults) {
    let seed = 1;
    while (seed <= 300 && runProgram(program(seed), new Session({ faults: [f] })).fired().length === 0) seed++;
    assert.ok(seed <= 300, `no program of seeds 1..300 caught ${f}`);
  }
});

test('the part-2 invariants never fire on direct-path devices, and part 1 never on IOMMU devices, whatever the fault', () => {
  // Every IOMMU fault planted: direct-path traffic must stay silent under the part-2 invariants.
  const faults = ['iova-alloc-overlap', 'iova-ignore-limit', 'rcache-double-insert', 'lazy-unmap-no-invalidate', 'strict-unmap-no-sync', 'dma-iommu-drops-offset', 'pgsize-wrong-choice'] as const;
  const s = new Session({ faults: [...faults], invariants: PART2 });
  s.run(`a platform with arch arm64 ${RAM} swiotlb {size 64M}`, 'the kernel calls iommu_add with name smmu mode lazy',
    'a device "d" with dma_mask DMA_BIT_MASK(32) coherent false', 'a device "idm" with iommu smmu dma_mask DMA_BIT_MASK(64)',
    '"d" calls dma_map_phys with phys 0x1_2000_0100 size 5000 dir DMA_FROM_DEVICE as a', '"d" calls device_write with dma_addr $a data {len 64, seed 1}',
    '"d" calls dma_map_sg with sg [{phys 0x1000_0000, length 4K}, {phys 0x1_1000_0000, length 4K}] dir DMA_TO_DEVICE as s',
    '"d" calls dma_unmap_sg with sg $s dir DMA_TO_DEVICE', '"d" calls dma_unmap_phys with dma_addr $a size 5000 dir DMA_FROM_DEVICE',
    '"d" calls dma_alloc_coherent with size 8K as c', '"d" calls dma_free_coherent with size 8K cpu_addr $c.cpu_addr dma_addr $c', 'the kernel calls advance_time with ms 50');
  assert.deepEqual(s.fired(), [], s.report());
  // Part 1 on IOMMU traffic: silent (its checkers skip IOMMU devices).
  const part1 = INVARIANTS.map((f) => f.info.id).filter((id) => !PART2.includes(id));
  for (let seed = 1; seed <= 40; seed++) {
    const t = runProgram(program(seed), new Session({ invariants: part1 }));
    assert.deepEqual(t.fired(), [], `seed ${seed}\n${t.report()}`);
  }
});
