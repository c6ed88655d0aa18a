/**
 * Fuzz platforms: the named machines every campaign starts from, random ones
 * within sane bounds, and the shape the generator reads back out of any
 * platform op list (where RAM and the swiotlb pool are, what each device can
 * reach). A platform is a plain op list: `platform`, then `iommu_add`s, then
 * `device_add`s, exactly what a corpus file starts with.
 */
import { parseOp } from '../ops/json';
import type { Json } from '../ops/kinds';
import type { Op, OpOf } from '../ops/types';
import type { Rng } from './types';

type JsonOp = { [k: string]: Json };

const MSI_WINDOW = [{ start: '0xFEE00000', end: '0xFEEFFFFF' }]; // VT-d reserves the x86 interrupt window

/** The named default platforms, in the order campaigns cycle through them. */
export const PLATFORM_NAMES = ['x86-vtd', 'arm64-smmu', 'no-iommu-32bit', 'thunderbolt-untrusted', 'cc-bounce'] as const;
export type PlatformName = (typeof PLATFORM_NAMES)[number];

const NAMED: Record<PlatformName, readonly JsonOp[]> = {
  /** x86 server: VT-d in lazy mode (the x86 default), iotlb_sync_map, a 32-bit SATA controller behind it. */
  'x86-vtd': [
    { op: 'platform', arch: 'x86_64', ram: [{ base: '0', size: '3G' }, { base: '4G', size: '5G' }], ncpus: 2, swiotlb: { size: '64M' } },
    { op: 'iommu_add', name: 'vtd', mode: 'lazy', has_iotlb_sync_map: true, reserved: MSI_WINDOW },
    { op: 'device_add', name: 'nic', iommu: 'vtd', dma_mask: 'DMA_BIT_MASK(64)', coherent_dma_mask: 'DMA_BIT_MASK(64)' },
    { op: 'device_add', name: 'nvme', iommu: 'vtd', dma_mask: 'DMA_BIT_MASK(64)', coherent_dma_mask: 'DMA_BIT_MASK(64)', min_align_mask: '0xFFF', max_segment_size: '0xFFFFFFFF' },
    { op: 'device_add', name: 'ahci', iommu: 'vtd', dma_mask: 'DMA_BIT_MASK(32)' },
  ],
  /** arm64 SoC: strict SMMU, a non-coherent GPU behind it, a non-coherent 32-bit MMC with dma-ranges on the direct path. */
  'arm64-smmu': [
    { op: 'platform', arch: 'arm64', ram: [{ base: '0x80000000', size: '2G' }, { base: '0x880000000', size: '4G' }], ncpus: 4, cache_line: 64, swiotlb: { size: '32M' } },
    { op: 'iommu_add', name: 'smmu', mode: 'strict' },
    { op: 'device_add', name: 'gpu', bus: 'platform', iommu: 'smmu', coherent: false, dma_mask: 'DMA_BIT_MASK(40)', coherent_dma_mask: 'DMA_BIT_MASK(40)' },
    { op: 'device_add', name: 'nic', iommu: 'smmu', dma_mask: 'DMA_BIT_MASK(64)', coherent_dma_mask: 'DMA_BIT_MASK(64)' },
    {
      op: 'device_add', name: 'mmc', bus: 'platform', coherent: false, dma_mask: 'DMA_BIT_MASK(32)',
      // SoC dma-ranges: both banks shifted down, so a 32-bit mask reaches the low bank and half the high one.
      dma_range_map: [{ cpu_start: '0x80000000', dma_start: '0x0', size: '2G' }, { cpu_start: '0x880000000', dma_start: '0x80000000', size: '4G' }],
    },
  ],
  /** No IOMMU: a 32-bit PCI device and an ISA-style 24-bit one bounce through swiotlb; a 64 KiB-boundary block device. */
  'no-iommu-32bit': [
    { op: 'platform', arch: 'x86_64', ram: [{ base: '0', size: '3G' }, { base: '4G', size: '4G' }], swiotlb: { size: '64M' } },
    { op: 'device_add', name: 'old', dma_mask: 'DMA_BIT_MASK(32)' },
    { op: 'device_add', name: 'isa', dma_mask: 'DMA_BIT_MASK(24)', coherent_dma_mask: 'DMA_BIT_MASK(24)' },
    { op: 'device_add', name: 'fast', dma_mask: 'DMA_BIT_MASK(64)', coherent_dma_mask: 'DMA_BIT_MASK(64)' },
    { op: 'device_add', name: 'blk', dma_mask: 'DMA_BIT_MASK(64)', max_segment_size: '64K', segment_boundary_mask: '0xFFFF' },
  ],
  /** Thunderbolt: untrusted devices get strict domains and bounce sub-granule pieces (iommu.md §3.6). */
  'thunderbolt-untrusted': [
    { op: 'platform', arch: 'x86_64', ram: [{ base: '0', size: '2G' }, { base: '4G', size: '6G' }], ncpus: 2, swiotlb: { size: '64M' } },
    { op: 'iommu_add', name: 'vtd', mode: 'lazy', has_iotlb_sync_map: true, reserved: MSI_WINDOW },
    { op: 'device_add', name: 'tbt-nvme', iommu: 'vtd', untrusted: true, dma_mask: 'DMA_BIT_MASK(64)', coherent_dma_mask: 'DMA_BIT_MASK(64)', min_align_mask: '0xFFF' },
    { op: 'device_add', name: 'tbt-eth', iommu: 'vtd', untrusted: true, dma_mask: 'DMA_BIT_MASK(64)' },
    { op: 'device_add', name: 'nic', iommu: 'vtd', dma_mask: 'DMA_BIT_MASK(64)', coherent_dma_mask: 'DMA_BIT_MASK(64)' },
  ],
  /** Confidential-computing guest: every streaming mapping bounces through the (shared) swiotlb pool. */
  'cc-bounce': [
    { op: 'platform', arch: 'x86_64', ram: [{ base: '0', size: '2G' }, { base: '4G', size: '2G' }], ncpus: 4, swiotlb: { size: '64M', force: true } },
    { op: 'device_add', name: 'virtio-net', dma_mask: 'DMA_BIT_MASK(64)', coherent_dma_mask: 'DMA_BIT_MASK(64)' },
    { op: 'device_add', name: 'virtio-blk', dma_mask: 'DMA_BIT_MASK(64)', coherent_dma_mask: 'DMA_BIT_MASK(64)', max_segment_size: '128K' },
    { op: 'device_add', name: 'nvme', dma_mask: 'DMA_BIT_MASK(64)', min_align_mask: '0xFFF' },
  ],
};

