/**
 * One machine: RAM, the CPU cache, the swiotlb pool, the page allocator,
 * dma-debug and the devices. All state of a run hangs off one Platform, so a
 * fuzzer can run many in one process (STYLE.md: no module-level state).
 */
import { ArchDmaSync } from './dma/arch-sync';
import type { CoherentAllocation, CoherentEnv } from './dma/coherent';
import { DmaDebug } from './dma/debug';
import { dma_to_phys, phys_to_dma, type DirectEnv } from './dma/direct';
import type { DmaPool } from './dma/dmapool';
import { IoTlbMem, type SwiotlbEnv } from './dma/swiotlb';
import { swiotlb_geometry } from './dma/swiotlb-pool';
import { DMA_BIT_MASK, type Arch, type Device, type LinuxVersion } from './dma/types';
import { CpuCache } from './mem/cpu-cache';
import { PhysMem } from './mem/phys-mem';
import { PageAllocator } from './mm/page-alloc';
import type { FaultName } from './faults';
import { Timers } from './timers';
import type { IommuDmaEnv } from './iommu/dma-iommu';
import { IommuRegistry } from './iommu/iommu-devices';
import type { IovaDomain } from './iommu/iova';
import type { DmaIovaState } from './iommu/dma-iova';
import { WarnSink } from './warn';

export interface SwiotlbPlatformConfig {
  size: bigint;
  nareas?: number;
  force?: boolean;
  base?: bigint;
  dynamic?: boolean;
}

export interface PlatformConfig {
  ram: readonly { base: bigint; size: bigint }[];
  page_size: number;
  cache_line: number;
  ncpus: number;
  arch: Arch;
  linux: LinuxVersion;
  swiotlb?: SwiotlbPlatformConfig;
  dma_debug: boolean;
  dma_debug_entries?: number;
  dma_debug_num_errors?: number;
  dma_debug_all_errors?: boolean;
  dmapool_debug?: boolean;
  zone_dma_limit: bigint;
}

export const DEFAULT_PLATFORM: PlatformConfig = {
  ram: [{ base: 0n, size: 4n << 30n }],
  page_size: 4096,
  cache_line: 64,
  ncpus: 1,
  arch: 'x86_64',
  linux: 'newest',
  dma_debug: true,
  zone_dma_limit: DMA_BIT_MASK(24),
};

/** Bad platform or device configuration: a clear message, never a half-built machine. */
export class ConfigError extends Error {
  constructor(readonly field: string, message: string) {
    super(`${field}: ${message}`);
    this.name = 'ConfigError';
  }
}

const FOUR_GIB = 1n << 32n;
const IO_TLB_SIZE = 2048n;

/** Faults planted for fault-injection tests and the fuzzer's self-test (src/faults.ts lists them). */
export type { FaultName } from './faults';

export class Platform implements DirectEnv, IommuDmaEnv {
  readonly mem: PhysMem;
  readonly cache: CpuCache;
  readonly arch: ArchDmaSync;
  readonly swiotlb: IoTlbMem | null;
  readonly pages: PageAllocator;
  readonly debug: DmaDebug | null;
  readonly warn = new WarnSink();
  readonly devices = new Map<string, Device>();
  readonly coherent = new Map<bigint, { dev: string; alloc: CoherentAllocation }>();
  readonly pools = new Map<string, DmaPool>();
  readonly faults = new Set<FaultName>();
  /** The CPU the current op runs on (set by the engine from the op's `cpu`). */
  current_cpu = 0;
  /** Model time: flush-queue timers and depot trimming run on advance_time. */
  readonly timers = new Timers();
  /** IOMMUs, their domains and which device uses which (part 2). */
  readonly iommu: IommuRegistry;
  /** The drivers' struct dma_iova_state, by name (the IOVA-based API). */
  readonly iova_states = new Map<string, DmaIovaState>();
  /** Stand-alone IOVA domains made by init_iova_domain, for allocator conformance. */
  readonly iova_domains = new Map<string, IovaDomain>();

  readonly arch_name: Arch;
  readonly linux: LinuxVersion;
  readonly cache_alignment: number;
  readonly ram_end: bigint;
  readonly page_size: bigint;
  readonly zone_dma_limit: bigint;
  readonly ram: readonly { base: bigint; size: bigint }[];

  constructor(readonly config: PlatformConfig) {
    validate(config);
    this.arch_name = config.arch;
    this.linux = config.linux;
    this.ram = config.ram;
    this.page_size = BigInt(config.page_size);
    this.zone_dma_limit = config.zone_dma_limit;
    this.ram_end = config.ram.reduce((m, r) => (r.base + r.size > m ? r.base + r.size : m), 0n);
    // x86 has no non-coherent DMA: dma_get_cache_alignment() is 1 there.
    this.cache_alignment = config.arch === 'arm64' ? config.cache_line : 1;
    this.mem = new PhysMem(config.ram);
    this.cache = new CpuCache(this.mem, config.cache_line);
    this.cache.transparent(); // until a non-coherent device arrives (see CpuCache.tracking)
    this.arch = new ArchDmaSync(this.cache, { batched: config.arch === 'arm64' && config.linux === 'newest', ncpus: config.ncpus, faults: this.faults });
    this.swiotlb = config.swiotlb ? this.createSwiotlb(config.swiotlb) : null;
    const reserved = this.swiotlb ? [{ base: this.swiotlb.start, size: this.swiotlb.end - this.swiotlb.start }] : [];
    this.pages = new PageAllocator(config.ram, reserved, config.page_size);
    this.debug = config.dma_debug
      ? new DmaDebug({
        warn: this.warn,
        linux: config.linux,
        cacheline_shift: Math.log2(config.cache_line),
        bounce_unaligned_kmalloc: config.arch === 'arm64',
        dma_cache_alignment: this.cache_alignment,
        page_size: config.page_size,
        ...(config.dma_debug_entries !== undefined ? { entries: config.dma_debug_entries } : {}),
        ...(config.dma_debug_num_errors !== undefined ? { num_errors: config.dma_debug_num_errors } : {}),
        ...(config.dma_debug_all_errors !== undefined ? { all_errors: config.dma_debug_all_errors } : {}),
        faults: this.faults,
      })
      : null;
    this.iommu = new IommuRegistry({
      linux: config.linux, page_size: config.page_size, ncpus: config.ncpus, timers: this.timers, warn: this.warn, cpu: () => this.current_cpu, faults: this.faults,
    });
  }

