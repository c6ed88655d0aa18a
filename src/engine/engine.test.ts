/** The executor: handles, input errors naming op index and field, kernel failures as results. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Engine } from './engine';
import { parseStep } from '../ops/gherkin';
import { OpParseError } from '../ops/errors';
import { replay } from './replay';
import { parseOpList } from '../ops/json';

const step = (e: Engine, text: string) => e.execute(parseStep(text)!);

function machine(): Engine {
  const e = new Engine();
  step(e, 'a platform with ram [{base 0x0, size 2G}, {base 0x100000000, size 2G}] swiotlb {size 4M}');
  step(e, 'a device "nic" with dma_mask DMA_BIT_MASK(32)');
  return e;
}

test('ops before a platform are refused with the field path', () => {
  const e = new Engine();
  assert.throws(() => e.execute(parseStep('the kernel calls swiotlb_info')!, 'x.json[0]'), /x\.json\[0\]\.op: expected a "platform" op first/);
});

test('handles: $name, offsets and fields resolve; unknown handles name the field', () => {
  const e = machine();
  const m = step(e, '"nic" calls dma_map_phys with phys 0x1000 size 8K dir DMA_TO_DEVICE as buf');
  assert.ok(m.result.ok);
  const s = step(e, '"nic" calls dma_sync_single_for_device with dma_addr $buf+0x1000 size 4K dir DMA_TO_DEVICE');
  assert.equal(s.op.op === 'dma_sync_single_for_device' && s.op.dma_addr, 0x2000n);
  assert.throws(() => e.execute(parseStep('"nic" calls dma_unmap_phys with dma_addr $bfu size 8K dir DMA_TO_DEVICE')!, 'f.json[4]'),
    (err: unknown) => err instanceof OpParseError && /f\.json\[4\]\.dma_addr: expected a handle defined earlier/.test(err.message) && err.message.includes('$bfu'));
  const c = step(e, '"nic" calls dma_alloc_coherent with size 4K as c');
  assert.ok(c.result.ok);
  const w = step(e, 'the CPU calls cpu_write with phys $c.cpu_addr data 01');
  assert.equal(w.op.op === 'cpu_write' && w.op.phys, c.result.ok ? c.result.values.cpu_addr : -1n);
});

test('sg handles: $s is segment 0, $s[i] and $s[i].dma_length reach the others', () => {
  const e = machine();
  const m = step(e, '"nic" calls dma_map_sg with sg [{phys 0x1000, length 4K}, {phys 0x1_0000_0000, length 512}] dir DMA_TO_DEVICE as s');
  assert.ok(m.result.ok);
  const r1 = step(e, '"nic" calls dma_sync_single_for_device with dma_addr $s size 4K dir DMA_TO_DEVICE');
  assert.equal(r1.op.op === 'dma_sync_single_for_device' && r1.op.dma_addr, 0x1000n);
  const r2 = step(e, '"nic" calls dma_sync_single_for_device with dma_addr $s[1] size 512 dir DMA_TO_DEVICE');
  assert.ok(r2.op.op === 'dma_sync_single_for_device' && e.platform!.swiotlb!.is_swiotlb_buffer(r2.op.dma_addr), 'segment 1 bounced');
  assert.throws(() => e.execute(parseStep('"nic" calls dma_sync_single_for_device with dma_addr $s[2] size 4K dir DMA_TO_DEVICE')!, 'g[9]'), /g\[9\]\.dma_addr: expected a segment index below 2/);
});

test('kernel failures are results: DMA_MAPPING_ERROR, BUG, UNDEFINED', () => {
  const e = machine();
  const noSwiotlbRoom = step(e, '"nic" calls dma_map_phys with phys 0x1_0000_0000 size 300K dir DMA_TO_DEVICE');
  assert.deepEqual(noSwiotlbRoom.result.ok ? 'ok' : noSwiotlbRoom.result.error, 'DMA_MAPPING_ERROR');
  assert.ok(noSwiotlbRoom.result.warnings.some((w) => w.code === 'WARN_SWIOTLB_FULL'));
  const bug = step(e, '"nic" calls dma_map_phys with phys 0x1000 size 4K dir DMA_NONE');
  assert.equal(bug.result.ok ? 'ok' : bug.result.error, 'BUG');
  assert.equal(bug.result.warnings[0].code, 'BUG_INVALID_DIRECTION');
  const zero = step(e, '"nic" calls dma_map_phys with phys 0x1000 size 0 dir DMA_TO_DEVICE');
  assert.equal(zero.result.ok ? 'ok' : zero.result.error, 'UNDEFINED');
  assert.equal(zero.result.warnings[0].code, 'UNDEFINED_SIZE_ZERO');
  const wrap = step(e, '"nic" calls dma_map_phys with phys 0xffff_ffff_ffff_f000 size 8K dir DMA_TO_DEVICE');
  assert.equal(wrap.result.warnings[0].code, 'UNDEFINED_ADDRESS_WRAP');
});

test('bad configuration names the field; an unknown device names the op', () => {
  const e = new Engine();
  assert.throws(() => step(e, 'a platform with page_size 8K'), /page_size: must be 4K, 16K or 64K/);
  step(e, 'a platform');
  assert.throws(() => step(e, 'a device "dma0" with coherent false'), /coherent: x86 has no non-coherent DMA/);
  assert.throws(() => e.execute(parseStep('"ghost" calls dma_get_mask')!, 'f.json[2]'), /f\.json\[2\]\.dev: no device "ghost"/);
});

test('replay stops at the first input error and keeps what ran', () => {
  const ops = parseOpList(JSON.stringify([
    { op: 'platform' }, { op: 'device_add', name: 'd' },
    { op: 'dma_unmap_phys', dev: 'd', dma_addr: '$nope', size: 4096, dir: 'DMA_TO_DEVICE' },
    { op: 'swiotlb_info' },
  ]), 'r.json');
  const r = replay(ops, 'r.json');
  assert.equal(r.outcomes.length, 2);
  assert.match(r.inputError!.message, /r\.json\[2\]\.dma_addr/);
});

test('the same sequence gives the same results (determinism)', () => {
  const run = () => {
    const e = machine();
    const out: unknown[] = [];
    for (let i = 0; i < 20; i++) {
      const r = step(e, `"nic" calls dma_map_phys with phys ${0x1_0000_0000 + i * 0x3000} size ${1000 + i * 100} dir DMA_FROM_DEVICE`);
      out.push(r.result.ok ? r.result.values.dma_addr : r.result.error);
    }
    return out;
  };
  assert.deepEqual(run(), run());
});

test('a negative handle offset: $buf-0x100 is $buf minus 0x100', () => {
  const e = machine();
  step(e, '"nic" calls dma_map_phys with phys 0x2000 size 4K dir DMA_TO_DEVICE as buf');
  const r = step(e, '"nic" calls dma_sync_single_for_device with dma_addr $buf-0x100 size 256 dir DMA_TO_DEVICE');
  assert.equal(r.op.op === 'dma_sync_single_for_device' && r.op.dma_addr, 0x1f00n);
});

test('repeat runs its ops round by round, redefining handles, and stops at the first failure', () => {
  const e = machine();
  const r = step(e, 'the kernel calls repeat with times 3 ops [{op dma_map_phys, dev nic, phys 0x1_0000_0000, size 4K, dir DMA_TO_DEVICE, as b}, {op dma_unmap_phys, dev nic, dma_addr $b, size 4K, dir DMA_TO_DEVICE}]');
  assert.ok(r.result.ok && r.result.values.runs === 3);
  assert.deepEqual(r.result.warnings.map((w) => w.code), Array(3).fill('DEBUG_MAP_ERROR_NOT_CHECKED'));
  assert.equal(e.platform!.swiotlb!.stats.total_used, 0, 'every round unmapped its own bounce');
  // 4 MiB of swiotlb: 256 KiB bounces that are never unmapped run out on round 17.
  const f = step(e, 'the kernel calls repeat with times 100 ops [{op dma_map_phys, dev nic, phys 0x1_0000_0000, size 256K, dir DMA_TO_DEVICE}]');
  assert.equal(f.result.ok ? 'ok' : f.result.error, 'DMA_MAPPING_ERROR');
  assert.ok(f.result.warnings.some((w) => w.code === 'WARN_SWIOTLB_FULL'));
  assert.throws(() => parseStep('the kernel calls repeat with times 2 ops [{op platform}]'), /ops\[0\]\.op: expected an op other than platform/);
  assert.throws(() => parseStep('the kernel calls repeat with times 2 ops [{op dma_map_phys, dev nic}]'), /ops\[0\]/);
});

test('IOVA caller-precondition violations are UNDEFINED results, not model crashes; the domain stays usable', () => {
  const e = new Engine();
  step(e, 'a platform');
  step(e, 'the kernel calls init_iova_domain with name iovad granule 4K start_pfn 1');
  const undef = (text: string, code: string): void => {
    const r = step(e, text).result;
    assert.equal(r.ok ? 'ok' : r.error, 'UNDEFINED', text);
    assert.equal(r.warnings[0]?.code, code, text);
  };
  undef('the kernel calls alloc_iova with domain iovad size 0 limit_pfn 0xFFFFF', 'UNDEFINED_SIZE_ZERO');
  undef('the kernel calls alloc_iova_fast with domain iovad size 0 limit_pfn 0xFFFFF', 'UNDEFINED_SIZE_ZERO');
  undef('the kernel calls free_iova with domain iovad pfn 0xFFFF_FFFF_FFFF_FFFF', 'UNDEFINED_IOVA_FREE_ANCHOR');
  undef('the kernel calls free_iova_fast with domain iovad pfn 0xFFFF_FFFF_FFFF_FFFF size 1', 'UNDEFINED_IOVA_FREE_ANCHOR');
  undef('the kernel calls free_iova_fast with domain iovad pfn 0xFFFF_FFFF_FFFF_FFFD size 1 repeat 3', 'UNDEFINED_IOVA_FREE_ANCHOR');
  undef('the kernel calls reserve_iova with domain iovad pfn_lo 5 pfn_hi 3', 'UNDEFINED_IOVA_RESERVE_INVERTED');
  // Past ULLONG_MAX >> shift the kernel's WARN_ON refuses first: defined, and modelled.
  const warned = step(e, 'the kernel calls reserve_iova with domain iovad pfn_lo 0xFFFF_FFFF_FFFF_FFFF pfn_hi 3').result;
  assert.equal(warned.ok ? 'ok' : warned.error, 'NULL');
  assert.equal(warned.warnings[0]?.code, 'IOVA-RESERVE-NONSENSE');
  // find_iova of the anchor pfn is defined: it finds the anchor node.
  const anchor = step(e, 'the kernel calls find_iova with domain iovad pfn 0xFFFF_FFFF_FFFF_FFFF').result;
  assert.ok(anchor.ok && anchor.values.pfn_lo === 0xffff_ffff_ffff_ffffn);
  const after = step(e, 'the kernel calls alloc_iova with domain iovad size 1 limit_pfn 0xFFFFF').result;
  assert.ok(after.ok && after.values.pfn_lo === 0xfffffn);
});