const parseAll = (ops: readonly JsonOp[], where: string): Op[] => ops.map((o, i) => parseOp(o, `${where}[${i}]`));

const isPlatformName = (s: string): s is PlatformName => (PLATFORM_NAMES as readonly string[]).includes(s);

/** namedPlatform - the op list of a named default platform; throws RangeError for an unknown name. */
export function namedPlatform(name: string): Op[] {
  if (!isPlatformName(name)) throw new RangeError(`no platform "${name}" (one of ${PLATFORM_NAMES.join(', ')})`);
  return parseAll(NAMED[name], name);
}

// ---- random platforms ---------------------------------------------------------------------------

const hex = (v: bigint): string => `0x${v.toString(16)}`;
const G = 1n << 30n;
const M = 1n << 20n;
const U64_MAX = (1n << 64n) - 1n;
export const DMA_BIT_MASK = (n: number): bigint => (n >= 64 ? U64_MAX : (1n << BigInt(n)) - 1n);

/** RAM layouts worth a platform: flat low memory, a PCI hole below 4 GiB, arm64 banks, nothing low at all. */
const RAM_LAYOUTS: readonly (readonly [bigint, bigint][])[] = [
  [[0n, 1n * G]],
  [[0n, 4n * G]],
  [[0n, 2n * G], [4n * G, 2n * G]],
  [[0n, 3n * G], [4n * G, 12n * G]],
  [[0n, 8n * G]], // one region across 4 GiB: buffers and bounces on both sides of the edge
  [[0n, 64n * M], [4n * G, 4n * G]], // little low memory: DMA32 pressure
  [[0x8000_0000n, 2n * G], [0x8_8000_0000n, 2n * G]],
  [[0x4000_0000n, 1n * G]],
  [[4n * G, 4n * G]], // nothing below 4 GiB: no pool, 32-bit coherent allocations fail
];

