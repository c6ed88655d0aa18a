/**
 * dma-direct invariants (dma-core.md §3.9 INV-D1..D4). White-box: they read the
 * device as the model holds it and the pool bounds, and tell a bounced mapping
 * from a direct one by where its address lands. Translation is written out in
 * devices.ts so a slip in the model's phys_to_dma does not hide itself, except
 * in DMA-PHYS-ROUNDTRIP, which is about the model's own pair of translations.
 */
import { dma_to_phys, phys_to_dma } from '../dma/direct';
import { DMA_MAPPING_ERROR, U64_MAX, min_not_zero, type Device } from '../dma/types';
import type { Platform } from '../platform';
import { toDma, toPhys } from './devices';
import type { AfterOp, InvariantFactory, InvariantInfo } from './invariant';
import { MMIO, bouncedVia, hex, isEngineRefusal, isSgMap, mappedBy, resultNum, resultSg, type MapFact } from './op-facts';

const capable = (d: Device, dma: bigint, size: bigint): boolean =>
  dma !== DMA_MAPPING_ERROR && dma + size - 1n <= U64_MAX && dma + size - 1n <= min_not_zero(d.dma_mask ?? 0n, d.bus_dma_limit);

const label = (op: AfterOp['op'], m: MapFact): string => `${op.op}${m.kind === 'sg' ? ` entry ${m.index}` : ''}`;

/** How a successful map was served: directly, or through a bounce slot. */
function classify(p: Platform, m: MapFact): { dev: Device; direct: boolean; expected: bigint; tlb: bigint } | undefined {
  const dev = p.devices.get(m.dev);
  if (!dev || dev.iommu !== null) return undefined; // dma-iommu: IOVAs, not dma-direct's addresses
  const raw = m.kind === 'resource' || (m.attrs & MMIO) !== 0; // no translation, no swiotlb (§2.2, §2.7)
  const expected = raw ? m.phys : toDma(dev, m.phys);
  const tlb = toPhys(dev, m.dma);
  const inPool = !raw && bouncedVia(p.swiotlb, tlb, m.phys);
  return { dev, direct: !inPool, expected, tlb };
}

const forceBounce = (p: Platform, d: Device): boolean => d.force_bounce || (p.swiotlb?.force_bounce ?? false);

// ---- INV-D1 -----------------------------------------------------------------------------------

const D1: InvariantInfo = {
  id: 'DIRECT-MAP-ADDRESS',
  statement: 'A successful map that is not bounced returns phys_to_dma(phys) (phys for resources and MMIO), with dma_capable(result, size), and only when force bounce is off.',
  clause: 'dma-core.md §3.9 INV-D1; §3.3 steps 2-5',
  box: 'white',
};

export const DIRECT_MAP_ADDRESS: InvariantFactory = {
  info: D1,
  create: () => ({ info: D1, after: (ctx) => {
    const out: string[] = [];
    for (const m of mappedBy(ctx.op, ctx.result)) {
      const c = classify(ctx.platform, m);
      if (!c || !c.direct) continue;
      const raw = m.kind === 'resource' || (m.attrs & MMIO) !== 0;
      if (m.dma !== c.expected) out.push(`${label(ctx.op, m)} returned ${hex(m.dma)}, neither phys_to_dma(${hex(m.phys)}) = ${hex(c.expected)} nor a bounce slot`);
      else if (!capable(c.dev, m.dma, m.size)) out.push(`${label(ctx.op, m)} mapped [${hex(m.dma)}, +${m.size}) directly, but "${m.dev}" cannot reach it`);
      else if (!raw && forceBounce(ctx.platform, c.dev)) out.push(`${label(ctx.op, m)} mapped ${hex(m.phys)} directly although swiotlb force bounce is on`);
    }
    return out;
  } }),
};

// ---- INV-D2 -----------------------------------------------------------------------------------

const D2: InvariantInfo = {
  id: 'BOUNCE-IN-POOL',
  statement: 'A bounced map returns an address a with dma_to_phys(a) in [pool.start, pool.end − size] and dma_capable(a, size).',
  clause: 'dma-core.md §3.9 INV-D2; §4.4 step 2',
  box: 'white',
};

export const BOUNCE_IN_POOL: InvariantFactory = {
  info: D2,
  create: () => ({ info: D2, after: (ctx) => {
    const out: string[] = [];
    const pool = ctx.platform.swiotlb;
    for (const m of mappedBy(ctx.op, ctx.result)) {
      const c = classify(ctx.platform, m);
      if (!c || c.direct || !pool) continue;
      if (c.tlb + m.size > pool.end) out.push(`${label(ctx.op, m)}: bounce [${hex(c.tlb)}, +${m.size}) runs past the pool end ${hex(pool.end)}`);
      if (!capable(c.dev, m.dma, m.size)) out.push(`${label(ctx.op, m)}: bounce address [${hex(m.dma)}, +${m.size}) is out of reach of "${m.dev}"`);
    }
    return out;
  } }),
};

