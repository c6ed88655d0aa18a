import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ByteShadow } from './bytes';

// Differential: ByteShadow's page-wise shortcuts (fresh, whole and wholly known pages) against a
// byte-by-byte reference. Same ops, same expected bytes and tags, and empty exactly when nothing is known.
test('property: ByteShadow matches a byte-by-byte reference across pages', () => {
  const D = 0x3000;
  const BASE = 0x7000n;
  const range = fc.tuple(fc.nat(D - 1), fc.integer({ min: 1, max: 0x2000 })).map(([o, n]) => [o, Math.min(n, D - o)] as const);
  const op = fc.tuple(fc.constantFrom('set', 'fill', 'overlay', 'forget', 'retag', 'get'), range, fc.integer({ min: 1, max: 3 }), fc.nat(255));
  fc.assert(
    fc.property(fc.array(op, { maxLength: 30 }), (ops) => {
      const real = new ByteShadow();
      const ref = new Map<number, [number, number]>();
      for (const [what, [o, n], tag, v] of ops) {
        const a = BASE + BigInt(o);
        const data = Uint8Array.from({ length: n }, (_, i) => (v + i * 3) & 0xff);
        if (what === 'set') {
          real.set(a, data, tag);
          data.forEach((x, i) => ref.set(o + i, [x, tag]));
        } else if (what === 'fill') {
          real.fill(a, n, v, tag);
          for (let i = 0; i < n; i++) ref.set(o + i, [v, tag]);
        } else if (what === 'overlay') {
          // every other byte known
          const t = Uint8Array.from({ length: n }, (_, i) => (i % 2 === 0 ? tag : 0));
          real.overlay(a, { val: data, tag: t });
          data.forEach((x, i) => t[i] && ref.set(o + i, [x, tag]));
        } else if (what === 'forget') {
          real.forget(a, BigInt(n));
          for (let i = 0; i < n; i++) ref.delete(o + i);
        } else if (what === 'retag') {
          real.retag(a, n, tag);
          for (let i = 0; i < n; i++) {
            const e = ref.get(o + i);
            if (e) e[1] = tag;
          }
        }
        const got = real.get(BASE, D);
        for (let i = 0; i < D; i++) {
          const e = ref.get(i);
          assert.deepEqual([got.tag[i], e ? got.val[i] : 0], e ? [e[1], e[0]] : [0, 0], `byte ${i} after ${what}(${o}, ${n})`);
        }
        assert.equal(real.empty, ref.size === 0, `empty after ${what}(${o}, ${n})`);
      }
      // Forgetting everything in two pieces that split a page must leave nothing: the per-page counts were exact.
      real.forget(BASE, 0x1801n);
      real.forget(BASE + 0x1801n, BigInt(D - 0x1801));
      assert.equal(real.empty, true, 'empty after forgetting everything');
    }),
    { numRuns: 150 },
  );
});