const MASK_BITS = [24, 32, 32, 36, 39, 40, 48, 64, 64, 64] as const;

/** The IOMMU page sizes that suit a CPU page size (granule <= PAGE_SIZE, LPAE leaf sizes). */
function pgsizeBitmaps(page: bigint): readonly bigint[] {
  if (page === 0x4000n) return [0x200_4000n, 0x4020_1000n];
  if (page === 0x1_0000n) return [0x2001_0000n, 0x4020_1000n];
  return [0x4020_1000n, 0x20_1000n, 0x1000n];
}

interface RandomCtx {
  readonly rng: Rng;
  readonly arm: boolean;
  readonly ram: readonly [bigint, bigint][];
  readonly pool: boolean;
  readonly iommus: readonly string[];
}

/**
 * randomPlatform - a random machine the engine accepts: x86_64 (4K pages,
 * coherent) or arm64 (4K/16K/64K pages, non-coherent devices), 1–4 CPUs, a
 * RAM layout from RAM_LAYOUTS, a swiotlb pool from tiny to 64 MiB (or none),
 * 0–2 IOMMUs (strict, lazy or identity) and 1–4 devices.
 */
export function randomPlatform(rng: Rng): Op[] {
  const arm = rng.chance(0.5);
  const page = arm ? rng.pick([0x1000n, 0x1000n, 0x4000n, 0x1_0000n]) : 0x1000n;
  const ram = rng.pick(RAM_LAYOUTS);
  const low = ram.filter(([b]) => b < 4n * G).reduce((m, [, s]) => (s > m ? s : m), 0n);
  const ncpus = 1 + rng.int(4);
  const poolSize = rng.pick([0n, 256n << 10n, 1n * M, 4n * M, 64n * M, 64n * M]);
  const pool = poolSize > 0n && poolSize * 4n <= low;
  const platform: JsonOp = {
    op: 'platform', arch: arm ? 'arm64' : 'x86_64', page_size: hex(page), ncpus,
    ram: ram.map(([base, size]) => ({ base: hex(base), size: hex(size) })),
    ...(arm ? { cache_line: rng.pick([64, 64, 128]) } : {}),
    ...(rng.chance(0.3) ? { linux: '6.12' } : {}),
    ...(rng.chance(0.2) ? { dmapool_debug: true } : {}),
    ...(pool ? { swiotlb: { size: hex(poolSize), ...(rng.chance(0.2) ? { nareas: rng.pick([1, 2, 4]) } : {}), ...(rng.chance(0.1) ? { force: true } : {}) } } : {}),
  };
  const iommus: JsonOp[] = Array.from({ length: rng.pick([0, 1, 1, 2]) }, (_, i) => randomIommu(rng, `iommu${i}`, page, arm));
  const ctx: RandomCtx = { rng, arm, ram, pool, iommus: iommus.map((o) => o.name as string) };
  const devices = Array.from({ length: 1 + rng.int(4) }, (_, i) => randomDevice(ctx, `d${i}`));
  return parseAll([platform, ...iommus, ...devices], 'random-platform');
}

