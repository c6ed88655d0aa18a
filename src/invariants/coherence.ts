/**
 * Data visibility for non-coherent devices (dma-core.md §5.4 VIS-1, VIS-2,
 * VIS-4, VIS-5) and for coherent allocations (DESIGN.md COHERENT-DATA-*).
 * VIS-3 lists hazards, not a property: the model must be able to produce them,
 * and the data checkers make no claim once one has happened (see data-shadow.ts).
 */
import { CoherentShadow, type CoherentId } from './coherent-shadow';
import { DataShadow, type VisId } from './data-shadow';
import { toPhys } from './devices';
import type { InvariantChecker, InvariantFactory, InvariantInfo } from './invariant';
import { IntervalSet } from './intervals';
import { bouncedVia, hex, mappedBy, syncedBy, unmappedBy } from './op-facts';
import { sharedPerOp } from './shared';
import { swiotlbChanges } from './swiotlb-tracker';

/** One DataShadow per Platform, observed once per op: each VIS invariant reports its own share of the findings. */
const visFindings = sharedPerOp(() => new DataShadow(), (shadow, ctx) => shadow.observe(ctx));

function visInvariant(info: InvariantInfo & { id: VisId }): InvariantFactory {
  const checker: InvariantChecker = { info, after: (ctx) => mine(visFindings(ctx), info.id) };
  return { info, create: () => checker };
}

/** The messages of the findings charged to @id (most ops have none: no allocation then). */
function mine(findings: readonly { id: string; message: string }[], id: string): readonly string[] {
  if (findings.length === 0) return NONE;
  const out: string[] = [];
  for (const f of findings) if (f.id === id) out.push(f.message);
  return out;
}
const NONE: readonly string[] = Object.freeze([]);

const CONTRACT = 'while the driver keeps the contract (no SKIP_CPU_SYNC, no CPU write to the buffer’s cache lines during device ownership, whole-mapping syncs in the mapping’s direction, no dma-debug finding on the buffer)';

export const VIS_TO_DEVICE = visInvariant({
  id: 'VIS-TO-DEVICE',
  statement: `A device reading a TO_DEVICE or BIDIRECTIONAL buffer it owns reads what the CPU wrote before handing it over (and its own writes since), ${CONTRACT}.`,
  clause: 'dma-core.md §5.4 VIS-1',
  box: 'black',
});

export const VIS_FROM_DEVICE = visInvariant({
  id: 'VIS-FROM-DEVICE',
  statement: `After sync_for_cpu or unmap of a FROM_DEVICE or BIDIRECTIONAL buffer, CPU reads return what the device wrote, ${CONTRACT}.`,
  clause: 'dma-core.md §5.4 VIS-2',
  box: 'black',
});

export const VIS_BOUNCE_TRANSPARENT = visInvariant({
  id: 'VIS-BOUNCE-TRANSPARENT',
  statement: `After a FROM_DEVICE or BIDIRECTIONAL buffer is handed back, the bytes the device did not write read as before the hand-over, bounced or not (the CVE-2022-0854 property), ${CONTRACT}.`,
  clause: 'dma-core.md §5.4 VIS-4 (checked for every mapping: a black-box checker cannot see the bounce); §4.3',
  box: 'black',
});

export const VIS_CPU_BYTES_KEPT = visInvariant({
  id: 'VIS-CPU-BYTES-KEPT',
  statement: 'DMA API calls never change bytes the CPU owns: a CPU read of memory no device owns returns the CPU’s last write there (edge lines are cleaned before they are invalidated).',
  clause: 'dma-core.md §5.2 dcache_inval_poc edge lines, §5.4 VIS-3.1, §4.5',
  box: 'black',
});

// ---- VIS-5 ------------------------------------------------------------------------------------

const VIS5: InvariantInfo = {
  id: 'VIS-NO-MAINT-ON-ORIG',
  statement: 'Cache maintenance done by a map, sync or unmap of a bounced mapping never touches its original buffer; only the bounce slot is cleaned or invalidated.',
  clause: 'dma-core.md §5.4 VIS-5; §5.3',
  box: 'white',
};

