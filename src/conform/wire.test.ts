import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HandleTable } from '../engine/handles';
import { parseOp } from '../ops/json';
import { compareResults, errorFamily } from './compare';
import { ImplFault, type Hello } from './implementation';
import { decodeResult, encodeOp, handleValues, parseHello, valueEqual } from './wire';

const resolved = (o: object) => new HandleTable().resolve(parseOp(o), 'op');
const HELLO: Hello = { protocol: 1, implementation: 't', ops: ['platform', 'alloc_iova', 'iova_info'] };

describe('wire encoding', () => {
  it('sends addresses and sizes as 0x strings, counts as integers, booleans as booleans, and no `as`', () => {
    assert.deepEqual(encodeOp(resolved({ op: 'alloc_iova', domain: 'd', size: 3, limit_pfn: '1M', size_aligned: 'false', as: 'a' })), { op: 'alloc_iova', domain: 'd', size: '0x3', limit_pfn: '0x100000', size_aligned: false });
    assert.deepEqual(encodeOp(resolved({ op: 'platform', ncpus: '2', ram: [{ base: 0, size: '4G' }], swiotlb: { size: '64M' } })), { op: 'platform', ram: [{ base: '0x0', size: '0x100000000' }], ncpus: 2, swiotlb: { size: '0x4000000' } });
    assert.deepEqual(encodeOp(resolved({ op: 'dma_map_phys', dev: 'n', phys: '0x1000', size: '8K', dir: 'DMA_TO_DEVICE', attrs: ['DMA_ATTR_SKIP_CPU_SYNC'], cpu: 1 })),
      { op: 'dma_map_phys', dev: 'n', phys: '0x1000', size: '0x2000', dir: 'DMA_TO_DEVICE', attrs: ['DMA_ATTR_SKIP_CPU_SYNC'], cpu: 1 });
  });

  it('decodes results leniently and refuses garbage with what was wrong', () => {
    assert.deepEqual(decodeResult({ ok: true, pfn_lo: 5 }), { ok: true, values: { pfn_lo: 5 }, warnings: [] });
    assert.deepEqual(decodeResult({ ok: false, error: 'NULL' }), { ok: false, error: 'NULL', fault: false, warnings: [] });
    for (const [bad, why] of [[[1], /result object/], [{ ok: 'yes' }, /"ok" must be true or false/], [{ ok: false }, /"error": STRING/], [{ ok: true, warnings: [{}] }, /warnings\[0\]/]] as const) {
      assert.throws(() => decodeResult(bad), (e: unknown) => e instanceof ImplFault && e.kind === 'garbage' && why.test(e.message));
    }
  });

  it('compares numbers by value whatever their spelling; text fields exactly', () => {
    assert.ok(valueEqual('pfn_lo', '0xffffc', 1048572));
    assert.ok(valueEqual('pfn_lo', '0xffffc', '1048572'));
    assert.ok(!valueEqual('pfn_lo', '0xffffc', '0xffffd'));
    assert.ok(valueEqual('nodes', 2, '0x2'));
    assert.ok(valueEqual('value', true, 'true'));
    assert.ok(!valueEqual('data', '0012', '12'));
    assert.ok(!valueEqual('pfn_lo', '0x1', undefined));
  });

  it('gives a HandleTable numbers from any spelling', () => {
    const t = new HandleTable();
    t.define('a', 'alloc_iova', handleValues(decodeResult({ ok: true, pfn_lo: 1048572, pfn_hi: '0xfffff' })));
    assert.equal(t.address({ handle: 'a', offset: 1n }, 'x'), 0xffffdn);
  });
});

