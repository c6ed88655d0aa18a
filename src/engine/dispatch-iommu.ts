/**
 * Handlers of the IOMMU-side ops: set-up, the iommu_* core calls and the IOVA
 * allocator, reachable directly so each layer can be checked on its own.
 */
import { ConfigError, type Platform } from '../platform';
import { newGather } from '../iommu/io-pgtable';
import type { ArmLpaeIoPgtable } from '../iommu/io-pgtable-arm';
import {
  iommu_flush_iotlb_all, iommu_iotlb_sync, iommu_iova_to_phys, iommu_map, iommu_map_sg, iommu_unmap, iommu_unmap_fast,
} from '../iommu/iommu';
import { ConfigProblem, type DmaDomain } from '../iommu/iommu-devices';
import { IovaDomain } from '../iommu/iova';
import { formatSize } from '../ops/numbers';
import type { OpOf } from '../ops/types';
import type { Resolved } from './handles';
import { Undefined, type Outcome } from './dispatch';
import { IOVA_ANCHOR, U64_MAX } from '../iommu/iova-types';

const hexPfn = (v: bigint): string => `0x${v.toString(16)}`;

/** free of the anchor pfn: remove_iova erases the sentinel every search starts from (cached_node still points at it). */
const anchorFree = (what: string): Undefined =>
  new Undefined('UNDEFINED_IOVA_FREE_ANCHOR', `${what} of pfn ${hexPfn(IOVA_ANCHOR)}: that is the anchor node; the kernel would erase it from the tree`);

export type IommuOpName =
  | 'iommu_add' | 'iommu_domain_alloc' | 'iommu_map' | 'iommu_unmap' | 'iommu_unmap_fast' | 'iommu_iotlb_sync'
  | 'iommu_flush_iotlb_all' | 'iommu_map_sg' | 'iommu_iova_to_phys' | 'iommu_info' | 'init_iova_domain' | 'alloc_iova'
  | 'free_iova' | 'alloc_iova_fast' | 'free_iova_fast' | 'reserve_iova' | 'find_iova' | 'iova_cpuhp_dead' | 'iova_info';

type Handler<N extends IommuOpName> = (p: Platform, op: Resolved<OpOf<N>>) => Outcome;

const OK: Outcome = { ok: true, values: {} };
const ERRNO: Record<number, string> = { [-12]: '-ENOMEM', [-17]: '-EEXIST', [-19]: '-ENODEV', [-22]: '-EINVAL', [-34]: '-ERANGE' };
const rc = (r: number | bigint): Outcome => (Number(r) === 0 ? OK : { ok: false, error: ERRNO[Number(r)] ?? String(r) });

function configured<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof ConfigProblem) throw new ConfigError(e.field, e.message);
    throw e;
  }
}

function domain(p: Platform, name: string): DmaDomain {
  const d = p.iommu.domains.get(name);
  if (!d) throw new ConfigError('domain', `no IOMMU domain "${name}" (iommu_add makes one per IOMMU; devices get one each)`);
  return d;
}

/** A stand-alone IOVA domain, or the allocator of a DMA domain. */
function iovad(p: Platform, name: string): IovaDomain {
  const own = p.iova_domains.get(name);
  if (own) return own;
  const d = p.iommu.domains.get(name);
  if (d?.iovad) return d.iovad;
  throw new ConfigError('domain', `no IOVA domain "${name}" (init_iova_domain, or a DMA domain's name)`);
}

/** model: the `repeat` argument of the fast paths, so a scenario can fill a 127-pfn magazine in one step. */
function repeat(n: number | undefined): number {
  if (n === 0) throw new ConfigError('repeat', 'at least 1');
  return n ?? 1;
}

const range = (r: { pfn_lo: bigint; pfn_hi: bigint } | null): Outcome => (r ? { ok: true, values: { pfn_lo: r.pfn_lo, pfn_hi: r.pfn_hi } } : { ok: false, error: 'NULL' });

