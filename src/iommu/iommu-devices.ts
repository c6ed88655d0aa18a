/**
 * IOMMUs, their domains and which device uses which (drivers/iommu/iommu.c
 * default-domain selection, dma-iommu.c iommu_dma_init_domain; iommu.md §3.1,
 * §4.1). One platform has one IommuRegistry; the IOVA allocator and the page
 * tables hang off the DMA domains it creates.
 */
import { alloc_io_pgtable_arm_lpae_s1, arm_lpae_geometry } from './io-pgtable-arm';
import { IommuDomain, iommu_flush_iotlb_all, type IommuDomainType } from './iommu';
import { IovaDomain } from './iova';
import type { IovaTimers } from './iova-types';
import { FlushQueue, type FqKind } from './dma-iommu-fq';
import type { IotlbGather } from './io-pgtable';
import type { Device, LinuxVersion } from '../dma/types';
import type { WarnSink } from '../warn';
import type { Faults } from '../faults';

/** How an IOMMU's default DMA domains behave (the iommu.strict / passthrough choice). */
export type IommuMode = 'strict' | 'lazy' | 'identity' | 'blocked';

export interface IommuConfig {
  readonly name: string;
  readonly pgsize_bitmap: bigint;
  readonly ias: number;
  readonly oas: number;
  readonly mode: IommuMode;
  /** 'single' is what an IOMMU with shadow_on_flush gets (32768 entries, 1000 ms). */
  readonly fq: FqKind;
  readonly has_iotlb_sync_map: boolean;
  /** iommu.forcedac=1: no 32-bit-first attempt for PCI devices. */
  readonly forcedac: boolean;
  /** Reserved IOVA regions (bytes, inclusive end), reserved at domain init (iommu.md §2.8). */
  readonly reserved: readonly { start: bigint; end: bigint }[];
}

/** A domain with, for DMA domains, its iova_cookie: the IOVA allocator and the flush queue. */
export interface DmaDomain {
  readonly name: string;
  readonly iommu: IommuConfig;
  readonly domain: IommuDomain;
  /** cookie->iovad; null until a DMA domain is initialised, and for other types. */
  iovad: IovaDomain | null;
  /** cookie->fq_domain: set for DMA_FQ. */
  fq: FlushQueue | null;
  /** model: the gather of iommu_unmap_fast ops waiting for an iommu_iotlb_sync op. */
  pending_gather: IotlbGather | null;
}

export interface IommuRegistryEnv {
  readonly linux: LinuxVersion;
  readonly page_size: number;
  readonly ncpus: number;
  readonly timers: IovaTimers;
  readonly warn: WarnSink;
  /** Planted faults (src/faults.ts), handed to every layer; absent in unit tests. */
  readonly faults?: Faults;
  cpu(): number;
}

export class ConfigProblem extends Error {
  constructor(readonly field: string, message: string) {
    super(message);
  }
}

export class IommuRegistry {
  readonly iommus = new Map<string, IommuConfig>();
  readonly domains = new Map<string, DmaDomain>();
  private readonly deviceDomain = new Map<string, DmaDomain>();
  /** dev->iommu->pci_32bit_workaround, per device (iommu.md §3.1 step 1, §3.3 step 5). */
  readonly pci_32bit_workaround = new Map<string, boolean>();

  constructor(private readonly env: IommuRegistryEnv) {}

  /** iommu_add: the IOMMU, plus an UNMANAGED domain with its name for the iommu_* ops. */
  add(cfg: IommuConfig): void {
    if (this.iommus.has(cfg.name)) throw new ConfigProblem('name', `an IOMMU "${cfg.name}" exists already`);
    if (cfg.pgsize_bitmap === 0n) throw new ConfigProblem('pgsize_bitmap', 'must not be empty');
    // alloc_io_pgtable_ops fails (the driver gets -ENOMEM) for sizes or address widths LPAE cannot do.
    if (!arm_lpae_geometry({ pgsize_bitmap: cfg.pgsize_bitmap, ias: cfg.ias, oas: cfg.oas, page_size: this.env.page_size })) {
      throw new ConfigProblem('pgsize_bitmap', `no ARM LPAE stage-1 table fits pgsize_bitmap 0x${cfg.pgsize_bitmap.toString(16)}, ias ${cfg.ias}, oas ${cfg.oas} with ${this.env.page_size}-byte pages (io-pgtable allocation fails)`);
    }
    this.iommus.set(cfg.name, cfg);
    this.domain_alloc(cfg.name, cfg.name, 'UNMANAGED');
  }