function randomIommu(rng: Rng, name: string, page: bigint, arm: boolean): JsonOp {
  return {
    op: 'iommu_add', name,
    mode: rng.pick(['strict', 'lazy', 'lazy', 'identity']),
    pgsize_bitmap: hex(rng.pick(pgsizeBitmaps(page))),
    ...(rng.chance(0.2) ? { ias: rng.pick([32, 39, 40]) } : {}),
    ...(rng.chance(0.3) ? { fq: 'single' } : {}),
    ...(!arm || rng.chance(0.3) ? { has_iotlb_sync_map: rng.chance(0.7) } : {}),
    ...(rng.chance(0.15) ? { forcedac: true } : {}),
    ...(!arm && rng.chance(0.5) ? { reserved: MSI_WINDOW } : {}),
  };
}

function randomDevice(ctx: RandomCtx, name: string): JsonOp {
  const { rng } = ctx;
  const iommu = ctx.iommus.length > 0 && rng.chance(0.6) ? rng.pick(ctx.iommus) : undefined;
  const bits = rng.pick(MASK_BITS);
  const out: JsonOp = {
    op: 'device_add', name,
    bus: rng.pick(['pci', 'pci', 'platform']),
    dma_mask: `DMA_BIT_MASK(${bits})`,
    coherent_dma_mask: `DMA_BIT_MASK(${rng.chance(0.5) ? bits : rng.pick([32, 64])})`,
  };
  if (iommu) out.iommu = iommu;
  if (ctx.arm && rng.chance(0.5)) out.coherent = false;
  // dma-iommu refuses a min_align_mask wider than the IOVA granule ("Unsupported alignment constraint").
  if (rng.chance(0.25)) out.min_align_mask = hex(rng.pick(iommu ? [0x7ffn, 0xfffn] : [0x7ffn, 0xfffn, 0x3fffn]));
  if (rng.chance(0.25)) out.max_segment_size = hex(rng.pick([0x1000n, 0x8000n, 0x2_0000n, 0x10_0000n, 0xffff_ffffn]));
  if (rng.chance(0.25)) out.segment_boundary_mask = hex(rng.pick([0xffffn, 0xf_ffffn, 0xffff_ffffn, U64_MAX]));
  if (iommu && ctx.pool && rng.chance(0.25)) out.untrusted = true; // bounces need a pool
  if (!iommu && rng.chance(0.15)) out.bus_dma_limit = hex(DMA_BIT_MASK(rng.pick([32, 36, 40])));
  if (!iommu && ctx.pool && rng.chance(0.1)) out.force_bounce = true;
  if (!iommu && rng.chance(0.15)) out.dma_range_map = rangeMap(ctx);
  return out;
}

/** dma-ranges covering every RAM bank, shifted down (the lowest bank at DMA 0) or up by 1 GiB. */
function rangeMap(ctx: RandomCtx): Json {
  const lowest = ctx.ram.reduce((m, [b]) => (b < m ? b : m), ctx.ram[0]![0]);
  const down = ctx.rng.chance(0.5) && lowest > 0n;
  return ctx.ram.map(([base, size]) => ({ cpu_start: hex(base), dma_start: hex(down ? base - lowest : base + G), size: hex(size) }));
}

// ---- the shape the generator reads ---------------------------------------------------------------

export interface Range {
  readonly lo: bigint;
  /** Exclusive. */
  readonly hi: bigint;
}

export interface IommuShape {
  readonly name: string;
  readonly mode: 'strict' | 'lazy' | 'identity' | 'blocked';
  /** The DMA domain's IOVA granule: the smallest IOMMU page left after the LPAE restriction. */
  readonly granule: bigint;
}

export interface DeviceShape {
  readonly name: string;
  /** The default domain's name (the device's, or its group's), for iommu_info / iova_info. */
  readonly domain: string;
  /** How the DMA API reaches memory: dma-iommu (DMA or DMA_FQ domain), dma-direct, or a blocked domain. */
  readonly path: 'dma-iommu' | 'direct' | 'blocked';
  readonly lazy: boolean;
  readonly granule: bigint;
  readonly bus: 'pci' | 'platform';
  readonly coherent: boolean;
  readonly untrusted: boolean;
  readonly force_bounce: boolean;
  readonly dma_mask: bigint;
  readonly coherent_dma_mask: bigint;
  readonly bus_dma_limit: bigint;
  readonly dma_range_map: readonly { cpu_start: bigint; dma_start: bigint; size: bigint }[] | null;
  readonly min_align_mask: bigint;
  readonly max_segment_size: bigint;
  readonly segment_boundary_mask: bigint;
}

