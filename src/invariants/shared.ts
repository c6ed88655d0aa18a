/**
 * One shadow per checker family, not per checker: the family's shadow is kept per Platform and
 * observed once per op, whichever checker of the family asks first; the others get the same
 * answer. Every checker of a family is called after every op (Engine.check), so the shadow sees
 * the same op stream it would see if each checker kept its own copy, and since observing is
 * deterministic the answers are the ones each private copy would give (the equivalence the
 * sharing rests on). The IOMMU checkers share iommu-tracker.ts the same way.
 *
 * An op is known by ctx.index, which the engine numbers afresh for every op it runs on a
 * Platform, so a new index always means a new op.
 */
import type { Platform } from '../platform';
import type { AfterOp } from './invariant';

interface Slot<S, R> {
  readonly shadow: S;
  index: number;
  last: R;
}

/**
 * sharedPerOp - a family's per-op observation, computed once per op and Platform.
 * @make: a fresh shadow for a new Platform (a run)
 * @observe: feeds one op to the shadow and returns what the family's checkers read
 * Returns a function each checker of the family calls from its after().
 */
export function sharedPerOp<S, R>(make: (p: Platform) => S, observe: (shadow: S, ctx: AfterOp) => R): (ctx: AfterOp) => R {
  const slots = new WeakMap<Platform, Slot<S, R>>();
  return (ctx) => {
    let s = slots.get(ctx.platform);
    if (s === undefined) {
      s = { shadow: make(ctx.platform), index: -1, last: undefined as R };
      slots.set(ctx.platform, s);
    }
    if (s.index !== ctx.index) {
      // Set first: a shadow that throws is not fed the same op twice.
      s.index = ctx.index;
      s.last = observe(s.shadow, ctx);
    }
    return s.last;
  };
}

/** The shadow of a family after sharedPerOp observed the current op (for checkers that read its state). */
export function sharedShadow<S, R>(make: (p: Platform) => S, observe: (shadow: S, ctx: AfterOp) => R): (ctx: AfterOp) => { shadow: S; result: R } {
  const per = sharedPerOp((p: Platform) => ({ shadow: make(p), result: undefined as R }), (box, ctx) => {
    box.result = observe(box.shadow, ctx);
    return box;
  });
  return per;
}