// ---- INV-D3 -----------------------------------------------------------------------------------

const D3: InvariantInfo = {
  id: 'MAP-SG-ALL-OR-NOTHING',
  statement: 'dma_map_sg on the direct path maps all nents entries with sg_dma_len == length, or fails leaving no swiotlb slot and no dma-debug entry behind.',
  clause: 'dma-core.md §3.9 INV-D3; §3.6',
  box: 'white',
};

export const MAP_SG_ALL_OR_NOTHING: InvariantFactory = {
  info: D3,
  create() {
    let used = 0;
    let live = 0;
    return { info: D3, after: ({ op, result, platform: p }) => {
      const out: string[] = [];
      const nowUsed = p.swiotlb?.stats.total_used ?? 0;
      const dbg = p.debug?.view;
      const nowLive = dbg?.live_entries ?? 0;
      if (isSgMap(op) && !isEngineRefusal(result) && p.devices.get(op.dev)?.iommu === null) {
        const nents = op.nents ?? op.sg.length;
        const n = resultNum(result, 'nents');
        if (result.ok && n !== 0) {
          // n === 0 with ok is dma_map_sgtable's NULL-mask quirk (§2.3): the backend never ran.
          if (n !== nents) out.push(`${op.op} of ${nents} entries mapped ${n}: dma-direct never merges`);
          (resultSg(result) ?? []).slice(0, n).forEach((e, i) => {
            if (e.dma_length !== e.length) out.push(`${op.op} entry ${i}: sg_dma_len ${e.dma_length} != length ${e.length}`);
          });
        } else if (!result.ok) {
          if (nowUsed !== used) out.push(`${op.op} failed but swiotlb slots in use went ${used} → ${nowUsed}`);
          if (dbg && !dbg.disabled && nowLive !== live) out.push(`${op.op} failed but dma-debug live entries went ${live} → ${nowLive}`);
        }
      }
      used = nowUsed;
      live = nowLive;
      return out;
    } };
  },
};

// ---- INV-D4 -----------------------------------------------------------------------------------

const D4: InvariantInfo = {
  id: 'DMA-PHYS-ROUNDTRIP',
  statement: 'dma_to_phys(phys_to_dma(p)) == p at both ends of every dma_range_map region (when regions do not overlap), and a direct map’s address translates back to the buffer.',
  clause: 'dma-core.md §3.9 INV-D4; §3.1',
  box: 'white',
};

const overlapsAny = (xs: readonly { start: bigint; size: bigint }[], i: number): boolean =>
  xs.some((y, j) => j !== i && y.start < xs[i].start + xs[i].size && xs[i].start < y.start + y.size);

function rangesOverlap(d: Device): boolean {
  const map = d.dma_range_map ?? [];
  const cpu = map.map((m) => ({ start: m.cpu_start, size: m.size }));
  const dma = map.map((m) => ({ start: m.dma_start, size: m.size }));
  return map.some((_, i) => overlapsAny(cpu, i) || overlapsAny(dma, i));
}

export const DMA_PHYS_ROUNDTRIP: InvariantFactory = {
  info: D4,
  create: () => ({ info: D4, after: ({ op, result, platform: p }) => {
    const out: string[] = [];
    if (op.op === 'device_add') {
      const d = p.devices.get(op.name);
      const map = d?.dma_range_map ?? [];
      const cpu = map.map((m) => ({ start: m.cpu_start, size: m.size }));
      const dma = map.map((m) => ({ start: m.dma_start, size: m.size }));
      // Overlapping regions are a firmware bug the kernel does not defend against: no claim there.
      map.forEach((m, i) => {
        if (overlapsAny(cpu, i) || overlapsAny(dma, i)) return;
        for (const x of [m.cpu_start, m.cpu_start + m.size - 1n]) {
          const back = dma_to_phys(d!, phys_to_dma(d!, x));
          if (back !== x) out.push(`"${op.name}": dma_to_phys(phys_to_dma(${hex(x)})) = ${hex(back)}`);
        }
      });
    }
    for (const m of mappedBy(op, result)) {
      const c = classify(p, m);
      if (!c || !c.direct || m.kind === 'resource' || (m.attrs & MMIO) !== 0) continue;
      // Overlapping regions (firmware bug): phys_to_dma and dma_to_phys each take the first match, which may differ.
      if (rangesOverlap(c.dev)) continue;
      const back = dma_to_phys(c.dev, m.dma);
      if (back !== m.phys) out.push(`${label(op, m)}: returned ${hex(m.dma)}, which translates back to ${hex(back)}, not ${hex(m.phys)}`);
    }
    return out;
  } }),
};

export const DIRECT_INVARIANTS: readonly InvariantFactory[] = [DIRECT_MAP_ADDRESS, BOUNCE_IN_POOL, MAP_SG_ALL_OR_NOTHING, DMA_PHYS_ROUNDTRIP];
