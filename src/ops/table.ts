/**
 * The op table: one entry per op. Validation, the JSON and Gherkin printers,
 * the conformance `hello` list and the docs all derive from it (DESIGN.md "One
 * language: the operation"). Op and argument names are the kernel's.
 */
import {
  addr, addrOr, addrOrHandle, bool, count, identifier, list, name, object, oneOf, opt, req, size, type Fields,
} from './kinds';
import { attrs, busDmaRegion, bytes, context, dir, memKind, prot, ramRegion, sgList } from './dma-kinds';
import { OpParseError } from './errors';
import { parseOp, printOp } from './json';
import type { Kind } from './kinds';
import type { Op } from './types';

export type Layer = 'setup' | 'dma' | 'swiotlb' | 'iommu' | 'iova' | 'probe' | 'query';

export interface OpSpec<A extends Fields = Fields> {
  readonly layer: Layer;
  /** Where the behaviour is specified. */
  readonly spec: string;
  readonly doc: string;
  readonly args: A;
  /** Result fields on success (besides ok and warnings). */
  readonly results: readonly string[];
  /** The result field a `$handle` stands for, when the op may carry `as`. */
  readonly handle?: string;
  /** The argument that names the handle, when it is not `as` (dma_iova_try_alloc's `state`). */
  readonly handleArg?: string;
}

const op = <A extends Fields>(s: OpSpec<A>): OpSpec<A> => s;

/**
 * The ops of a `repeat`: each parsed (so a typo fails at once) but kept with its handles unresolved;
 * the engine resolves them round by round. Typed loosely: the op type is derived from this table.
 */
const opList: Kind<readonly unknown[]> = {
  expected: 'a list of ops {op NAME, ...} (no platform)',
  parse(v, path) {
    if (!Array.isArray(v) || v.length === 0) throw new OpParseError(path, this.expected, v);
    return v.map((x, i) => {
      const o = parseOp(x, `${path}[${i}]`);
      if (o.op === 'platform') throw new OpParseError(`${path}[${i}].op`, 'an op other than platform', o.op);
      return o;
    });
  },
  print: (v) => v.map((o) => printOp(o as Op)),
};

const dev = req(name('a device name'));
const handleName = opt(name('a handle name'), 'names the result for later ops ("$name")');
const cpu = opt(count, 'the CPU the call runs on (default 0)');
const ctx = opt(context, 'calling context (default process)');
const attrsArg = opt(attrs, 'DMA_ATTR_* flags');

const mapArgs = {
  dev, phys: req(addrOrHandle), size: req(size), dir: req(dir), attrs: attrsArg,
  mem: opt(memKind, 'where the buffer lives (dma-debug pre-checks)'), cpu, context: ctx, as: handleName,
};
const unmapArgs = { dev, dma_addr: req(addrOrHandle), size: req(size), dir: req(dir), attrs: attrsArg, cpu, context: ctx };
const syncArgs = { dev, dma_addr: req(addrOrHandle), size: req(size), dir: req(dir), cpu };
const syncRangeArgs = { dev, dma_addr: req(addrOrHandle), offset: req(size), size: req(size), dir: req(dir), cpu };
const sgArgs = { dev, sg: req(sgList), nents: opt(count, 'default: the length of sg'), dir: req(dir), attrs: attrsArg, cpu, context: ctx };
const devOnly = { dev };

const swiotlbConfig = object(
  {
    size: req(size),
    nareas: opt(count),
    force: opt(bool),
    base: opt(addr, 'default: page-aligned at the top of RAM below 4 GiB'),
    dynamic: opt(bool, 'CONFIG_SWIOTLB_DYNAMIC (not modelled yet: true is refused)'),
  },
  'a swiotlb pool',
);