export const VIS_NO_MAINT_ON_ORIG: InvariantFactory = {
  info: VIS5,
  create(): InvariantChecker {
    let seq = 0;
    return { info: VIS5, after: (ctx) => {
      const { op, result, platform: p } = ctx;
      // Reads the arch event ring (ArchDmaSync.events_since): O(events of this op).
      const events = p.arch.events_since(seq);
      seq = p.arch.event_seq;
      const { shadow: tracker, result: c } = swiotlbChanges(ctx);
      if (!c || !events || events.length === 0) return [];
      const origs = new IntervalSet<string>();
      for (const b of [...c.added, ...c.removed]) origs.insert(b.orig, b.orig + b.size, hex(b.tlb));
      for (const s of syncedBy(op)) {
        const b = tracker.live.get(toPhys(p.devices.get(s.dev), s.dma));
        if (b) origs.insert(b.orig, b.orig + b.size, hex(b.tlb));
      }
      if (origs.size === 0) return [];
      // Maintenance of direct entries of the same call is theirs, even if the memory is shared.
      const direct = new Set<string>();
      const pool = p.swiotlb;
      const add = (start: bigint, size: bigint): void => void direct.add(`${start}+${size}`);
      for (const m of mappedBy(op, result)) if (!bouncedVia(pool, toPhys(p.devices.get(m.dev), m.dma), m.phys)) add(m.phys, m.size);
      for (const u of [...unmappedBy(op), ...syncedBy(op)]) {
        const x = toPhys(p.devices.get(u.dev), u.dma);
        if (!pool?.is_swiotlb_buffer(x)) add(x, u.size);
      }
      const out: string[] = [];
      for (const e of events) {
        if ((e.kind !== 'clean' && e.kind !== 'invalidate') || direct.has(`${e.start}+${e.end - e.start}`)) continue;
        const hit = origs.overlapping(e.start, e.end);
        if (hit.length) out.push(`${op.op}: ${e.kind} of [${hex(e.start)}, ${hex(e.end)}) touches the original buffer of bounce ${hit[0]}`);
      }
      return out;
    } };
  },
};

// ---- coherent allocations -----------------------------------------------------------------------------

/** One CoherentShadow per Platform, shared by both coherent-data invariants. */
const coherentFindings = sharedPerOp(() => new CoherentShadow(), (shadow, ctx) => shadow.observe(ctx));

function coherentInvariant(info: InvariantInfo & { id: CoherentId }): InvariantFactory {
  const checker: InvariantChecker = { info, after: (ctx) => mine(coherentFindings(ctx), info.id) };
  return { info, create: () => checker };
}

export const COHERENT_DATA_TO_DEVICE = coherentInvariant({
  id: 'COHERENT-DATA-TO-DEVICE',
  statement: 'In a dma_alloc_coherent or dma_pool buffer, a CPU write (or the allocation’s zeroing) is seen at once by the owning device’s reads, with no sync.',
  clause: 'DESIGN.md Invariants; dma-api.rst Part Ia; dma-core.md §3.7',
  box: 'black',
});

export const COHERENT_DATA_FROM_DEVICE = coherentInvariant({
  id: 'COHERENT-DATA-FROM-DEVICE',
  statement: 'In a dma_alloc_coherent or dma_pool buffer, a write by the owning device is seen at once by CPU reads, with no sync.',
  clause: 'DESIGN.md Invariants; dma-api.rst Part Ia; dma-core.md §3.7',
  box: 'black',
});

export const COHERENCE_INVARIANTS: readonly InvariantFactory[] = [
  VIS_TO_DEVICE, VIS_FROM_DEVICE, VIS_BOUNCE_TRANSPARENT, VIS_CPU_BYTES_KEPT, VIS_NO_MAINT_ON_ORIG,
  COHERENT_DATA_TO_DEVICE, COHERENT_DATA_FROM_DEVICE,
];
