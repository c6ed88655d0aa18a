/**
 * Batched DMA sync (dma-core.md §5.5 BAT-1..BAT-5). White-box: they read the
 * per-CPU pending lists, the flush counter and the arch event ring of
 * ArchDmaSync. BAT-3 (the stub changes nothing) is the non-batched half of
 * BAT-FLUSH-COUNT.
 */
import type { DmaDirection } from '../dma/types';
import type { Platform } from '../platform';
import { toPhys } from './devices';
import type { InvariantChecker, InvariantFactory, InvariantInfo } from './invariant';
import { hex, isSgMap, isSingleMap, mappedBy, syncedBy, unmappedBy } from './op-facts';

// ---- BAT-1 / BAT-2 ----------------------------------------------------------------------------

const NOPEND: InvariantInfo = {
  id: 'BAT-NO-PENDING-AT-HANDOFF',
  statement: 'When any op returns, no issued-but-incomplete cache maintenance remains on its CPU, so nothing handed to the device or back to the CPU is covered by one.',
  clause: 'dma-core.md §5.5 BAT-1, BAT-2 (simplest faithful form: the pending list is empty)',
  box: 'white',
};

export const BAT_NO_PENDING_AT_HANDOFF: InvariantFactory = {
  info: NOPEND,
  create: (): InvariantChecker => ({ info: NOPEND, after: ({ op, platform: p }) => {
    // Every op runs on one CPU (the engine sets current_cpu), so only that list can have grown.
    const pend = p.arch.pending(p.current_cpu);
    if (pend.length === 0) return [];
    const e = pend[0]!;
    return [`${op.op} returned with ${pend.length} pending maintenance op(s) on CPU ${p.current_cpu}, first ${e.kind} [${hex(e.start)}, ${hex(e.end)})`];
  } }),
};

// ---- BAT-4 (and BAT-3) ------------------------------------------------------------------------

const FLUSH: InvariantInfo = {
  id: 'BAT-FLUSH-COUNT',
  statement: 'A DMA call completes its maintenance with at most one flush, plus one per swiotlb_map and one per bounced FROM_DEVICE/BIDIRECTIONAL copy back; with the stub (no batching) there are no flushes at all.',
  clause: 'dma-core.md §5.5 BAT-4, BAT-3',
  box: 'white',
};

const copiesBack = (dir: DmaDirection): boolean => dir !== 'DMA_TO_DEVICE';

/** The most flushes the op may do (§5.5 placement table). */
function flushBound(p: Platform, op: Parameters<InvariantChecker['after']>[0]['op'], r: Parameters<InvariantChecker['after']>[0]['result']): number {
  const pool = p.swiotlb;
  const bounced = (dev: string, dma: bigint): boolean => pool !== null && pool.is_swiotlb_buffer(toPhys(p.devices.get(dev), dma));
  if (isSingleMap(op)) return 1;
  if (isSgMap(op)) {
    // A failed map unwinds without maintenance, but entries before the failure may have bounced.
    if (!r.ok) return 1 + (op.nents ?? op.sg.length);
    return 1 + mappedBy(op, r).filter((m) => bounced(m.dev, m.dma)).length;
  }
  const unmaps = unmappedBy(op);
  if (unmaps.length) return 1 + unmaps.filter((u) => copiesBack(u.dir) && bounced(u.dev, u.dma)).length;
  const syncs = syncedBy(op);
  if (syncs.length) return 1 + syncs.filter((s) => s.toCpu && copiesBack(s.dir) && bounced(s.dev, s.dma)).length;
  if (op.op === 'swiotlb_tbl_unmap_single') return copiesBack(op.dir) ? 1 : 0;
  return 0;
}

export const BAT_FLUSH_COUNT: InvariantFactory = {
  info: FLUSH,
  create(): InvariantChecker {
    let flushes = 0;
    return { info: FLUSH, after: ({ op, result, platform: p }) => {
      const n = p.arch.stats.flushes - flushes;
      flushes = p.arch.stats.flushes;
      if (!p.arch.batched) return n === 0 ? [] : [`${op.op}: ${n} flush(es) counted although arch_sync_dma_flush is the empty stub`];
      // dma-iommu places its flushes its own way (§5.5, iommu.md): not this layer's claim.
      if ('dev' in op && typeof op.dev === 'string' && p.devices.get(op.dev)?.iommu) return [];
      const max = flushBound(p, op, result);
      return n <= max ? [] : [`${op.op}: ${n} arch_sync_dma_flush calls, at most ${max} allowed`];
    } };
  },
};

// ---- BAT-5 ------------------------------------------------------------------------------------

const CPUALL: InvariantInfo = {
  id: 'BAT-CPU-ALL-AFTER-FLUSH',
  statement: 'arch_sync_dma_for_cpu_all runs only after the flush that completes the invalidates issued before it (sync_for_cpu single and sg, unmap of a single mapping).',
  clause: 'dma-core.md §5.5 BAT-5',
  box: 'white',
};

export const BAT_CPU_ALL_AFTER_FLUSH: InvariantFactory = {
  info: CPUALL,
  create(): InvariantChecker {
    let seq = 0;
    return { info: CPUALL, after: ({ op, platform: p }) => {
      const events = p.arch.events_since(seq);
      seq = p.arch.event_seq;
      // dma_direct_unmap_sg runs each entry's cpu_all before its one flush; arm64's cpu_all is empty (§5.2).
      if (!events || !p.arch.batched || op.op === 'dma_unmap_sg' || op.op === 'dma_unmap_sgtable') return [];
      if ('dev' in op && typeof op.dev === 'string' && p.devices.get(op.dev)?.iommu) return [];
      let pending = 0;
      for (const e of events) {
        if (e.kind === 'flush') pending = 0;
        else if (e.kind === 'cpu_all') {
          if (pending > 0) return [`${op.op}: arch_sync_dma_for_cpu_all ran with ${pending} invalidate(s) not yet flushed`];
        } else if (e.pending && e.cpu === p.current_cpu) pending++;
      }
      return [];
    } };
  },
};

export const BATCHED_INVARIANTS: readonly InvariantFactory[] = [BAT_NO_PENDING_AT_HANDOFF, BAT_FLUSH_COUNT, BAT_CPU_ALL_AFTER_FLUSH];
