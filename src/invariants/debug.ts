/**
 * Invariants of the contract checker (dma-core.md §6.6 DBG-1..DBG-5) and
 * NO-LEAK-AT-REMOVE of DESIGN.md. The DBG ones read DmaDebug.view (never its
 * self_check(), which walks every entry); each costs O(1) or O(size of the op).
 */
import { DMA_DEBUG_CODES, type DmaDebugCode } from '../dma/debug';
import { PlatformShadow } from './devices';
import type { InvariantChecker, InvariantFactory, InvariantInfo } from './invariant';
import { LedgerShadow } from './ledger-shadow';
import { hasWarning, hex, isEngineRefusal, mappedBy, resultBig, unmappedBy } from './op-facts';
import { SweepingMap } from '../sweeping-map';

const MAX_OVERLAP = 7;

// ---- DBG-1 ------------------------------------------------------------------------------------

const DBG1: InvariantInfo = {
  id: 'DEBUG-LEDGER-MATCHES',
  statement: 'dma-debug holds exactly one entry per live successful single/resource map, mapped sg segment and coherent allocation (dma_pool pages included), as the op stream and the kernel’s best-fit lookup say.',
  clause: 'dma-core.md §6.6 DBG-1; §6.1 bucket_find_exact, §6.4',
  box: 'white',
};

export const DEBUG_LEDGER_MATCHES: InvariantFactory = {
  info: DBG1,
  create(): InvariantChecker {
    const shadow = new LedgerShadow();
    return { info: DBG1, after: (ctx) => {
      const v = ctx.platform.debug?.view;
      if (!v || v.disabled) return []; // frozen from here (DBG-5)
      shadow.observe(ctx);
      return v.live_entries === shadow.count ? [] : [`after ${ctx.op.op}: dma-debug holds ${v.live_entries} entries, the op stream leaves ${shadow.count} live`];
    } };
  },
};

// ---- DBG-2 ------------------------------------------------------------------------------------

const DBG2: InvariantInfo = {
  id: 'DEBUG-ERROR-COUNT-MONOTONE',
  statement: 'error_count never decreases and grows by exactly the counted findings an op reports; an unmap or free whose lookup finds an entry removes exactly one.',
  clause: 'dma-core.md §6.6 DBG-2; §6.1 err_printk',
  box: 'white',
};

const NOT_FOUND = ['DEBUG_FREE_NOT_ALLOCATED', 'DEBUG_FREE_INVALID_ADDRESS'];
const isCode = (c: string): c is DmaDebugCode => Object.prototype.hasOwnProperty.call(DMA_DEBUG_CODES, c);

export const DEBUG_ERROR_COUNT_MONOTONE: InvariantFactory = {
  info: DBG2,
  create(): InvariantChecker {
    let errors = 0;
    let live = 0;
    return { info: DBG2, after: ({ op, result, platform: p }) => {
      const v = p.debug?.view;
      if (!v) return [];
      const out: string[] = [];
      const d = v.error_count - errors;
      const counted = result.warnings.filter((w) => w.source === 'dma-debug' && isCode(w.code) && DMA_DEBUG_CODES[w.code].counted).length;
      if (d < 0) out.push(`${op.op}: error_count went down ${errors} → ${v.error_count}`);
      else if (d !== counted) out.push(`${op.op}: error_count grew by ${d}, but the op reported ${counted} counted finding(s)`);
      const single = op.op === 'dma_unmap_phys' || op.op === 'dma_unmap_page' || op.op === 'dma_unmap_single' || op.op === 'dma_unmap_resource' || op.op === 'dma_free_coherent';
      const skipped = (op.op === 'dma_unmap_page' && ((op.attrs ?? 0) & (1 << 10)) !== 0) || (op.op === 'dma_free_coherent' && op.cpu_addr === 0n);
      if (single && !skipped && !isEngineRefusal(result) && !v.disabled) {
        const want = NOT_FOUND.some((c) => hasWarning(result, c)) ? 0 : -1;
        if (v.live_entries - live !== want) out.push(`${op.op}: live entries changed by ${v.live_entries - live}, expected ${want} (${want ? 'an entry was found' : 'no entry was found'})`);
      }
      errors = v.error_count;
      live = v.live_entries;
      return out;
    } };
  },
};

