/** Op language round trips: In / canonical Out / StrictErr tables, and print∘parse = id on generated ops. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseStep, printStep } from './gherkin';
import { parseOp, parseOpList, printOp } from './json';
import { parseU64Text, formatSize } from './numbers';
import { OpParseError } from './errors';

test('numbers: decimal, hex with separators, suffixes, DMA_BIT_MASK', () => {
  const table: [string, bigint | undefined][] = [
    ['4096', 4096n], ['0x1000', 4096n], ['0x1_2345_6000', 0x1_2345_6000n], ['4K', 4096n], ['2M', 2n << 20n],
    ['1G', 1n << 30n], ['64KiB', 65536n], ['3 MiB', 3n << 20n], ['DMA_BIT_MASK(32)', 0xffff_ffffn],
    ['DMA_BIT_MASK(64)', (1n << 64n) - 1n], ['DMA_BIT_MASK(65)', undefined], ['0x', undefined], ['12Q', undefined],
    ['0x1_0000_0000_0000_0000', undefined], ['-1', undefined],
  ];
  for (const [text, want] of table) assert.equal(parseU64Text(text), want, text);
  assert.equal(formatSize(8192n), '8K');
  assert.equal(formatSize(5000n), '5000');
});

test('steps: In / canonical Out / StrictErr', () => {
  const rows: { in: string; out?: string; err?: RegExp }[] = [
    { in: '"nic" calls dma_map_phys with phys 0x1_2345_6000 size 8K dir DMA_TO_DEVICE as buf',
      out: '"nic" calls dma_map_phys with phys 0x123456000 size 8K dir DMA_TO_DEVICE as buf' },
    { in: '"nic" calls dma_unmap_phys with dma_addr $buf+0x200 size 4096 dir DMA_FROM_DEVICE attrs [DMA_ATTR_SKIP_CPU_SYNC]',
      out: '"nic" calls dma_unmap_phys with dma_addr $buf+0x200 size 4K dir DMA_FROM_DEVICE attrs [DMA_ATTR_SKIP_CPU_SYNC]' },
    { in: 'a platform with ram [{base 0, size 4G}, {base 0x1_0000_0000, size 2G}] swiotlb {size 64M, force true}',
      out: 'a platform with ram [{base 0x0, size 4G}, {base 0x100000000, size 2G}] swiotlb {size 64M, force true}' },
    { in: 'a device "dev0" with dma_mask DMA_BIT_MASK(32) coherent false', out: 'a device "dev0" with dma_mask 0xffffffff coherent false' },
    { in: 'a device "old" with dma_mask none', out: 'a device "old" with dma_mask none' },
    { in: 'the CPU calls cpu_write with phys 0x1000 data DEAD_BEEF', out: 'the CPU calls cpu_write with phys 0x1000 data deadbeef' },
    { in: 'the CPU calls cpu_write with phys 0x1000 data {len 4K, seed 7}', out: 'the CPU calls cpu_write with phys 0x1000 data {len 4096, seed 7}' },
    { in: '"nic" calls dma_map_sg with sg [{phys 0x1000, length 4K}, {phys 0x9000, length 512}] dir DMA_BIDIRECTIONAL as s',
      out: '"nic" calls dma_map_sg with sg [{phys 0x1000, length 4K}, {phys 0x9000, length 512}] dir DMA_BIDIRECTIONAL as s' },
    { in: 'device "nic" is removed', out: 'device "nic" is removed' },
    { in: '"nic" calls dma_map_phys with phys 0x1000 size 8K dir DMA_TO_DEV', err: /dir: expected a DMA direction/ },
    { in: '"nic" calls dma_map_phys with phys 0x1000 size 8K', err: /dir: expected .* \(required\)/ },
    { in: '"nic" calls dma_map_phys with phys 0x1000 sise 8K dir DMA_TO_DEVICE', err: /\.sise: expected one of the fields/ },
    { in: '"nic" calls dma_mapp_phys with phys 0x1000', err: /op: expected a known op name, got "dma_mapp_phys"/ },
    { in: '"nic" calls dma_map_sg with sg [{phys 0x1000 length 4K}] dir DMA_TO_DEVICE', err: /at column \d+: expected "," or "}"/ },
    { in: 'the kernel calls swiotlb_info with extra 1', err: /\.extra: expected one of the fields/ },
  ];
  for (const row of rows) {
    if (row.err) {
      assert.throws(() => parseStep(row.in), (e: unknown) => e instanceof OpParseError && row.err!.test(e.message) && e.message.includes(row.in), row.in);
      continue;
    }
    const op = parseStep(row.in);
    assert.ok(op, row.in);
    assert.equal(printStep(op), row.out, row.in);
    assert.deepEqual(parseStep(printStep(op)), op, `reparse of ${row.in}`);
  }
});

test('JSON: errors name the file, op index and field path', () => {
  assert.throws(() => parseOpList('[{"op":"platform"},{"op":"dma_map_phys","dev":"d","phys":"0x1000","size":"4K","dir":"UP"}]', 'c.json'),
    /c\.json\[1\]\.dir: expected a DMA direction/);
  assert.throws(() => parseOpList('{', 'c.json'), /c\.json: expected valid JSON/);
  assert.throws(() => parseOpList('[{"op":"device_add","name":"d","dma_range_map":[{"cpu_start":0,"dma_start":0}]}]', 'c.json'),
    /c\.json\[0\]\.dma_range_map\[0\]\.size: expected .*required/);
});

/** A small generator of valid map/unmap ops: print then parse is the identity (STYLE.md testing habits). */
const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
const dirs = fc.constantFrom('DMA_BIDIRECTIONAL', 'DMA_TO_DEVICE', 'DMA_FROM_DEVICE', 'DMA_NONE');
const genOp = fc.oneof(
  fc.record({ op: fc.constant('dma_map_phys'), dev: fc.constantFrom('nic', 'gpu0'), phys: u64, size: u64, dir: dirs, attrs: fc.integer({ min: 0, max: 0x3ff6 }).map((n) => n & ~9) }),
  fc.record({ op: fc.constant('dma_unmap_phys'), dev: fc.constant('nic'), dma_addr: fc.oneof(u64, fc.constantFrom('$buf', '$buf+0x200')), size: u64, dir: dirs }),
  fc.record({ op: fc.constant('cpu_write'), phys: u64, data: fc.uint8Array({ minLength: 1, maxLength: 8 }).map((b) => Buffer.from(b).toString('hex')) }),
);

test('print then parse is the identity, in JSON and in Gherkin', () => {
  fc.assert(fc.property(genOp, (raw) => {
    const json = JSON.parse(JSON.stringify(raw, (_k, v) => (typeof v === 'bigint' ? '0x' + v.toString(16) : v)));
    const op = parseOp(json);
    assert.deepEqual(parseOp(printOp(op)), op);
    assert.deepEqual(parseStep(printStep(op)), op);
    assert.equal(printStep(parseStep(printStep(op))!), printStep(op));
  }), { numRuns: 300 });
});