describe('hello', () => {
  const hello = (h: object) => parseHello({ hello: { protocol: 1, implementation: 'x', ops: ['platform', 'alloc_iova'], ...h } });
  it('takes ops, fields and warnings; lists names that are no ops', () => {
    const p = hello({ ops: ['platform', 'alloc_iova', 'frobnicate'], fields: { alloc_iova: ['pfn_lo'] }, warnings: true });
    assert.deepEqual(p.hello, { protocol: 1, implementation: 'x', ops: ['platform', 'alloc_iova'], fields: { alloc_iova: ['pfn_lo'] }, warnings: true });
    assert.deepEqual(p.unknownOps, ['frobnicate']);
  });
  it('refuses what makes it unusable, naming the field', () => {
    for (const [h, why] of [[{ protocol: 2 }, /hello.protocol: expected 1/], [{ ops: ['alloc_iova'] }, /must include "platform"/], [{ fields: { alloc_iova: ['pfn'] } }, /pfn is no result field of alloc_iova/], [{ ops: ['platform', 'repeat'] }, /repeat/]] as const) {
      assert.throws(() => hello(h), (e: unknown) => e instanceof ImplFault && e.kind === 'hello' && why.test(e.message));
    }
    assert.throws(() => parseHello({ ok: true }), /expected \{"hello"/);
  });
});

describe('profiles', () => {
  const r = (o: object) => decodeResult(o);
  it('linux-exact compares every value, the error and, when declared, kernel warnings', () => {
    assert.deepEqual(compareResults('linux-exact', 'alloc_iova', r({ ok: true, pfn_lo: '0x4', pfn_hi: '0x7' }), r({ ok: true, pfn_lo: 4, pfn_hi: 7 }), HELLO).diffs, []);
    assert.deepEqual(compareResults('linux-exact', 'alloc_iova', r({ ok: true, pfn_lo: '0x4', pfn_hi: '0x7' }), r({ ok: true, pfn_lo: 8, pfn_hi: 11 }), HELLO).diffs.map((d) => d.key), ['pfn_lo@alloc_iova', 'pfn_hi@alloc_iova']);
    assert.deepEqual(compareResults('linux-exact', 'alloc_iova', r({ ok: false, error: 'NULL' }), r({ ok: false, error: '-ENOMEM' }), HELLO).diffs.map((d) => d.key), ['ERROR@alloc_iova']);
    // Undefined on the reference: any answer conforms, under both profiles.
    const undef = r({ ok: false, error: 'UNDEFINED', warnings: [{ code: 'UNDEFINED_SIZE_ZERO', source: 'model', message: '' }] });
    for (const profile of ['linux-exact', 'contract'] as const) {
      for (const impl of [r({ ok: true, pfn_lo: 4, pfn_hi: 3 }), r({ ok: false, error: 'NULL' }), r({ ok: false, error: 'EPROTO' })]) {
        const c = compareResults(profile, 'alloc_iova', undef, impl, HELLO);
        assert.deepEqual(c.diffs, []);
        assert.deepEqual(c.notCompared, ['alloc_iova (undefined behaviour)']);
      }
    }
    const warned = r({ ok: true, warnings: [{ code: 'WARN_ON', source: 'kernel', message: '' }] });
    assert.deepEqual(compareResults('linux-exact', 'iova_info', warned, r({ ok: true }), HELLO).diffs, []);
    assert.deepEqual(compareResults('linux-exact', 'iova_info', warned, r({ ok: true }), HELLO).notCompared, ['iova_info.warnings']);
    assert.deepEqual(compareResults('linux-exact', 'iova_info', warned, r({ ok: true }), { ...HELLO, warnings: true }).diffs.map((d) => d.key), ['WARNINGS@iova_info']);
  });
  it('hello.fields restricts what is compared and the rest is listed', () => {
    const c = compareResults('linux-exact', 'iova_info', r({ ok: true, nodes: 2, depot_size: 0 }), r({ ok: true, nodes: 2, depot_size: 5 }), { ...HELLO, fields: { iova_info: ['nodes'] } });
    assert.deepEqual(c.diffs, []);
    assert.deepEqual(c.notCompared, ['iova_info.depot_size']);
  });
  it('contract compares success and error families only; EPROTO is a protocol error under both', () => {
    assert.deepEqual(compareResults('contract', 'dma_map_phys', r({ ok: true, dma_addr: 4 }), r({ ok: true, dma_addr: 8 }), HELLO).diffs, []);
    assert.deepEqual(compareResults('contract', 'dma_map_phys', r({ ok: false, error: 'DMA_MAPPING_ERROR' }), r({ ok: false, error: '-ENOMEM' }), HELLO).diffs, []);
    assert.deepEqual(compareResults('contract', 'dma_map_phys', r({ ok: false, error: 'DMA_MAPPING_ERROR' }), r({ ok: false, error: '-EINVAL' }), HELLO).diffs.map((d) => d.key), ['ERROR@dma_map_phys']);
    assert.deepEqual(compareResults('contract', 'dma_map_phys', r({ ok: true }), r({ ok: false, error: 'DMA_MAPPING_ERROR' }), HELLO).diffs.map((d) => d.key), ['OK@dma_map_phys']);
    assert.deepEqual(compareResults('contract', 'dma_map_phys', r({ ok: true }), r({ ok: false, error: 'EPROTO' }), HELLO).diffs.map((d) => d.key), ['EPROTO@dma_map_phys']);
    assert.equal(errorFamily('DMA_MAPPING_ERROR'), errorFamily('-ENOMEM'));
    assert.notEqual(errorFamily('-EIO'), errorFamily('-EINVAL'));
  });
  it('contract leaves the success of address-dependent ops to the contract checks, and says so', () => {
    const c = compareResults('contract', 'alloc_iova', r({ ok: true, pfn_lo: 4, pfn_hi: 4 }), r({ ok: false, error: 'NULL' }), HELLO);
    assert.deepEqual(c.diffs, []);
    assert.deepEqual(c.notCompared, ['alloc_iova.ok', 'alloc_iova.pfn_lo', 'alloc_iova.pfn_hi']);
    assert.deepEqual(compareResults('linux-exact', 'alloc_iova', r({ ok: true, pfn_lo: 4, pfn_hi: 4 }), r({ ok: false, error: 'NULL' }), HELLO).diffs.map((d) => d.key), ['OK@alloc_iova']);
  });
});