export const OPS = {
  // ---- set-up -------------------------------------------------------------
  platform: op({
    layer: 'setup', spec: 'DESIGN.md Platform', results: [],
    doc: 'Creates the machine: RAM, page and cache-line size, CPUs, swiotlb pool, kernel version.',
    args: {
      ram: opt(list(ramRegion, { min: 1 }), 'default [{base 0, size 4G}]'),
      page_size: opt(size, '4K (default), 16K or 64K'),
      cache_line: opt(count, 'CPU cache line bytes (default 64)'),
      ncpus: opt(count, 'default 1'),
      arch: opt(oneOf(['x86_64', 'arm64'] as const, 'an architecture'), 'default x86_64'),
      linux: opt(oneOf(['6.12', 'newest'] as const, 'a kernel version'), 'default newest'),
      swiotlb: opt(swiotlbConfig, 'absent: no pool'),
      dma_debug: opt(bool, 'CONFIG_DMA_API_DEBUG (default true)'),
      dma_debug_entries: opt(count, 'dma_debug_entries= boot option (default 65536)'),
      dma_debug_num_errors: opt(count, 'debugfs num_errors: how many findings print (default 1)'),
      dma_debug_all_errors: opt(bool, 'debugfs all_errors (default false)'),
      dmapool_debug: opt(bool, 'DMAPOOL_DEBUG (CONFIG_SLUB_DEBUG_ON): dma_pool_free checks (default false)'),
      zone_dma_limit: opt(addr, 'default DMA_BIT_MASK(24)'),
    },
  }),
  device_add: op({
    layer: 'setup', spec: 'dma-core.md §1', results: [],
    doc: 'Adds a device with its DMA parameters.',
    args: {
      name: req(name('a device name')),
      bus: opt(oneOf(['pci', 'platform'] as const, 'a bus'), 'default pci'),
      iommu: opt(name('an IOMMU name'), 'part 2; absent: direct'),
      dma_mask: opt(addrOr('none', 'a mask or none (NULL dev->dma_mask)'), 'default DMA_BIT_MASK(32)'),
      coherent_dma_mask: opt(addr, 'default DMA_BIT_MASK(32)'),
      coherent: opt(bool, 'dev_is_dma_coherent (default true)'),
      bus_dma_limit: opt(addr, '0: none (default)'),
      dma_range_map: opt(list(busDmaRegion, { min: 1 })),
      min_align_mask: opt(addr, 'default 0'),
      max_segment_size: opt(size, 'default 64K'),
      segment_boundary_mask: opt(addr, 'default 0xffffffff on PCI, ULONG_MAX otherwise'),
      untrusted: opt(bool),
      force_bounce: opt(bool, 'device-private forced bouncing (restricted pool / CC guest)'),
      group: opt(name('an IOMMU group name')),
    },
  }),
  device_remove: op({
    layer: 'setup', spec: 'dma-core.md §6.3 check 22', results: ['leaks'],
    doc: 'Unbinds the driver; dma-debug reports entries still live.', args: { name: req(name('a device name')) },
  }),

  // ---- mapping.c: single mappings ------------------------------------------
  dma_map_phys: op({ layer: 'dma', spec: 'dma-core.md §2.2, §3.3', results: ['dma_addr'], handle: 'dma_addr', doc: 'Maps a physical range for streaming DMA.', args: mapArgs }),
  dma_map_page: op({ layer: 'dma', spec: 'dma-core.md §2.2', results: ['dma_addr'], handle: 'dma_addr', doc: 'dma_map_page_attrs: 6.12 name of dma_map_phys (refuses DMA_ATTR_MMIO).', args: mapArgs }),
  dma_map_single: op({ layer: 'dma', spec: 'dma-core.md §2.2', results: ['dma_addr'], handle: 'dma_addr', doc: 'dma_map_single_attrs: refuses vmalloc memory before dma-debug sees it.', args: mapArgs }),
  dma_unmap_phys: op({ layer: 'dma', spec: 'dma-core.md §2.2, §3.4', results: [], doc: 'Unmaps a streaming mapping.', args: unmapArgs }),
  dma_unmap_page: op({ layer: 'dma', spec: 'dma-core.md §2.2', results: [], doc: 'dma_unmap_page_attrs.', args: unmapArgs }),
  dma_unmap_single: op({ layer: 'dma', spec: 'dma-core.md §2.2', results: [], doc: 'dma_unmap_single_attrs.', args: unmapArgs }),
  dma_map_resource: op({ layer: 'dma', spec: 'dma-core.md §2.2', results: ['dma_addr'], handle: 'dma_addr', doc: 'Maps device MMIO: no translation, no swiotlb.', args: mapArgs }),
  dma_unmap_resource: op({ layer: 'dma', spec: 'dma-core.md §2.2', results: [], doc: 'Unmaps a resource mapping.', args: unmapArgs }),
  dma_mapping_error: op({ layer: 'dma', spec: 'dma-core.md §2.2', results: ['value'], doc: 'Returns -ENOMEM (as error) for DMA_MAPPING_ERROR, else ok; marks the dma-debug entry checked.', args: { dev, dma_addr: req(addrOrHandle) } }),

  // ---- scatter-gather --------------------------------------------------------
  dma_map_sg: op({ layer: 'dma', spec: 'dma-core.md §2.3, §3.6', results: ['nents', 'sg'], handle: 'sg', doc: 'Maps an sg list; returns the DMA segment count (0 on failure).', args: { ...sgArgs, mem: opt(memKind), as: handleName } }),
  dma_map_sgtable: op({ layer: 'dma', spec: 'dma-core.md §2.3', results: ['nents', 'sg'], handle: 'sg', doc: 'Maps an sg_table; fails with the negative errno.', args: { ...sgArgs, mem: opt(memKind), as: handleName } }),
  dma_unmap_sg: op({ layer: 'dma', spec: 'dma-core.md §2.3, §3.6', results: [], doc: 'Unmaps an sg list; nents is the value passed to map (R27).', args: sgArgs }),
  dma_unmap_sgtable: op({ layer: 'dma', spec: 'dma-core.md §2.3', results: [], doc: 'Unmaps an sg_table (orig_nents).', args: sgArgs }),
  dma_sync_sg_for_cpu: op({ layer: 'dma', spec: 'dma-core.md §2.4, §3.6', results: [], doc: 'Hands an sg mapping back to the CPU.', args: sgArgs }),
  dma_sync_sg_for_device: op({ layer: 'dma', spec: 'dma-core.md §2.4, §3.6', results: [], doc: 'Hands an sg mapping to the device.', args: sgArgs }),

  // ---- sync -------------------------------------------------------------------
  dma_sync_single_for_cpu: op({ layer: 'dma', spec: 'dma-core.md §2.4, §3.5', results: [], doc: 'Hands a mapping back to the CPU.', args: syncArgs }),
  dma_sync_single_for_device: op({ layer: 'dma', spec: 'dma-core.md §2.4, §3.5', results: [], doc: 'Hands a mapping to the device.', args: syncArgs }),
  dma_sync_single_range_for_cpu: op({ layer: 'dma', spec: 'dma-core.md §2.4', results: [], doc: 'Syncs dma_addr + offset for the CPU.', args: syncRangeArgs }),
  dma_sync_single_range_for_device: op({ layer: 'dma', spec: 'dma-core.md §2.4', results: [], doc: 'Syncs dma_addr + offset for the device.', args: syncRangeArgs }),

  // ---- coherent allocations and pools -----------------------------------------
  dma_alloc_coherent: op({ layer: 'dma', spec: 'dma-core.md §3.7; H11', results: ['cpu_addr', 'dma_addr'], handle: 'dma_addr', doc: 'Allocates zeroed coherent memory; cpu_addr is a physical address in this model.', args: { dev, size: req(size), attrs: attrsArg, context: ctx, as: handleName } }),
  dma_free_coherent: op({ layer: 'dma', spec: 'R1, R2, H12', results: [], doc: 'Frees a coherent allocation with the allocation arguments.', args: { dev, size: req(size), cpu_addr: req(addrOrHandle), dma_addr: req(addrOrHandle), attrs: attrsArg, context: ctx } }),
  dma_pool_create: op({ layer: 'dma', spec: 'R4, R5; mm/dmapool.c', results: [], handle: 'pool', doc: 'Creates a dma_pool of fixed-size blocks.', args: { dev, name: req(name('a pool name')), size: req(size), align: opt(size, 'default 0 (= 1)'), boundary: opt(size, 'default 0 (none)'), context: ctx } }),
  dma_pool_alloc: op({ layer: 'dma', spec: 'R6; mm/dmapool.c', results: ['cpu_addr', 'dma_addr'], handle: 'dma_addr', doc: 'Takes a block from a pool.', args: { pool: req(name('a pool name')), context: ctx, as: handleName } }),
  dma_pool_free: op({ layer: 'dma', spec: 'R7; mm/dmapool.c', results: [], doc: 'Returns a block to its pool.', args: { pool: req(name('a pool name')), cpu_addr: req(addrOrHandle), dma_addr: req(addrOrHandle), context: ctx } }),
  dma_pool_destroy: op({ layer: 'dma', spec: 'R4, R8, H13', results: [], doc: 'Destroys a pool; blocks still allocated are a driver bug.', args: { pool: req(name('a pool name')), context: ctx } }),

  // ---- masks and queries ------------------------------------------------------
  dma_set_mask: op({ layer: 'dma', spec: 'dma-core.md §2.6; R9', results: [], doc: 'Sets the streaming mask (-EIO if unsupported).', args: { dev, mask: req(addr) } }),
  dma_set_coherent_mask: op({ layer: 'dma', spec: 'dma-core.md §2.6', results: [], doc: 'Sets the coherent mask.', args: { dev, mask: req(addr) } }),
  dma_set_mask_and_coherent: op({ layer: 'dma', spec: 'dma-core.md §2.6; H6', results: [], doc: 'Sets both masks; the coherent result is ignored.', args: { dev, mask: req(addr) } }),
  dma_get_mask: op({ layer: 'query', spec: 'dma-core.md §2.6', results: ['mask'], doc: 'The streaming mask, or DMA_BIT_MASK(32) when unset.', args: devOnly }),
  dma_get_required_mask: op({ layer: 'query', spec: 'dma-core.md §2.6; R10', results: ['mask'], doc: 'The smallest mask covering all RAM.', args: devOnly }),
  dma_max_mapping_size: op({ layer: 'query', spec: 'dma-core.md §2.6, §3.7; R11', results: ['size'], doc: 'Largest single mapping.', args: devOnly }),
  dma_opt_mapping_size: op({ layer: 'query', spec: 'dma-core.md §2.6; R12', results: ['size'], doc: 'Advisory mapping size.', args: devOnly }),
  dma_get_merge_boundary: op({ layer: 'query', spec: 'dma-core.md §2.6', results: ['size'], doc: 'IOMMU merge boundary; 0 on the direct path.', args: devOnly }),
  dma_need_sync: op({ layer: 'query', spec: 'dma-core.md §2.5; R13', results: ['value'], doc: 'Whether sync calls are needed for this address.', args: { dev, dma_addr: req(addrOrHandle) } }),
  dma_need_unmap: op({ layer: 'query', spec: 'dma-core.md §2.5; U5', results: ['value'], doc: 'Whether unmap calls are needed (newest only).', args: devOnly }),
  dma_addressing_limited: op({ layer: 'query', spec: 'dma-core.md §2.6', results: ['value'], doc: 'Whether the device cannot reach all RAM directly.', args: devOnly }),
  dma_get_cache_alignment: op({ layer: 'query', spec: 'R37', results: ['size'], doc: 'Minimum alignment for mappings and partial syncs.', args: {} }),

  // ---- swiotlb, reachable directly -------------------------------------------------
  swiotlb_tbl_map_single: op({ layer: 'swiotlb', spec: 'dma-core.md §4.3', results: ['tlb_addr'], handle: 'tlb_addr', doc: 'Allocates bounce slots and copies orig to them.', args: { dev, phys: req(addrOrHandle), size: req(size), alloc_align_mask: opt(addr), dir: req(dir), attrs: attrsArg, cpu, as: handleName } }),
  swiotlb_tbl_unmap_single: op({ layer: 'swiotlb', spec: 'dma-core.md §4.6', results: [], doc: 'Releases bounce slots (copying back unless SKIP_CPU_SYNC).', args: { dev, tlb_addr: req(addrOrHandle), size: req(size), dir: req(dir), attrs: attrsArg, cpu } }),
  swiotlb_info: op({ layer: 'swiotlb', spec: 'dma-core.md §4.1', results: ['start', 'end', 'nslabs', 'nareas', 'used', 'force'], doc: 'The default pool geometry and usage (debugfs io_tlb_*).', args: {} }),
  is_swiotlb_buffer: op({ layer: 'swiotlb', spec: 'dma-core.md §4.1', results: ['value'], doc: 'Whether a physical address lies in the pool.', args: { phys: req(addrOrHandle) } }),
  dma_debug_info: op({ layer: 'query', spec: 'dma-core.md §6.1', results: ['error_count', 'printed', 'num_errors', 'num_free_entries', 'min_free_entries', 'nr_total_entries', 'live_entries', 'disabled'], doc: 'dma-debug counters (debugfs dma-api/).', args: {} }),
  platform_counters: op({ layer: 'query', spec: 'dma-core.md §5.5', results: ['flushes', 'cleans', 'invalidates', 'cpu_all', 'bounces'], doc: 'Cache maintenance and bounce counters since the platform started.', args: {} }),

  // ---- the IOVA-based two-step API (iommu.md §3.11; Linux 6.16+, not 6.12) ------------------
  dma_iova_try_alloc: op({ layer: 'dma', spec: 'iommu.md §3.11; U1', results: ['value', 'addr'], handle: 'addr', handleArg: 'state', doc: 'Reserves IOVA for size bytes starting at phys\'s offset in the granule; value false means "use the streaming API". "$STATE" is state.addr.', args: { dev, state: req(identifier('a dma_iova_state name')), phys: req(addrOrHandle), size: req(size), cpu } }),
  dma_use_iova: op({ layer: 'query', spec: 'iommu.md §3.11', results: ['value'], doc: 'Whether a try_alloc succeeded on this state (state.__size != 0).', args: { state: req(identifier('a dma_iova_state name')) } }),
  dma_iova_size: op({ layer: 'query', spec: 'iommu.md §3.11', results: ['size', 'use_swiotlb'], doc: 'The size given to try_alloc, and the DMA_IOVA_USE_SWIOTLB flag (bit 63 of __size).', args: { state: req(identifier('a dma_iova_state name')) } }),
  dma_iova_link: op({ layer: 'dma', spec: 'iommu.md §3.11; U1', results: [], doc: 'Maps size bytes of phys at offset in the state\'s IOVA range (no IOTLB sync).', args: { dev, state: req(identifier('a dma_iova_state name')), phys: req(addrOrHandle), offset: req(size), size: req(size), dir: req(dir), attrs: attrsArg, cpu } }),
  dma_iova_sync: op({ layer: 'dma', spec: 'iommu.md §3.11; U1', results: [], doc: 'One iotlb_sync_map for the linked range: call after linking, before the device uses it.', args: { dev, state: req(identifier('a dma_iova_state name')), offset: req(size), size: req(size), cpu } }),
  dma_iova_unlink: op({ layer: 'dma', spec: 'iommu.md §3.11; U1', results: [], doc: 'Unmaps [offset, +size) at once, even in lazy domains; the IOVA stays reserved.', args: { dev, state: req(identifier('a dma_iova_state name')), offset: req(size), size: req(size), dir: req(dir), attrs: attrsArg, cpu } }),
  dma_iova_destroy: op({ layer: 'dma', spec: 'iommu.md §3.11; U1', results: [], doc: 'Unlinks [0, mapped_len) and frees the IOVA (through the flush queue in lazy domains).', args: { dev, state: req(identifier('a dma_iova_state name')), mapped_len: req(size), dir: req(dir), attrs: attrsArg, cpu } }),
  dma_iova_free: op({ layer: 'dma', spec: 'iommu.md §3.11; U1', results: [], doc: 'Returns the IOVA to the allocator; every link must be unlinked first.', args: { dev, state: req(identifier('a dma_iova_state name')), cpu } }),

  // ---- IOMMUs and domains (iommu.md §3.1, §4.1) --------------------------------------
  iommu_add: op({
    layer: 'setup', spec: 'iommu.md §1.1, §3.1, §4.1, §5.1', results: [],
    doc: 'Adds an IOMMU (SMMUv3-like, LPAE stage 1) and an UNMANAGED domain with its name for the iommu_* ops. Devices added with `iommu NAME` get a default domain of the IOMMU\'s mode.',
    args: {
      name: req(name('an IOMMU name')),
      pgsize_bitmap: opt(addr, 'supported page sizes (default 4K|2M|1G = 0x40201000)'),
      ias: opt(count, 'input address bits (default 48)'),
      oas: opt(count, 'output address bits (default 48)'),
      mode: opt(oneOf(['strict', 'lazy', 'identity', 'blocked'] as const, 'a default-domain mode'), 'strict: DMA; lazy: DMA_FQ; identity: passthrough; blocked (default strict)'),
      fq: opt(oneOf(['percpu', 'single'] as const, 'a flush-queue kind'), 'percpu: 256 entries/10 ms per CPU (default); single: 32768/1000 ms (shadow_on_flush)'),
      has_iotlb_sync_map: opt(bool, 'the driver has iotlb_sync_map (SMMUv3 has not; VT-d, AMD have)'),
      forcedac: opt(bool, 'iommu.forcedac=1: no 32-bit-first attempt for PCI devices'),
      reserved: opt(list(object({ start: req(addr), end: req(addr) }, 'a reserved IOVA region (inclusive end)')), 'reserved at DMA-domain init'),
    },
  }),
  iommu_domain_alloc: op({
    layer: 'setup', spec: 'iommu.md §4.1', results: [], doc: 'Allocates another domain on an IOMMU.',
    args: { name: req(name('a domain name')), iommu: req(name('an IOMMU name')), type: req(oneOf(['UNMANAGED', 'DMA', 'DMA_FQ', 'IDENTITY', 'BLOCKED'] as const, 'a domain type')) },
  }),
  iommu_map: op({ layer: 'iommu', spec: 'iommu.md §4.3, §4.4', results: ['pgsizes'], doc: 'Maps [iova, iova+size) to paddr; pgsizes lists the map_pages calls (e.g. "511x4K 1x2M 1x4K").', args: { domain: req(name('a domain name')), iova: req(addrOrHandle), paddr: req(addrOrHandle), size: req(size), prot: req(prot) } }),
  iommu_unmap: op({ layer: 'iommu', spec: 'iommu.md §4.5', results: ['unmapped'], doc: 'Unmaps and syncs the IOTLB; returns the bytes unmapped.', args: { domain: req(name('a domain name')), iova: req(addrOrHandle), size: req(size) } }),
  iommu_unmap_fast: op({ layer: 'iommu', spec: 'iommu.md §4.5', results: ['unmapped'], doc: 'Unmaps into the domain\'s pending gather without syncing (iommu_iotlb_sync completes it).', args: { domain: req(name('a domain name')), iova: req(addrOrHandle), size: req(size) } }),
  iommu_iotlb_sync: op({ layer: 'iommu', spec: 'iommu.md §4.6', results: [], doc: 'Syncs the pending gather of earlier iommu_unmap_fast calls.', args: { domain: req(name('a domain name')) } }),
  iommu_flush_iotlb_all: op({ layer: 'iommu', spec: 'iommu.md §4.6', results: [], doc: 'Invalidates the whole IOTLB of the domain.', args: { domain: req(name('a domain name')) } }),
  iommu_map_sg: op({ layer: 'iommu', spec: 'iommu.md §4.7', results: ['mapped'], doc: 'Maps the physically contiguous runs of an sg list back to back from iova, then one iotlb_sync_map.', args: { domain: req(name('a domain name')), iova: req(addrOrHandle), sg: req(list(object({ phys: req(addrOrHandle), length: req(size) }, 'an sg entry'), { min: 1 })), prot: req(prot) } }),
  iommu_iova_to_phys: op({ layer: 'iommu', spec: 'iommu.md §4.8', results: ['phys'], doc: 'The page-table translation of iova; 0 when unmapped.', args: { domain: req(name('a domain name')), iova: req(addrOrHandle) } }),
  iommu_info: op({ layer: 'query', spec: 'iommu.md §4.6, §3.4', results: ['type', 'granule', 'iotlb_syncs', 'flush_alls', 'sync_maps', 'map_pages', 'iotlb_entries', 'fq_pending', 'pgtables', 'leaves'], doc: 'A domain\'s type and counters: driver IOTLB syncs, full flushes, iotlb_sync_map calls, map_pages calls, live IOTLB entries, flush-queue entries waiting, live page-table pages (the pgd included) and leaf entries.', args: { domain: req(name('a domain name')) } }),

  // ---- the IOVA allocator, reachable directly (iommu.md §2) ------------------------------
  init_iova_domain: op({ layer: 'setup', spec: 'iommu.md §2.2', results: [], doc: 'A stand-alone IOVA domain (with range caches) for allocator conformance.', args: { name: req(name('a domain name')), granule: req(size), start_pfn: req(addr) } }),
  alloc_iova: op({ layer: 'iova', spec: 'iommu.md §2.3', results: ['pfn_lo', 'pfn_hi'], handle: 'pfn_lo', doc: 'Top-down allocation below limit_pfn (inclusive); NULL on failure.', args: { domain: req(name('a domain name')), size: req(addr), limit_pfn: req(addr), size_aligned: opt(bool, 'default true'), as: handleName } }),
  free_iova: op({ layer: 'iova', spec: 'iommu.md §2.7', results: [], doc: 'Frees the node containing pfn (silently nothing if none).', args: { domain: req(name('a domain name')), pfn: req(addrOrHandle) } }),
  alloc_iova_fast: op({ layer: 'iova', spec: 'iommu.md §2.10', results: ['pfn'], handle: 'pfn', doc: 'Range cache first, then the tree, flushing the caches once before failing if flush_rcache; fails with 0.', args: { domain: req(name('a domain name')), size: req(addr), limit_pfn: req(addr), flush_rcache: opt(bool, 'default true'), cpu, repeat: opt(count, 'model: the same call this many times (default 1), stopping at a failure; the result is the last call\'s'), as: handleName } }),
  free_iova_fast: op({ layer: 'iova', spec: 'iommu.md §2.10', results: [], doc: 'Into the range cache, else back to the tree.', args: { domain: req(name('a domain name')), pfn: req(addrOrHandle), size: req(addr), cpu, repeat: opt(count, 'model: this many calls (default 1), for pfn, pfn + size, pfn + 2·size, ... in that order') } }),
  reserve_iova: op({ layer: 'iova', spec: 'iommu.md §2.7', results: ['pfn_lo', 'pfn_hi'], doc: 'Reserves [pfn_lo, pfn_hi], widening or returning overlapping nodes as the kernel does.', args: { domain: req(name('a domain name')), pfn_lo: req(addr), pfn_hi: req(addr) } }),
  find_iova: op({ layer: 'iova', spec: 'iommu.md §2.7', results: ['pfn_lo', 'pfn_hi'], doc: 'The node containing pfn; NULL if none.', args: { domain: req(name('a domain name')), pfn: req(addrOrHandle) } }),
  iova_cpuhp_dead: op({ layer: 'iova', spec: 'iommu.md §2.9', results: [], doc: 'CPU hot-unplug: the CPU\'s loaded and prev magazines go back to the tree.', args: { domain: req(name('a domain name')), cpu: req(count) } }),
  iova_info: op({ layer: 'query', spec: 'iommu.md §2.1, §2.6', results: ['cached32_node', 'cached_node', 'max32_alloc_size', 'nodes', 'rcache_hits', 'rcache_misses', 'depot_size'], doc: 'Allocator state that decides the next address: the cached nodes (pfn_lo), max32_alloc_size, node count (the anchor included), range-cache counters, full magazines in the depots (all size classes).', args: { domain: req(name('a domain name')) } }),

  // ---- probes: the world outside the API ------------------------------------------
  cpu_write: op({ layer: 'probe', spec: 'dma-core.md §5.4', results: [], doc: 'A CPU store (through the cache).', args: { phys: req(addrOrHandle), data: req(bytes), cpu } }),
  cpu_read: op({ layer: 'probe', spec: 'dma-core.md §5.4', results: ['data'], doc: 'A CPU load (through the cache).', args: { phys: req(addrOrHandle), size: req(size), cpu } }),
  cpu_speculate: op({ layer: 'probe', spec: 'dma-core.md §5.4', results: [], doc: 'The CPU pulls lines of the range into its cache (clean), as speculation may at any time.', args: { phys: req(addrOrHandle), size: req(size) } }),
  cpu_evict: op({ layer: 'probe', spec: 'dma-core.md §5.4', results: [], doc: 'The cache evicts lines of the range (dirty ones written back).', args: { phys: req(addrOrHandle), size: req(size) } }),
  device_read: op({ layer: 'probe', spec: 'dma-core.md §5.4', results: ['data'], doc: 'The device reads at a DMA address.', args: { dev, dma_addr: req(addrOrHandle), size: req(size) } }),
  device_write: op({ layer: 'probe', spec: 'dma-core.md §5.4', results: [], doc: 'The device writes at a DMA address.', args: { dev, dma_addr: req(addrOrHandle), data: req(bytes) } }),
  advance_time: op({ layer: 'probe', spec: 'DESIGN.md probes', results: ['ran', 'now_ms'], doc: 'Runs every timer that falls due.', args: { ms: req(count) } }),
  repeat: op({
    layer: 'probe', spec: 'DESIGN.md probes', results: ['runs'],
    doc: 'Runs the ops in order, `times` times over, each as its own step: handles they define are redefined every round, every invariant runs after each of them. Stops at the first failing op and returns its result; the warnings are those of every op run.',
    args: { times: req(count), ops: req(opList) },
  }),
} as const;

export type OpTable = typeof OPS;
export type OpName = keyof OpTable;
export const OP_NAMES = Object.keys(OPS) as OpName[];
export const isOpName = (s: string): s is OpName => Object.prototype.hasOwnProperty.call(OPS, s);
