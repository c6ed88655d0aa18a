import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Timers } from './timers';

test('work runs in due order, ties in scheduling order, and work may reschedule itself', () => {
  const t = new Timers();
  const log: string[] = [];
  t.schedule(10, () => log.push('fq@10'));
  t.schedule(100, () => log.push('depot@100'));
  t.schedule(10, () => log.push('second@10'));
  const trim = (): void => {
    log.push(`trim@${t.now_ms}`);
    if (t.now_ms < 250) t.schedule(100, trim);
  };
  t.schedule(50, trim);
  assert.equal(t.advance(9), 0);
  assert.deepEqual(log, []);
  t.advance(300);
  assert.deepEqual(log, ['fq@10', 'second@10', 'trim@50', 'depot@100', 'trim@150', 'trim@250']);
  assert.equal(t.now_ms, 309);
  assert.equal(t.pending, 0);
});