// ---- DBG-3 ------------------------------------------------------------------------------------

const DBG3: InvariantInfo = {
  id: 'DEBUG-OVERLAP-COUNT',
  statement: 'For every first-cacheline key an op touches, the overlap counter is (live non-TO_DEVICE entries with that key) − 1 and the key exists exactly while such entries live; once an increment was dropped at 7 it may only trail.',
  clause: 'dma-core.md §6.6 DBG-3; §6.3 check 5',
  box: 'white',
};

export const DEBUG_OVERLAP_COUNT: InvariantFactory = {
  info: DBG3,
  create(): InvariantChecker {
    // paddr of the live mappings by (device, dma address), to find an unmap's key.
    const paddrs = new SweepingMap<string, bigint[]>();
    return { info: DBG3, after: ({ op, result, platform: p }) => {
      const v = p.debug?.view;
      if (!v || v.disabled) return [];
      const keys = new Set<bigint>();
      for (const m of mappedBy(op, result)) {
        const k = `${m.dev}:${m.dma}`;
        paddrs.set(k, [...(paddrs.get(k) ?? []), m.phys]);
        if (m.dir !== 'DMA_TO_DEVICE') keys.add(v.cacheline_key(m.phys));
      }
      const cpu = resultBig(result, 'cpu_addr');
      if (op.op === 'dma_alloc_coherent' && cpu !== undefined) keys.add(v.cacheline_key(cpu));
      if (op.op === 'dma_free_coherent') keys.add(v.cacheline_key(op.cpu_addr));
      for (const u of unmappedBy(op)) {
        const k = `${u.dev}:${u.dma}`;
        const ps = paddrs.get(k);
        const pa = u.kind === 'sg' ? u.phys : ps?.[0];
        if (pa !== undefined) keys.add(v.cacheline_key(pa));
        if (ps) (ps.length > 1 ? paddrs.set(k, ps.slice(1)) : paddrs.delete(k));
      }
      const out: string[] = [];
      for (const key of keys) {
        const c = v.cacheline(key);
        if (!c) continue;
        const present = c.overlap >= 0;
        const ok = c.saturated
          ? !present || c.overlap <= Math.min(MAX_OVERLAP, c.live - 1)
          : present === c.live > 0 && (!present || c.overlap === c.live - 1);
        if (!ok) out.push(`cacheline ${hex(key)}: overlap ${present ? c.overlap : 'absent'} with ${c.live} live non-TO_DEVICE entr${c.live === 1 ? 'y' : 'ies'}${c.saturated ? ' (saturated)' : ''}`);
      }
      return out;
    } };
  },
};

// ---- DBG-4 ------------------------------------------------------------------------------------

const DBG4: InvariantInfo = {
  id: 'DEBUG-ENTRY-COUNT',
  statement: 'num_free_entries + live entries = nr_total_entries.',
  clause: 'dma-core.md §6.6 DBG-4',
  box: 'white',
};

export const DEBUG_ENTRY_COUNT: InvariantFactory = {
  info: DBG4,
  create: (): InvariantChecker => ({ info: DBG4, after: ({ op, platform: p }) => {
    const v = p.debug?.view;
    if (!v || v.num_free_entries + v.live_entries === v.nr_total_entries) return [];
    return [`after ${op.op}: num_free_entries ${v.num_free_entries} + live ${v.live_entries} != nr_total_entries ${v.nr_total_entries}`];
  } }),
};

// ---- DBG-5 ------------------------------------------------------------------------------------

