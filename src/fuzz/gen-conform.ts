/**
 * Generation restricted to a set of ops, for conformance runs against an
 * implementation that supports only some of them (its hello's `ops`). A
 * family is generated only if its ops are allowed: the stand-alone IOVA
 * allocator action by action (gen-iova.ts lists what each emits), the DMA
 * driver mix when a platform can be built from allowed set-up ops. A DMA
 * action that emits an op outside the set is taken back (the tracker is
 * rebuilt from what stays) and, after a few such tries, dropped.
 */
import type { OpName } from '../ops/table';
import type { Op } from '../ops/types';
import { emit, type Action, type Gen } from './gen-core';
import { IOVA_ACTIONS, IOVA_MISUSE, runFamily, type FamilyAction } from './gen-iova';
import { LEGAL_ACTIONS } from './gen-mix';
import { MISUSE_ACTIONS } from './gen-misuse';
import { trackOps } from './gen-state';
import { namedPlatform, PLATFORM_NAMES, randomPlatform } from './platforms';
import { weighted } from './rng';
import type { Rng } from './types';

export interface ConformOptions {
  /** Ops after the set-up ops (default 40). Fewer come back only if nothing allowed applies any more. */
  readonly length?: number;
  /** Share of actions (0..1) that break the contract on purpose (default 0). */
  readonly misuse?: number;
}

/** The ops of a repeat count as themselves. */
function opsOf(op: Op): OpName[] {
  return op.op === 'repeat' ? ['repeat', ...(op.ops as readonly Op[]).flatMap(opsOf)] : [op.op];
}

const allAllowed = (ops: readonly Op[], allowed: ReadonlySet<OpName>): boolean => ops.every((o) => opsOf(o).every((n) => allowed.has(n)));

/** The IOVA actions whose ops are all allowed; none unless a domain can be made and something allocated. */
function iovaTable(table: readonly FamilyAction[], allowed: ReadonlySet<OpName>): FamilyAction[] {
  if (!allowed.has('init_iova_domain') || !(allowed.has('alloc_iova') || allowed.has('alloc_iova_fast'))) return [];
  return table.filter((a) => a.ops.every((o) => allowed.has(o)));
}

/** A DMA platform built only from allowed set-up ops (named ones first, then random ones), or undefined. */
function dmaPlatform(rng: Rng, allowed: ReadonlySet<OpName>): Op[] | undefined {
  if (!allowed.has('device_add')) return undefined;
  const cands = [...PLATFORM_NAMES.map((n) => namedPlatform(n)), ...Array.from({ length: 4 }, () => randomPlatform(rng))];
  const ok = cands.filter((p) => allAllowed(p, allowed));
  return ok.length > 0 ? rng.pick(ok) : undefined;
}

/** A DMA action that is taken back when it emits an op outside the set, and dropped after three such tries. */
interface Guarded { readonly w: number; readonly run: Action; rejected: number }

/**
 * generateConformanceInput - a platform op (and the set-up ops it needs, all allowed)
 * followed by about @opts.length ops drawn only from @allowedOps, handle-consistent
 * (every `$h` names an earlier op's `as`), deterministic in @rng's state. `platform`
 * is always allowed. An allocator-only set gets `platform` with 1-4 CPUs.
 * Throws an Error naming the ops when no family can be generated from them.
 */
export function generateConformanceInput(rng: Rng, allowedOps: ReadonlySet<OpName>, opts: ConformOptions = {}): Op[] {
  const allowed = new Set<OpName>([...allowedOps, 'platform']);
  const length = opts.length ?? 40;
  const misuse = opts.misuse ?? 0;
  const iova = iovaTable(IOVA_ACTIONS, allowed);
  const iovaBad = iovaTable(IOVA_MISUSE, allowed);
  const iovaInits = iova.filter((a) => a.ops.includes('init_iova_domain'));
  const dmaPlat = dmaPlatform(rng, allowed);
  if (iova.length === 0 && !dmaPlat) {
    throw new Error(
      `generateConformanceInput: nothing can be generated from ops [${[...allowedOps].sort().join(', ')}]: `
      + 'a stand-alone IOVA domain needs init_iova_domain and alloc_iova or alloc_iova_fast; the DMA mix needs device_add '
      + 'and a platform built from allowed set-up ops (iommu_add for IOMMU platforms)',
    );
  }
  const setup: Op[] = dmaPlat ?? [{ op: 'platform', ncpus: 1 + rng.int(4), ...(rng.chance(0.3) ? { page_size: rng.pick([0x4000n, 0x1_0000n]) } : {}) } as Op];
  const g: Gen = { rng, st: trackOps(setup), out: [], allowed };
  const legal: Guarded[] = dmaPlat ? LEGAL_ACTIONS.map(([w, run]) => ({ w, run, rejected: 0 })) : [];
  const bad: Guarded[] = dmaPlat ? MISUSE_ACTIONS.map(([w, run]) => ({ w, run, rejected: 0 })) : [];
  // A DMA platform with allocator ops too: the stand-alone family takes a small share, as in the fuzzer's mix.
  const iovaShare = dmaPlat ? 0.1 : 1;

  const guarded = (table: Guarded[]): boolean => {
    const live = table.filter((a) => a.rejected < 3);
    if (live.length === 0) return false;
    const a = live[weighted(rng, live.map((x) => x.w))]!;
    const mark = g.out.length;
    if (!a.run(g)) return false;
    if (allAllowed(g.out.slice(mark), allowed)) return true;
    a.rejected++;
    g.out.length = mark;
    g.st = trackOps([...setup, ...g.out]);
    return false;
  };

  let idle = 0;
  while (g.out.length < length && idle < 50) {
    const bad_ = misuse > 0 && rng.chance(misuse);
    const useIova = iova.length > 0 && (legal.length === 0 || rng.chance(iovaShare));
    let done = false;
    for (let tries = 0; tries < 6 && !done; tries++) {
      if (useIova) done = runFamily(g, g.st.iova.doms.size === 0 ? iovaInits : bad_ && iovaBad.length > 0 ? iovaBad : iova, 1);
      else done = guarded(bad_ && bad.length > 0 ? bad : legal);
    }
    idle = done ? 0 : idle + 1;
    if (!done && allowed.has('advance_time') && g.out.length > 0) emit(g, { op: 'advance_time', ms: 1 + rng.int(20) } as Op);
  }
  return [...setup, ...g.out.slice(0, length)];
}
