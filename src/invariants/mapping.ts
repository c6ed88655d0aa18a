/**
 * Invariants of the public API and its dispatch (kernel/dma/mapping.c;
 * dma-core.md §2.9), plus MASK-RESPECTED of DESIGN.md. INV-M5 (dispatch is a
 * pure function of the device state) has nothing to check while every device
 * is direct; it arrives with dma-iommu.
 */
import { DMA_BIT_MASK, DMA_MAPPING_ERROR, U64_MAX, min_not_zero } from '../dma/types';
import { PlatformShadow, mappingLimit, toPhys } from './devices';
import type { AfterOp, InvariantChecker, InvariantFactory, InvariantInfo } from './invariant';
import { hex, isEngineRefusal, isSgMap, isSingleMap, mappedBy, resultBig, resultNum } from './op-facts';

const checker = (info: InvariantInfo, after: InvariantChecker['after']): InvariantChecker => ({ info, after });

// ---- INV-M1 -----------------------------------------------------------------------------------

const M1: InvariantInfo = {
  id: 'MAP-RESULT-RECORDED',
  statement: 'A single map returns DMA_MAPPING_ERROR and leaves no swiotlb slot or debug entry, or an address its backend recorded (a bounce slot holding phys, one new debug entry).',
  clause: 'dma-core.md §2.9 INV-M1',
  box: 'white',
};

export const MAP_RESULT_RECORDED: InvariantFactory = {
  info: M1,
  create() {
    let used = 0;
    let live = 0;
    return checker(M1, ({ op, result, platform: p }) => {
      const out: string[] = [];
      const nowUsed = p.swiotlb?.stats.total_used ?? 0;
      const dbg = p.debug?.view;
      const nowLive = dbg?.live_entries ?? 0;
      if (isSingleMap(op) && !isEngineRefusal(result)) {
        const dbgOn = dbg !== undefined && !dbg.disabled;
        // 6.12 debug_dma_map_resource records even a failed map (dma-core.md §6.2).
        const recordsFailure = op.op === 'dma_map_resource' && p.linux === '6.12';
        if (!result.ok) {
          if (nowUsed !== used) out.push(`${op.op} failed but swiotlb slots in use went ${used} → ${nowUsed}`);
          if (dbgOn && nowLive !== live + (recordsFailure ? 1 : 0)) out.push(`${op.op} failed but dma-debug live entries went ${live} → ${nowLive}`);
        } else {
          const dma = resultBig(result, 'dma_addr') ?? DMA_MAPPING_ERROR;
          if (dbgOn && nowLive !== live + 1) out.push(`${op.op} returned ${hex(dma)} but dma-debug live entries went ${live} → ${nowLive}`);
          const pool = p.swiotlb;
          const tlb = toPhys(p.devices.get(op.dev), dma);
          // tlb === phys: a direct map of memory that happens to lie in the pool (driver misuse), not a bounce.
          if (pool && op.op !== 'dma_map_resource' && p.devices.get(op.dev)?.iommu === null && tlb !== op.phys && pool.is_swiotlb_buffer(tlb)) {
            const orig = pool.view.orig_addr[Number((tlb - pool.start) >> 11n)];
            if (orig !== op.phys) out.push(`${op.op} returned bounce address ${hex(dma)} whose slot records orig ${orig === undefined ? 'nothing' : hex(orig)}, not ${hex(op.phys)}`);
          }
        }
      }
      used = nowUsed;
      live = nowLive;
      return out;
    });
  },
};

// ---- INV-M2 -----------------------------------------------------------------------------------

const SGTABLE_ERRORS = ['-EINVAL', '-ENOMEM', '-EIO', '-EREMOTEIO'];

const M2: InvariantInfo = {
  id: 'MAP-SG-COUNT',
  statement: 'dma_map_sg returns a count in [1, nents] or 0; dma_map_sgtable returns 0 with 0 ≤ nents ≤ orig_nents, or -EINVAL/-ENOMEM/-EIO/-EREMOTEIO.',
  clause: 'dma-core.md §2.9 INV-M2',
  box: 'black',
};

export const MAP_SG_COUNT: InvariantFactory = {
  info: M2,
  create: () => checker(M2, ({ op, result }) => {
    if (!isSgMap(op) || isEngineRefusal(result)) return [];
    const nents = op.nents ?? op.sg.length;
    const table = op.op === 'dma_map_sgtable';
    if (!result.ok) {
      if (table ? SGTABLE_ERRORS.includes(result.error) : result.error === '0') return [];
      return [`${op.op} failed with ${result.error}, which it may not return`];
    }
    const n = resultNum(result, 'nents') ?? -1;
    const lo = table ? 0 : 1;
    return n >= lo && n <= nents ? [] : [`${op.op} of ${nents} entries returned nents ${n}, outside [${lo}, ${nents}]`];
  }),
};