export const IOMMU_HANDLERS: { [N in IommuOpName]: Handler<N> } = {
  iommu_add: (p, op) => {
    configured(() => p.iommu.add({
      name: op.name,
      pgsize_bitmap: op.pgsize_bitmap ?? 0x4020_1000n,
      ias: op.ias ?? 48,
      oas: op.oas ?? 48,
      mode: op.mode ?? 'strict',
      fq: op.fq ?? 'percpu',
      has_iotlb_sync_map: op.has_iotlb_sync_map ?? false,
      forcedac: op.forcedac ?? false,
      reserved: op.reserved ?? [],
    }));
    return OK;
  },
  iommu_domain_alloc: (p, op) => (configured(() => p.iommu.domain_alloc(op.name, op.iommu, op.type)), OK),
  iommu_map: (p, op) => {
    const d = domain(p, op.domain).domain;
    const r = iommu_map(d, op.iova, op.paddr, op.size, op.prot);
    if (r) return rc(r);
    return { ok: true, values: { pgsizes: d.stats.last_map_pages.map((x) => `${x.count}x${formatSize(x.pgsize)}`).join(' ') } };
  },
  iommu_unmap: (p, op) => ({ ok: true, values: { unmapped: iommu_unmap(domain(p, op.domain).domain, op.iova, op.size) } }),
  iommu_unmap_fast: (p, op) => {
    const d = domain(p, op.domain);
    const g = d.pending_gather ?? newGather();
    d.pending_gather = g;
    return { ok: true, values: { unmapped: iommu_unmap_fast(d.domain, op.iova, op.size, g) } };
  },
  iommu_iotlb_sync: (p, op) => {
    const d = domain(p, op.domain);
    iommu_iotlb_sync(d.domain, d.pending_gather ?? newGather());
    d.pending_gather = null;
    return OK;
  },
  iommu_flush_iotlb_all: (p, op) => (iommu_flush_iotlb_all(domain(p, op.domain).domain), OK),
  iommu_map_sg: (p, op) => {
    const r = iommu_map_sg(domain(p, op.domain).domain, op.iova, op.sg, op.prot);
    return r < 0n ? rc(r) : { ok: true, values: { mapped: r } };
  },
  iommu_iova_to_phys: (p, op) => ({ ok: true, values: { phys: iommu_iova_to_phys(domain(p, op.domain).domain, op.iova) } }),
  iommu_info: (p, op) => {
    const d = domain(p, op.domain);
    const s = d.domain.stats;
    const pgtbl = d.domain.pgtbl;
    const pt = pgtbl && 'stats' in pgtbl ? (pgtbl as ArmLpaeIoPgtable).stats : undefined;
    return {
      ok: true,
      values: {
        type: d.domain.type, granule: d.iovad?.granule ?? 0n, iotlb_syncs: s.iotlb_sync, flush_alls: s.flush_iotlb_all, sync_maps: s.iotlb_sync_map,
        map_pages: s.map_pages, iotlb_entries: d.domain.iotlb?.size ?? 0, fq_pending: d.fq ? [...d.fq.pending()].length : 0,
        pgtables: pt?.tables ?? 0, leaves: pt?.leaves ?? 0,
      },
    };
  },

  init_iova_domain: (p, op) => {
    if (p.iova_domains.has(op.name) || p.iommu.domains.has(op.name)) throw new ConfigError('name', `a domain "${op.name}" exists already`);
    if (op.granule === 0n || (op.granule & (op.granule - 1n)) !== 0n || op.granule > p.page_size) {
      throw new ConfigError('granule', 'must be a power of two no larger than PAGE_SIZE (init_iova_domain BUGs otherwise)');
    }
    p.iova_domains.set(op.name, new IovaDomain({
      granule: op.granule, start_pfn: op.start_pfn, page_size: p.config.page_size, ncpus: p.config.ncpus, timers: p.timers, faults: p.faults,
      warn: (code, message) => p.warn.warn('kernel', code, message),
    }));
    return OK;
  },
  alloc_iova: (p, op) => {
    const d = iovad(p, op.domain);
    // fls_long(size - 1) is a shift by 64 and the node would end at pfn_lo - 1.
    if (op.size === 0n) throw new Undefined('UNDEFINED_SIZE_ZERO', 'alloc_iova of 0 pfns: the alignment shift is by 64 and the node ends before it starts');
    return range(d.alloc_iova(op.size, op.limit_pfn, op.size_aligned ?? true));
  },
  free_iova: (p, op) => {
    const d = iovad(p, op.domain);
    if (op.pfn === IOVA_ANCHOR) throw anchorFree('free_iova');
    d.free_iova(op.pfn);
    return OK;
  },
  alloc_iova_fast: (p, op) => {
    const d = iovad(p, op.domain);
    if (op.size === 0n) throw new Undefined('UNDEFINED_SIZE_ZERO', 'alloc_iova_fast of 0 pfns: roundup_pow_of_two(0) shifts by 64');
    let pfn = 0n;
    for (let i = repeat(op.repeat); i > 0; i--) {
      pfn = d.alloc_iova_fast(p.cpu(), op.size, op.limit_pfn, op.flush_rcache ?? true);
      if (!pfn) break;
    }
    return pfn ? { ok: true, values: { pfn } } : { ok: false, error: '0' };
  },
  free_iova_fast: (p, op) => {
    const d = iovad(p, op.domain);
    const n = repeat(op.repeat);
    const last = op.pfn + BigInt(n - 1) * op.size;
    if (last > U64_MAX) throw new Undefined('UNDEFINED_ADDRESS_WRAP', `free_iova_fast repeat ${n}: pfn ${hexPfn(last)} wraps past 2^64`);
    // A cached anchor pfn reaches free_iova when its magazine is emptied.
    const k = op.size === 0n ? 0n : (IOVA_ANCHOR - op.pfn) / op.size; // the repeat that would name the anchor
    if (op.pfn === IOVA_ANCHOR || (k < BigInt(n) && op.pfn + k * op.size === IOVA_ANCHOR)) throw anchorFree('free_iova_fast');
    for (let i = 0; i < n; i++) d.free_iova_fast(p.cpu(), op.pfn + BigInt(i) * op.size, op.size);
    return OK;
  },
  reserve_iova: (p, op) => {
    const d = iovad(p, op.domain);
    // Past reserve_iova's WARN_ON the kernel inserts [pfn_lo, pfn_hi] as it is: a node ending
    // before it starts, which breaks the ordered, disjoint tree every later search walks.
    const max = U64_MAX >> BigInt(d.view.granule.toString(2).length - 1); // ULLONG_MAX >> iova_shift
    if (op.pfn_lo > op.pfn_hi && (op.pfn_lo | op.pfn_hi) <= max) {
      throw new Undefined('UNDEFINED_IOVA_RESERVE_INVERTED', `reserve_iova with pfn_lo ${hexPfn(op.pfn_lo)} > pfn_hi ${hexPfn(op.pfn_hi)} inserts a node that ends before it starts`);
    }
    return range(d.reserve_iova(op.pfn_lo, op.pfn_hi));
  },
  find_iova: (p, op) => range(iovad(p, op.domain).find_iova(op.pfn)),
  iova_cpuhp_dead: (p, op) => {
    if (op.cpu >= p.config.ncpus) throw new ConfigError('cpu', `a CPU number below ncpus (${p.config.ncpus})`);
    iovad(p, op.domain).iova_cpuhp_dead(op.cpu);
    return OK;
  },
  iova_info: (p, op) => {
    const v = iovad(p, op.domain).view;
    return {
      ok: true,
      values: {
        cached32_node: v.cached32_node, cached_node: v.cached_node, max32_alloc_size: v.max32_alloc_size,
        nodes: v.node_count, rcache_hits: v.stats.rcache_hits, rcache_misses: v.stats.rcache_misses,
        depot_size: v.rcaches.reduce((n, r) => n + r.depot.length, 0),
      },
    };
  },
};