export interface PlatformShape {
  readonly arch: 'x86_64' | 'arm64';
  readonly linux: '6.12' | 'newest';
  readonly page_size: bigint;
  readonly cache_line: bigint;
  readonly ncpus: number;
  readonly ram: readonly Range[];
  /** The default pool where the engine puts it (top of the highest RAM below 4 GiB). */
  readonly swiotlb: (Range & { readonly force: boolean }) | null;
}

/** swiotlb_geometry + the engine's placement, so the generator knows which bytes belong to the pool. */
export function platformShape(op: OpOf<'platform'>): PlatformShape {
  const page_size = op.page_size ?? 0x1000n;
  const ncpus = op.ncpus ?? 1;
  const ram = (op.ram ?? [{ base: 0n, size: 4n * G }]).map((r) => ({ lo: r.base, hi: r.base + r.size }));
  let swiotlb: PlatformShape['swiotlb'] = null;
  if (op.swiotlb && op.swiotlb.size > 0n) {
    const areas = roundupPow2(Math.max(1, op.swiotlb.nareas ?? ncpus));
    let slots = Number((op.swiotlb.size >> 11n) + 127n) & ~127;
    slots = slots < 128 * areas ? roundupPow2(128 * areas) : roundupPow2(slots);
    const bytes = BigInt(slots) << 11n;
    const base = op.swiotlb.base ?? poolBase(ram, bytes, page_size);
    if (base !== undefined) swiotlb = { lo: base, hi: base + bytes, force: op.swiotlb.force ?? false };
  }
  return {
    arch: op.arch ?? 'x86_64', linux: op.linux ?? 'newest', page_size, ncpus, ram, swiotlb,
    cache_line: BigInt(op.cache_line ?? 64),
  };
}

function roundupPow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

function poolBase(ram: readonly Range[], bytes: bigint, page: bigint): bigint | undefined {
  let base: bigint | undefined;
  for (const r of ram) {
    const top = r.hi < 4n * G ? r.hi : 4n * G;
    if (top - r.lo < bytes) continue;
    const cand = ((top - bytes) / page) * page;
    if (cand >= r.lo && (base === undefined || cand > base)) base = cand;
  }
  return base;
}

/** The granule arm_lpae_geometry settles on: PAGE_SIZE if offered, else the largest below, else the smallest above. */
export function iommuShape(op: OpOf<'iommu_add'>, page: bigint): IommuShape {
  const bitmap = op.pgsize_bitmap ?? 0x4020_1000n;
  const below = bitmap & (page - 1n);
  const above = bitmap & ~(page - 1n);
  let granule = page;
  if (!(bitmap & page)) granule = below ? 1n << BigInt(below.toString(2).length - 1) : above & -above;
  return { name: op.name, mode: op.mode ?? 'strict', granule };
}

/** What a device_add makes, with the engine's defaults (engine/setup.ts createDevice). */
export function deviceShape(op: OpOf<'device_add'>, plat: PlatformShape, iommus: ReadonlyMap<string, IommuShape>): DeviceShape {
  const bus = op.bus ?? 'pci';
  const iommu = op.iommu === undefined ? undefined : iommus.get(op.iommu);
  const untrusted = op.untrusted ?? false;
  const mode = iommu === undefined ? undefined : untrusted ? 'strict' : iommu.mode;
  return {
    name: op.name, domain: op.group ?? op.name, bus,
    path: mode === 'strict' || mode === 'lazy' ? 'dma-iommu' : mode === 'blocked' ? 'blocked' : 'direct',
    lazy: mode === 'lazy',
    granule: mode === 'strict' || mode === 'lazy' ? iommu!.granule : plat.page_size,
    coherent: op.coherent ?? true,
    untrusted,
    force_bounce: op.force_bounce ?? false,
    dma_mask: op.dma_mask === 'none' ? 0n : op.dma_mask ?? DMA_BIT_MASK(32),
    coherent_dma_mask: op.coherent_dma_mask ?? DMA_BIT_MASK(32),
    bus_dma_limit: op.bus_dma_limit ?? 0n,
    dma_range_map: op.dma_range_map ?? null,
    min_align_mask: op.min_align_mask ?? 0n,
    max_segment_size: op.max_segment_size ?? 0x1_0000n,
    segment_boundary_mask: op.segment_boundary_mask ?? (bus === 'pci' ? 0xffff_ffffn : U64_MAX),
  };
}