const DBG5: InvariantInfo = {
  id: 'DEBUG-DISABLED-FROZEN',
  statement: 'Once dma-debug is disabled it stays disabled, runs no check (no finding) and its ledger and counters no longer change.',
  clause: 'dma-core.md §6.6 DBG-5; §6.1',
  box: 'white',
};

export const DEBUG_DISABLED_FROZEN: InvariantFactory = {
  info: DBG5,
  create(): InvariantChecker {
    let disabled = false;
    let mutations = 0;
    return { info: DBG5, after: ({ op, result, platform: p }) => {
      const v = p.debug?.view;
      if (!v) return [];
      const out: string[] = [];
      if (disabled) {
        if (!v.disabled) out.push(`${op.op}: dma-debug came back after being disabled`);
        if (v.mutations !== mutations) out.push(`${op.op}: the ledger or counters changed while dma-debug is disabled`);
        const f = result.warnings.find((w) => w.source === 'dma-debug');
        if (f) out.push(`${op.op}: finding ${f.code} while dma-debug is disabled`);
      }
      disabled = v.disabled;
      mutations = v.mutations;
      return out;
    } };
  },
};

// ---- NO-LEAK-AT-REMOVE -------------------------------------------------------------------------

const LEAK: InvariantInfo = {
  id: 'NO-LEAK-AT-REMOVE',
  statement: 'With dma-debug on, removing a device (on a bus dma-debug watches: PCI) that still has mappings or coherent allocations reports DEBUG_LEAK_AT_REMOVE.',
  clause: 'DESIGN.md Invariants; dma-core.md §6.3 check 22',
  box: 'black',
};

export const NO_LEAK_AT_REMOVE: InvariantFactory = {
  info: LEAK,
  create(): InvariantChecker {
    const shadow = new PlatformShadow();
    // Live mappings per device (name#generation) and DMA address. Removing on any unmap of the
    // address can only undercount, which makes the check weaker, never wrong.
    const live = new Map<string, SweepingMap<bigint, number>>();
    let off = false;
    const bump = (dev: string, dma: bigint, d: number): void => {
      const key = shadow.key(dev);
      let m = live.get(key);
      if (!m) live.set(key, (m = new SweepingMap()));
      const n = (m.get(dma) ?? 0) + d;
      if (n > 0) m.set(dma, n);
      else m.delete(dma);
    };
    return { info: LEAK, after: ({ op, result }) => {
      if (op.op === 'device_remove') {
        const d = shadow.device(op.name);
        const n = [...(live.get(shadow.key(op.name))?.values() ?? [])].reduce((a, b) => a + b, 0);
        shadow.observe(op, result);
        const watched = shadow.platform.dma_debug && !off && d?.bus === 'pci';
        if (watched && n > 0 && !hasWarning(result, 'DEBUG_LEAK_AT_REMOVE')) return [`device "${op.name}" removed with ${n} live mapping(s)/allocation(s) but no DEBUG_LEAK_AT_REMOVE`];
        return [];
      }
      shadow.observe(op, result);
      if (op.op === 'platform') live.clear();
      if (hasWarning(result, 'DEBUG_DISABLED')) off = true;
      for (const m of mappedBy(op, result)) bump(m.dev, m.dma, 1);
      for (const u of unmappedBy(op)) bump(u.dev, u.dma, -1);
      const dma = resultBig(result, 'dma_addr');
      if (op.op === 'dma_alloc_coherent' && dma !== undefined) bump(op.dev, dma, 1);
      if (op.op === 'dma_free_coherent') bump(op.dev, op.dma_addr, -1);
      return [];
    } };
  },
};

export const DEBUG_INVARIANTS: readonly InvariantFactory[] = [
  DEBUG_LEDGER_MATCHES, DEBUG_ERROR_COUNT_MONOTONE, DEBUG_OVERLAP_COUNT, DEBUG_ENTRY_COUNT, DEBUG_DISABLED_FROZEN, NO_LEAK_AT_REMOVE,
];
