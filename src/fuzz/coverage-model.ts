/**
 * Model-level coverage features (DESIGN.md "Coverage for the fuzzer"): one string per op — op name,
 * outcome (ok / error code), the path the op took (direct / bounce / iommu / iommu-bounce /
 * identity; sg merged or bounced) and markers from counter deltas around the op (range-cache hit or
 * tree walk, second pass from the top, max32 shortcut, flush-queue flushes, block split, page sizes
 * used, IOTLB hit ...), then its sorted warning codes. Per run, each string also yields AFL-style
 * hit-count buckets (1, 2, 3, 4-7, 8-15, 16-31, 32-127, 128+), so "the same path, more often" is new too.
 */
import { dma_to_phys } from '../dma/direct';
import type { StepOutcome } from '../engine/engine';
import type { ArmLpaeIoPgtable } from '../iommu/io-pgtable-arm';
import type { Platform } from '../platform';
import { formatSize } from '../ops/numbers';
import type { ResultValue, SgResultEntry } from '../ops/types';

// ---- hit-count buckets ------------------------------------------------------------------------

/** AFL's count classes: 1, 2, 3, 4-7, 8-15, 16-31, 32-127, 128+. */
export function bucket(n: number): number {
  if (n <= 3) return n;
  if (n < 8) return 4;
  if (n < 16) return 8;
  if (n < 32) return 16;
  if (n < 128) return 32;
  return 128;
}

// ---- model-level features ---------------------------------------------------------------------

/** Counter markers: an op whose delta of this counter is > 0 gets the marker. Order is output order. */
const MARKERS = [
  'swiotlb-copy', 'swiotlb-fail', 'clean', 'inval', 'flush', 'cpu-all',
  'rc-hit', 'rc-miss', 'rc-flush', 'iova-retry', 'iova-max32', 'iova-fail', 'rc-insert', 'rc-fallback', 'mag-fail',
  'depot-push', 'depot-trim', 'fq-queue', 'fq-retire', 'fq-full', 'fq-timer',
  'pt-alloc', 'pt-free', 'pt-split', 'pt-teardown', 'pt-refused', 'pt-overlap',
  'walk-inv', 'sync-map', 'iotlb-hit', 'iotlb-miss', 'iotlb-inv', 'iotlb-flush-all',
] as const;
const M = Object.fromEntries(MARKERS.map((m, i) => [m, i])) as Record<(typeof MARKERS)[number], number>;

/** Sums the path counters of the whole platform (an op may touch several domains) into `out`. */
function readCounters(p: Platform, out: Float64Array): void {
  out.fill(0);
  if (p.swiotlb) {
    out[M['swiotlb-copy']] = p.swiotlb.stats.bounces;
    out[M['swiotlb-fail']] = p.swiotlb.stats.failures;
  }
  const a = p.arch.stats;
  out[M.clean] = a.cleans;
  out[M.inval] = a.invalidates;
  out[M.flush] = a.flushes;
  out[M['cpu-all']] = a.cpu_all;
  const iovads = [...p.iova_domains.values()];
  for (const d of p.iommu.domains.values()) {
    if (d.iovad) iovads.push(d.iovad);
    if (d.fq) {
      out[M['fq-queue']] += d.fq.stats.queued;
      out[M['fq-retire']] += d.fq.stats.retired;
      out[M['fq-full']] += d.fq.stats.full_flushes;
      out[M['fq-timer']] += d.fq.stats.timer_flushes;
    }
    const pgtbl = d.domain.pgtbl;
    if (pgtbl && 'stats' in pgtbl) {
      const t = (pgtbl as ArmLpaeIoPgtable).stats;
      out[M['pt-alloc']] += t.tables_allocated;
      out[M['pt-free']] += t.tables_freed;
      out[M['pt-split']] += t.block_splits;
      out[M['pt-teardown']] += t.table_teardowns;
      out[M['pt-refused']] += t.partial_unmaps_refused;
      out[M['pt-overlap']] += t.overlapping_maps;
    }
    const s = d.domain.stats;
    out[M['walk-inv']] += s.tlb_flush_walk;
    out[M['sync-map']] += s.iotlb_sync_map;
    const tlb = d.domain.iotlb?.stats;
    if (tlb) {
      out[M['iotlb-hit']] += tlb.hits;
      out[M['iotlb-miss']] += tlb.misses;
      out[M['iotlb-inv']] += tlb.range_invalidations;
      out[M['iotlb-flush-all']] += tlb.full_flushes;
    }
  }
  for (const v of iovads) {
    const s = v.view.stats;
    out[M['rc-hit']] += s.rcache_hits;
    out[M['rc-miss']] += s.rcache_misses;
    out[M['rc-flush']] += s.rcache_flushes;
    out[M['iova-retry']] += s.retries_from_top;
    out[M['iova-max32']] += s.shortcut_32bit;
    out[M['iova-fail']] += s.alloc_failures;
    out[M['rc-insert']] += s.rcache_inserts;
    out[M['rc-fallback']] += s.rcache_insert_fallbacks;
    out[M['mag-fail']] += s.magazine_alloc_failures;
    out[M['depot-push']] += s.depot_pushes;
    out[M['depot-trim']] += s.depot_trims;
  }
}