  /** iommu_domain_alloc: a domain of @type on IOMMU @iommu_name. */
  domain_alloc(name: string, iommu_name: string, type: IommuDomainType): DmaDomain {
    const iommu = this.iommus.get(iommu_name);
    if (!iommu) throw new ConfigProblem('iommu', `no IOMMU "${iommu_name}" (add it with iommu_add)`);
    if (this.domains.has(name)) throw new ConfigProblem('name', `a domain "${name}" exists already`);
    const domain = new IommuDomain({
      type,
      linux: this.env.linux,
      warn: this.env.warn,
      faults: this.env.faults,
      has_iotlb_sync_map: iommu.has_iotlb_sync_map,
      pgtable: (flush) => alloc_io_pgtable_arm_lpae_s1({
        pgsize_bitmap: iommu.pgsize_bitmap, ias: iommu.ias, oas: iommu.oas, page_size: this.env.page_size, linux: this.env.linux, flush, faults: this.env.faults,
        // The format's WARN_ONs (-EEXIST, unmap of an empty entry, the newest partial-block refusal) are results too.
        warn: (source, code, message) => this.env.warn.warn(source, code, message),
      }),
    });
    const d: DmaDomain = { name, iommu, domain, iovad: null, fq: null, pending_gather: null };
    this.domains.set(name, d);
    if (type === 'DMA' || type === 'DMA_FQ') this.iommu_dma_init_domain(d);
    return d;
  }

  /**
   * The default domain of a device (iommu_group_alloc_default_domain): one per
   * device, or per group; untrusted devices always get a strict DMA domain.
   */
  attach(dev: Device, group: string | undefined): DmaDomain {
    const iommu = this.iommus.get(dev.iommu!);
    if (!iommu) throw new ConfigProblem('iommu', `no IOMMU "${dev.iommu}" (add it with iommu_add first)`);
    const name = group ?? dev.name;
    let d = this.domains.get(name);
    const type: IommuDomainType = dev.untrusted ? 'DMA'
      : { strict: 'DMA', lazy: 'DMA_FQ', identity: 'IDENTITY', blocked: 'BLOCKED' }[iommu.mode] as IommuDomainType;
    if (!d) d = this.domain_alloc(name, iommu.name, type);
    else if (d.iommu !== iommu) throw new ConfigProblem('group', `group "${name}" is on IOMMU "${d.iommu.name}"`);
    else if (dev.untrusted && d.domain.type !== 'DMA') throw new ConfigProblem('untrusted', `group "${name}" has a ${d.domain.type} domain; an untrusted device needs a strict DMA domain`);
    this.deviceDomain.set(dev.name, d);
    this.pci_32bit_workaround.set(dev.name, dev.bus === 'pci' && !iommu.forcedac);
    return d;
  }

  detach(dev: Device): void {
    this.deviceDomain.delete(dev.name);
    this.pci_32bit_workaround.delete(dev.name);
  }

  /** The device's default domain, or undefined for a device not behind an IOMMU. */
  domainOf(dev: Device): DmaDomain | undefined {
    return this.deviceDomain.get(dev.name);
  }

  /** use_dma_iommu(dev): the default domain is DMA or DMA_FQ. */
  usesDmaIommu(dev: Device): boolean {
    const t = this.deviceDomain.get(dev.name)?.domain.type;
    return t === 'DMA' || t === 'DMA_FQ';
  }

  /**
   * iommu_dma_init_domain: granule = smallest IOMMU page, start above pfn 0,
   * reserved regions, and the flush queue for DMA_FQ (iommu.md §3.1 step 3).
   */
  private iommu_dma_init_domain(d: DmaDomain): void {
    const bitmap = d.domain.pgsize_bitmap;
    const order = BigInt((bitmap & -bitmap).toString(2).length - 1);
    const granule = 1n << order;
    if (granule > BigInt(this.env.page_size)) throw new ConfigProblem('pgsize_bitmap', `the smallest IOMMU page (${granule}) exceeds PAGE_SIZE: init_iova_domain would BUG`);
    const aperture_pfn = d.domain.geometry.aperture_start >> order;
    d.iovad = new IovaDomain({
      granule,
      start_pfn: aperture_pfn > 1n ? aperture_pfn : 1n,
      page_size: this.env.page_size,
      ncpus: this.env.ncpus,
      timers: this.env.timers,
      faults: this.env.faults,
      warn: (code, message) => this.env.warn.warn('kernel', code, message),
    });
    for (const r of d.iommu.reserved) d.iovad.reserve_iova(r.start >> order, r.end >> order);
    if (d.domain.type === 'DMA_FQ') {
      const iovad = d.iovad;
      const domain = d.domain;
      d.fq = new FlushQueue(d.iommu.fq, this.env.ncpus, {
        schedule: (ms, work) => this.env.timers.schedule(ms, work),
        flush_iotlb_all: () => iommu_flush_iotlb_all(domain),
        free_iova_fast: (cpu, pfn, pages) => iovad.free_iova_fast(cpu, pfn, pages),
        faults: this.env.faults,
      });
    }
  }
}
