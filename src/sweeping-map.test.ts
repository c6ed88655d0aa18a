import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { SweepingMap } from './sweeping-map';

test('behaves like a Map under random set/delete/get', () => {
  fc.assert(fc.property(fc.array(fc.tuple(fc.constantFrom('set', 'delete', 'get'), fc.integer({ min: 0, max: 300 }), fc.integer())), (ops) => {
    const a = new SweepingMap<number, number>();
    const b = new Map<number, number>();
    for (const [op, k, v] of ops) {
      if (op === 'set') { a.set(k, v); b.set(k, v); }
      else if (op === 'delete') assert.equal(a.delete(k), b.delete(k));
      else assert.equal(a.get(k), b.get(k));
      assert.equal(a.size, b.size);
      assert.equal(a.has(k), b.has(k));
    }
    assert.deepEqual([...a].sort((x, y) => x[0] - y[0]), [...b].sort((x, y) => x[0] - y[0]));
  }), { seed: 7, numRuns: 300 });
});