// ---- INV-M3 -----------------------------------------------------------------------------------

const M3: InvariantInfo = {
  id: 'OPT-LE-MAX',
  statement: 'dma_opt_mapping_size(dev) ≤ dma_max_mapping_size(dev) for the same device state.',
  clause: 'dma-core.md §2.9 INV-M3',
  box: 'black',
};

export const OPT_LE_MAX: InvariantFactory = {
  info: M3,
  create() {
    // Per device, the last answers since its masks last changed (nothing else moves them, §2.6, §3.7).
    const seen = new Map<string, { max?: bigint; opt?: bigint }>();
    return checker(M3, ({ op, result }) => {
      switch (op.op) {
        case 'platform': seen.clear(); return [];
        case 'device_add': case 'device_remove': seen.delete(op.name); return [];
        case 'dma_set_mask': case 'dma_set_coherent_mask': case 'dma_set_mask_and_coherent': seen.delete(op.dev); return [];
        case 'dma_max_mapping_size': case 'dma_opt_mapping_size': {
          const v = resultBig(result, 'size');
          if (v === undefined) return [];
          const s = seen.get(op.dev) ?? {};
          if (op.op === 'dma_max_mapping_size') s.max = v;
          else s.opt = v;
          seen.set(op.dev, s);
          return s.max !== undefined && s.opt !== undefined && s.opt > s.max
            ? [`"${op.dev}": dma_opt_mapping_size ${s.opt} exceeds dma_max_mapping_size ${s.max}`] : [];
        }
        default: return [];
      }
    });
  },
};

// ---- INV-M4 -----------------------------------------------------------------------------------

const M4: InvariantInfo = {
  id: 'SET-MASK-EFFECT',
  statement: 'dma_get_mask returns the mask of the last successful dma_set_mask (truncated to dma_addr_t); a failed one leaves it unchanged.',
  clause: 'dma-core.md §2.9 INV-M4',
  box: 'black',
};

export const SET_MASK_EFFECT: InvariantFactory = {
  info: M4,
  create() {
    const shadow = new PlatformShadow();
    return checker(M4, ({ op, result }) => {
      shadow.observe(op, result);
      if (op.op !== 'dma_get_mask') return [];
      const d = shadow.device(op.dev);
      const got = resultBig(result, 'mask');
      if (!d || got === undefined) return [];
      // dma_get_mask: DMA_BIT_MASK(32) while the pointer is NULL or the mask is 0 (§2.6).
      const want = d.dma_mask ? d.dma_mask : DMA_BIT_MASK(32);
      return got === want ? [] : [`"${op.dev}": dma_get_mask returned ${hex(got)}, expected ${hex(want)} from device_add and the dma_set_mask results`];
    });
  },
};

// ---- MASK-RESPECTED ---------------------------------------------------------------------------

const MR: InvariantInfo = {
  id: 'MASK-RESPECTED',
  statement: 'Every successful map lies in [0, min_not_zero(dma_mask, bus_dma_limit)]; every coherent allocation in [0, min_not_zero(coherent_dma_mask, bus_dma_limit)].',
  clause: 'DESIGN.md Invariants; dma-core.md §3.2 dma_capable, §3.7 dma_coherent_ok',
  box: 'black',
};

export const MASK_RESPECTED: InvariantFactory = {
  info: MR,
  create() {
    const shadow = new PlatformShadow();
    return checker(MR, ({ op, result }: AfterOp) => {
      shadow.observe(op, result);
      const out: string[] = [];
      for (const m of mappedBy(op, result)) {
        const d = shadow.device(m.dev);
        if (!d || m.size === 0n) continue;
        const limit = mappingLimit(d);
        const last = m.dma + m.size - 1n;
        if (last > limit || last > U64_MAX) out.push(`${op.op}${m.kind === 'sg' ? ` entry ${m.index}` : ''}: [${hex(m.dma)}, +${m.size}) ends above the limit ${hex(limit)} of "${m.dev}"`);
      }
      if (op.op === 'dma_alloc_coherent' && result.ok) {
        const d = shadow.device(op.dev);
        const dma = resultBig(result, 'dma_addr');
        if (d && dma !== undefined) {
          // Through an IOMMU the last granule may pass a limit that is not k·G − 1 (iommu.md §3.3).
          const limit = min_not_zero(d.coherent_dma_mask, d.bus_dma_limit) | (d.iommu ? d.granule - 1n : 0n);
          if (dma + op.size - 1n > limit) out.push(`dma_alloc_coherent: [${hex(dma)}, +${op.size}) ends above the coherent limit ${hex(limit)} of "${op.dev}"`);
        }
      }
      return out;
    });
  },
};

export const MAPPING_INVARIANTS: readonly InvariantFactory[] = [MAP_RESULT_RECORDED, MAP_SG_COUNT, OPT_LE_MAX, SET_MASK_EFFECT, MASK_RESPECTED];