const inPool = (p: Platform, phys: bigint): boolean => p.swiotlb?.is_swiotlb_buffer(phys) ?? false;

/** Which path a DMA address of `dev` took: through the IOMMU or not, bounced or not. */
function mapPath(p: Platform, devName: string, addr: bigint): string {
  const dev = p.devices.get(devName);
  if (!dev) return 'nodev';
  const d = p.iommu.domainOf(dev);
  const type = d?.domain.type;
  if (d && (type === 'DMA' || type === 'DMA_FQ')) return inPool(p, d.domain.pgtbl?.iova_to_phys(addr) ?? 0n) ? 'iommu-bounce' : 'iommu';
  const direct = inPool(p, dma_to_phys(dev, addr)) ? 'bounce' : 'direct';
  return type ? `${type.toLowerCase()}-${direct}` : direct;
}

/** sg path: the path of the first segment, then merged (fewer DMA segments than entries) and how many bounced. */
function sgPath(p: Platform, devName: string, sg: readonly SgResultEntry[], nents: number, given: number): string {
  if (nents === 0 || sg.length === 0) return 'sg-none';
  const marks = [mapPath(p, devName, sg[0].dma_address)];
  if (nents < given) marks.push('sg-merged');
  const dev = p.devices.get(devName);
  if (dev && p.swiotlb && !p.iommu.domainOf(dev)) {
    let bounced = 0;
    for (let i = 0; i < nents && i < sg.length; i++) if (inPool(p, dma_to_phys(dev, sg[i].dma_address))) bounced++;
    marks.push(bounced === 0 ? 'sg-bounce-none' : bounced === nents ? 'sg-bounce-all' : 'sg-bounce-some');
  }
  return marks.join('+');
}

/** The page sizes the last map of each domain whose map_pages count moved used ("pg=4K+2M"). */
function pgsizeMix(p: Platform, mapPagesBefore: ReadonlyMap<string, number>): string | undefined {
  const sizes = new Set<bigint>();
  for (const d of p.iommu.domains.values()) {
    const s = d.domain.stats;
    if (s.map_pages === (mapPagesBefore.get(d.name) ?? 0)) continue;
    for (const c of s.last_map_pages) sizes.add(c.pgsize);
  }
  if (sizes.size === 0) return undefined;
  return 'pg=' + [...sizes].sort((a, b) => (a < b ? -1 : 1)).map(formatSize).join('+');
}

/**
 * Model-level features of one run. Call beforeOp / afterOp around every op, then finish.
 * One instance per run: it keeps the counter snapshot and the per-run feature counts.
 */
export class ModelFeatures {
  private readonly before = new Float64Array(MARKERS.length);
  private readonly after = new Float64Array(MARKERS.length);
  private readonly mapPages = new Map<string, number>();
  private readonly counts = new Map<string, number>();

  /** Snapshots the counters (p is null before the platform op has run). */
  beforeOp(p: Platform | null): void {
    if (!p) {
      this.before.fill(0);
      return;
    }
    readCounters(p, this.before);
    this.mapPages.clear();
    for (const d of p.iommu.domains.values()) this.mapPages.set(d.name, d.domain.stats.map_pages);
  }

  /** The feature string of the op that just ran; counted for finish(). */
  afterOp(p: Platform, step: StepOutcome): string {
    const { op, result } = step;
    const parts: string[] = [op.op, result.ok ? 'ok' : result.fault ? `${result.error}!fault` : result.error];
    const dev = 'dev' in op && typeof op.dev === 'string' ? op.dev : undefined;
    if (result.ok && dev !== undefined) {
      const v: Readonly<Record<string, ResultValue>> = result.values;
      if (Array.isArray(v.sg) && typeof v.nents === 'number') {
        const nents = 'nents' in op && typeof op.nents === 'number' ? op.nents : undefined;
        const given = nents ?? ('sg' in op && Array.isArray(op.sg) ? op.sg.length : v.sg.length);
        parts.push(sgPath(p, dev, v.sg as readonly SgResultEntry[], v.nents, given));
      } else if (typeof v.dma_addr === 'bigint') parts.push(mapPath(p, dev, v.dma_addr));
    }
    readCounters(p, this.after);
    const marks: string[] = [];
    for (let i = 0; i < MARKERS.length; i++) if (this.after[i] > this.before[i]) marks.push(MARKERS[i]);
    const pg = pgsizeMix(p, this.mapPages);
    if (pg) marks.push(pg);
    if (marks.length) parts.push(marks.join('+'));
    if (result.warnings.length) parts.push('w=' + [...new Set(result.warnings.map((w) => w.code))].sort().join(','));
    const f = parts.join(':');
    this.counts.set(f, (this.counts.get(f) ?? 0) + 1);
    return f;
  }

  /** Adds every op feature and its hit-count bucket ("f#4" for 4-7 times) to `into`. */
  finish(into: Set<string>): void {
    for (const [f, n] of this.counts) {
      into.add(f);
      const b = bucket(n);
      if (b > 1) into.add(`${f}#${b}`);
    }
  }
}