  cpu(): number {
    return this.current_cpu;
  }

  pci_32bit_workaround(dev: Device): boolean {
    return this.iommu.pci_32bit_workaround.get(dev.name) ?? false;
  }

  clear_pci_32bit_workaround(dev: Device): void {
    this.iommu.pci_32bit_workaround.set(dev.name, false);
  }

  device(name: string): Device | undefined {
    return this.devices.get(name);
  }

  /** The environment swiotlb needs: CPU memcpy through the cache, flush, warnings. */
  private swiotlbEnv(): SwiotlbEnv {
    return {
      memcpy: (dst: bigint, src: bigint, len: number) => this.cache.memcpy(dst, src, len),
      batched: this.arch.batched,
      arch_sync_dma_flush: (cpu: number) => this.arch.arch_sync_dma_flush(cpu),
      warn: this.warn,
      cpu: () => this.current_cpu,
      phys_to_dma_unencrypted: (dev, phys) => phys_to_dma(dev, phys),
      faults: this.faults,
    };
  }

  /** The pool sits page-aligned at the top of the highest RAM below 4 GiB, like memblock_alloc_low. */
  private createSwiotlb(cfg: SwiotlbPlatformConfig): IoTlbMem {
    if (cfg.dynamic) throw new ConfigError('swiotlb.dynamic', 'CONFIG_SWIOTLB_DYNAMIC is not modelled yet');
    const base0 = { size: cfg.size, nareas: cfg.nareas, force: cfg.force ?? false, ncpus: this.config.ncpus, page_size: this.config.page_size };
    const bytes = BigInt(swiotlb_geometry(cfg.size, cfg.nareas, this.config.ncpus).nslabs) * IO_TLB_SIZE;
    let base = cfg.base;
    if (base === undefined) {
      for (const r of this.config.ram) {
        const top = r.base + r.size < FOUR_GIB ? r.base + r.size : FOUR_GIB;
        if (top - r.base < bytes) continue;
        const cand = ((top - bytes) / this.page_size) * this.page_size;
        if (cand >= r.base && (base === undefined || cand > base)) base = cand;
      }
      if (base === undefined) throw new ConfigError('swiotlb.size', `no RAM below 4 GiB can hold a ${bytes}-byte pool`);
    }
    if (!this.mem.isRam(base, bytes)) throw new ConfigError('swiotlb.base', 'the pool must lie inside one RAM region');
    return new IoTlbMem({ ...base0, base }, this.swiotlbEnv());
  }

  /** What the coherent allocator needs. */
  coherentEnv(): CoherentEnv {
    return {
      pages: this.pages,
      page_size: this.config.page_size,
      zone_dma_limit: this.zone_dma_limit,
      phys_to_dma: (dev, phys) => phys_to_dma(dev, phys),
      dma_to_phys: (dev, addr) => dma_to_phys(dev, addr),
      cpu_zero: (phys, size) => this.cache.write(phys, new Uint8Array(Number(size))),
      set_uncached: (phys, size, on) => {
        if (!this.faults.has('coherent-no-uncached-remap')) this.cache.setUncached(phys, size, on);
      },
      arch_dma_prep_coherent: (phys, size) => this.arch.arch_dma_prep_coherent(phys, size),
    };
  }
}

function validate(c: PlatformConfig): void {
  if (![4096, 16384, 65536].includes(c.page_size)) throw new ConfigError('page_size', 'must be 4K, 16K or 64K');
  if (c.cache_line < 16 || c.cache_line > 256 || (c.cache_line & (c.cache_line - 1)) !== 0) throw new ConfigError('cache_line', 'must be a power of two in 16..256');
  if (c.ncpus < 1 || c.ncpus > 1024) throw new ConfigError('ncpus', 'must be in 1..1024');
  const sorted = [...c.ram].sort((a, b) => (a.base < b.base ? -1 : 1));
  sorted.forEach((r, i) => {
    if (r.size === 0n) throw new ConfigError(`ram[${i}].size`, 'must not be 0');
    if (r.base % BigInt(c.page_size) !== 0n || r.size % BigInt(c.page_size) !== 0n) throw new ConfigError(`ram[${i}]`, 'base and size must be page-aligned');
    if (i > 0 && sorted[i - 1].base + sorted[i - 1].size > r.base) throw new ConfigError('ram', 'regions must not overlap');
  });
}