/** translate_phys_to_dma: the first dma-ranges entry holding phys, or undefined. */
export function physToDma(dev: DeviceShape, phys: bigint): bigint | undefined {
  if (!dev.dma_range_map) return phys;
  for (const m of dev.dma_range_map) if (phys >= m.cpu_start && phys - m.cpu_start < m.size) return m.dma_start + (phys - m.cpu_start);
  return undefined;
}

/**
 * dmaReachable - would dma-direct map [phys, +size) without bouncing: both ends
 * translate, contiguously, to DMA addresses at or below min_not_zero(mask, bus_dma_limit).
 */
export function dmaReachable(dev: DeviceShape, mask: bigint, phys: bigint, size: bigint): boolean {
  const a = physToDma(dev, phys);
  const b = physToDma(dev, phys + size - 1n);
  if (a === undefined || b === undefined || b - a !== size - 1n) return false;
  const limit = mask === 0n ? dev.bus_dma_limit : dev.bus_dma_limit === 0n || mask < dev.bus_dma_limit ? mask : dev.bus_dma_limit;
  return b <= limit;
}

/**
 * arenas - where a driver's own buffers may live: the lower half of every zone
 * piece of every RAM bank (below 16 MiB, below 4 GiB, above), clear of the pool.
 * The page allocator behind coherent memory and dma_pools fills each zone from
 * the top (mm/page-alloc.ts), so the two never meet.
 */
export function arenas(plat: PlatformShape): Range[] {
  const out: Range[] = [];
  const page = plat.page_size;
  const cut = (r: Range, hole: Range): Range[] =>
    hole.hi <= r.lo || hole.lo >= r.hi ? [r] : [{ lo: r.lo, hi: hole.lo > r.lo ? hole.lo : r.lo }, { lo: hole.hi < r.hi ? hole.hi : r.hi, hi: r.hi }];
  for (const bank of plat.ram) {
    const edges = [bank.lo, ...[16n * M, 4n * G].filter((e) => e > bank.lo && e < bank.hi), bank.hi];
    for (let i = 0; i + 1 < edges.length; i++) {
      const lo = edges[i]! > M ? edges[i]! : M;
      let pieces: Range[] = [{ lo, hi: edges[i]! + (edges[i + 1]! - edges[i]!) / 2n }];
      if (plat.swiotlb) pieces = pieces.flatMap((r) => cut(r, plat.swiotlb!));
      for (const r of pieces) {
        const a = ((r.lo + page - 1n) / page) * page;
        const b = (r.hi / page) * page;
        if (b - a >= 0x1_0000n) out.push({ lo: a, hi: b });
      }
    }
  }
  return out;
}

/** The first gap in the physical map below 4 GiB (device MMIO for dma_map_resource), if any. */
export function mmioHole(plat: PlatformShape): bigint | undefined {
  const sorted = [...plat.ram].sort((a, b) => (a.lo < b.lo ? -1 : 1));
  let at = 0x1000_0000n;
  for (const r of sorted) {
    if (r.hi <= at) continue;
    if (r.lo >= at + 16n * M) break;
    at = r.hi;
  }
  return at + 16n * M <= 4n * G ? at : undefined;
}
