/** The corpus on disk: content-hash names, atomic writes, corrupt files skipped with a warning, minimality. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseStep } from '../ops/gherkin';
import { printOp } from '../ops/json';
import type { Op } from '../ops/types';
import { Corpus, corpusName, cullCorpus, formatOpList, loadCorpus, saveCorpusEntry, writeFileAtomic } from './corpus';
import type { FuzzInput } from './types';

const steps = (texts: readonly string[]): Op[] =>
  texts.map((t) => {
    const op = parseStep(t);
    if (!op) throw new Error(`not a step: ${t}`);
    return op;
  });
const printed = (ops: FuzzInput): string => JSON.stringify(ops.map(printOp));

const A = steps(['a platform with swiotlb {size 1M}', 'a device "nic"', '"nic" calls dma_map_phys with phys 0x1000 size 4K dir DMA_TO_DEVICE as b',
  '"nic" calls dma_unmap_phys with dma_addr $b size 4K dir DMA_TO_DEVICE']);
const B = steps(['a platform', 'a device "nic"', '"nic" calls dma_max_mapping_size']);

function withDir(f: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'dmaspec-corpus-'));
  try {
    f(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('an entry is saved under the sha256 of its printed op list, one op per line, and loads back', () => {
  withDir((dir) => {
    const file = saveCorpusEntry(dir, A);
    const hash = createHash('sha256').update(printed(A)).digest('hex');
    assert.equal(file, join(dir, `${hash}.json`));
    assert.equal(corpusName(A), `${hash}.json`);
    const text = readFileSync(file, 'utf8');
    assert.equal(text, formatOpList(A));
    assert.equal(text.split('\n').length, A.length + 3, '[, one line per op, ], and the final newline');
    assert.equal(saveCorpusEntry(dir, A), file, 'the same input again: the same file');
    assert.deepEqual(readdirSync(dir), [`${hash}.json`], 'no temp files left behind');
    const loaded = loadCorpus(dir);
    assert.deepEqual(loaded.warnings, []);
    assert.deepEqual(loaded.files, [file]);
    assert.equal(printed(loaded.inputs[0]), printed(A));
  });
});

test('corrupt corpus files are skipped with a warning each; loading never throws', () => {
  withDir((dir) => {
    saveCorpusEntry(dir, B);
    writeFileSync(join(dir, 'a-not-json.json'), '[{"op": "platform"},');
    writeFileSync(join(dir, 'b-bad-arg.json'), JSON.stringify([{ op: 'platform' }, { op: 'dma_map_phys', dev: 'nic', phys: 1, size: 1, dir: 'SIDEWAYS' }]));
    writeFileSync(join(dir, 'c-no-platform.json'), JSON.stringify([{ op: 'device_add', name: 'nic' }]));
    writeFileSync(join(dir, 'd-empty.json'), '[]');
    writeFileSync(join(dir, 'e-object.json'), '{"op": "platform"}');
    mkdirSync(join(dir, 'f-dir.json'));
    writeFileSync(join(dir, '.g.json.123.tmp'), 'half a file'); // a writer's temp file: not a corpus entry
    writeFileSync(join(dir, 'notes.txt'), 'not an entry');
    const loaded = loadCorpus(dir);
    assert.equal(loaded.inputs.length, 1);
    assert.equal(printed(loaded.inputs[0]), printed(B));
    assert.equal(loaded.warnings.length, 6, loaded.warnings.join('\n'));
    const w = loaded.warnings.join('\n');
    assert.match(w, /skipped corrupt corpus file .*a-not-json\.json: expected valid JSON/);
    assert.match(w, /b-bad-arg\.json\[1\]\.dir: expected a DMA direction/);
    assert.match(w, /c-no-platform\.json: expected a list of ops whose first is "platform"/);
    assert.match(w, /d-empty\.json: expected a list of ops whose first is "platform"/);
    assert.match(w, /e-object\.json: expected a JSON list of ops/);
    assert.match(w, /f-dir\.json: EISDIR/);
  });
});

test('a missing corpus directory is an empty corpus', () => {
  const loaded = loadCorpus(join(tmpdir(), 'dmaspec-no-such-corpus-dir'));
  assert.deepEqual(loaded, { inputs: [], files: [], warnings: [] });
});

test('the corpus stays minimal: an input is kept and saved only if it adds a feature', () => {
  withDir((dir) => {
    const c = new Corpus(join(dir, 'corpus'));
    assert.equal(c.offer(A, ['platform:ok', 'dma_map_phys:ok:direct']), true);
    assert.equal(c.offer(B, ['platform:ok']), false, 'nothing new');
    assert.equal(c.offer(B, ['platform:ok', 'dma_max_mapping_size:ok']), true);
    assert.equal(c.inputs.length, 2);
    assert.equal(c.features.size, 3);
    assert.deepEqual(readdirSync(join(dir, 'corpus')).sort(), [corpusName(A), corpusName(B)].sort());
    assert.equal(new Corpus().offer(A, ['x']), true, 'without a directory it keeps inputs in memory only');
  });
});

test('writeFileAtomic replaces whole files and leaves no temp file, even when the rename fails', () => {
  withDir((dir) => {
    const f = join(dir, 'x.json');
    writeFileAtomic(f, 'one');
    writeFileAtomic(f, 'two');
    assert.equal(readFileSync(f, 'utf8'), 'two');
    mkdirSync(join(dir, 'taken'));
    writeFileSync(join(dir, 'taken', 'occupant'), '');
    assert.throws(() => writeFileAtomic(join(dir, 'taken'), 'three'));
    assert.deepEqual(readdirSync(dir).sort(), ['taken', 'x.json']);
  });
});

test('cullCorpus keeps, per feature, the smallest entry reaching it, and still covers every feature', () => {
  const op = (n: number): Op[] => steps(Array.from({ length: n }, () => 'the kernel calls advance_time with ms 1'));
  const big = { input: op(5), features: ['a', 'b'] };
  const small = { input: op(2), features: ['a'] };
  const only = { input: op(3), features: ['b', 'c'] };
  const redundant = { input: op(4), features: ['c'] };
  const kept = cullCorpus([big, small, only, redundant]);
  assert.deepEqual([...kept].sort((x, y) => x.input.length - y.input.length), [small, only]);
  const covered = new Set([...kept].flatMap((e) => e.features));
  assert.deepEqual([...covered].sort(), ['a', 'b', 'c']);
  // Ties go to the earlier entry, so the result does not depend on Map iteration quirks.
  const twin = { input: op(2), features: ['a'] };
  assert.ok(cullCorpus([small, twin]).has(small));
  assert.ok(!cullCorpus([small, twin]).has(twin));
});
