/** Steps that check the last op's result and warnings. */
import { Then } from '@cucumber/cucumber';
import assert from 'node:assert/strict';
import { formatData } from '../src/ops/data';
import { byteSpecToBytes, bytes } from '../src/ops/dma-kinds';
import { parseArgText, parseValueText } from '../src/ops/gherkin';
import { parseHandleRef, type Json } from '../src/ops/kinds';
import { formatHex, parseU64 } from '../src/ops/numbers';
import { dma_to_phys } from '../src/dma/direct';
import type { ResultValue } from '../src/ops/types';
import type { DmaWorld } from './world';

function show(v: ResultValue | undefined): string {
  if (typeof v === 'bigint') return formatHex(v);
  // An sg list is compared in its wire form (json.ts): the four fields, not the model's scatterlist flags.
  if (Array.isArray(v)) return JSON.stringify(v.map((e) => ({ phys: e.phys, length: e.length, dma_address: e.dma_address, dma_length: e.dma_length })), (_k, x) => (typeof x === 'bigint' ? formatHex(x) : x));
  return JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? formatHex(x) : x));
}

/** A u64 written in a Then step: a number or a handle. */
function u64(world: DmaWorld, text: Json, where: string): bigint {
  if (typeof text === 'string' && text.startsWith('$')) {
    const h = parseHandleRef(text);
    if (!h) throw new Error(`${where}: bad handle ${text}`);
    return world.engine.handles.address(h, where);
  }
  const v = parseU64(text);
  if (v === undefined) throw new Error(`${where}: expected a number, got ${JSON.stringify(text)}`);
  return v;
}

function field(world: DmaWorld, name: string): ResultValue {
  const r = world.result;
  if (!r.ok) throw new Error(`the op failed with ${r.error}; it has no ${name}`);
  if (!(name in r.values)) throw new Error(`the result has no field "${name}" (it has ${Object.keys(r.values).join(', ') || 'none'})`);
  return r.values[name];
}

function expectEqual(world: DmaWorld, name: string, want: Json): void {
  const got = field(world, name);
  const where = `the result's ${name}`;
  if (typeof got === 'bigint') assert.equal(formatHex(got), formatHex(u64(world, want, where)), `${where} is ${show(got)}`);
  else if (typeof got === 'number') assert.equal(BigInt(got), u64(world, want, where), `${where} is ${got}`);
  else if (typeof got === 'boolean') assert.equal(String(got), String(want), `${where} is ${got}`);
  else if (typeof got === 'string' && name === 'data') assert.equal(got, formatData(byteSpecToBytes(bytes.parse(want, where))), `${where} differs`);
  else assert.deepEqual(show(got), JSON.stringify(want), `${where} is ${show(got)}`);
}

Then('it succeeds', function (this: DmaWorld) {
  const r = this.result;
  assert.ok(r.ok, `expected success, got ${r.ok ? '' : r.error}`);
});

Then('it fails with {word}', function (this: DmaWorld, error: string) {
  const r = this.result;
  assert.ok(!r.ok, `expected failure ${error}, but it succeeded with ${show(r.ok ? (r.values as never) : undefined)}`);
  assert.equal(r.error, error);
});

Then('the device faults', function (this: DmaWorld) {
  const r = this.result;
  assert.ok(!r.ok && r.fault === true, 'expected a faulting device access');
});

Then(/^the result has (.+)$/, function (this: DmaWorld, text: string) {
  const pairs = parseArgText(text, `step "the result has ${text}"`);
  for (const [k, v] of Object.entries(pairs)) expectEqual(this, k, v);
});

const RELATIONS: Record<string, (a: bigint, b: bigint) => boolean> = {
  'is below': (a, b) => a < b,
  'is at most': (a, b) => a <= b,
  'is above': (a, b) => a > b,
  'is at least': (a, b) => a >= b,
  'is not': (a, b) => a !== b,
  'is a multiple of': (a, b) => b !== 0n && a % b === 0n,
};

Then(/^the result's (\w+)(?: & (\S+))? (is below|is at most|is above|is at least|is not|is a multiple of|is) (\S+)$/, function (this: DmaWorld, name: string, mask: string | undefined, rel: string, value: string) {
  const got = field(this, name);
  if (typeof got !== 'bigint' && typeof got !== 'number') throw new Error(`the result's ${name} is not a number`);
  let a = BigInt(got);
  if (mask != null) a &= u64(this, parseValueText(mask, 'mask'), 'mask');
  const b = u64(this, parseValueText(value, 'value'), 'value');
  const ok = rel === 'is' ? a === b : RELATIONS[rel](a, b);
  assert.ok(ok, `the result's ${name}${mask ? ` & ${mask}` : ''} is ${formatHex(a)}, expected it ${rel} ${formatHex(b)}`);
});

Then(/^the result's (\w+) (is|is not) in the swiotlb pool$/, function (this: DmaWorld, name: string, rel: string) {
  const got = field(this, name);
  if (typeof got !== 'bigint') throw new Error(`the result's ${name} is not an address`);
  const p = this.engine.platform!;
  const op = this.last!.op;
  const dev = 'dev' in op && typeof op.dev === 'string' ? p.devices.get(op.dev) : undefined;
  const phys = dev ? dma_to_phys(dev, got) : got;
  const inPool = p.swiotlb?.is_swiotlb_buffer(phys) ?? false;
  assert.equal(inPool, rel === 'is', `${formatHex(got)} ${inPool ? 'is' : 'is not'} a swiotlb address`);
});

// ---- warnings ------------------------------------------------------------------

const codes = (w: DmaWorld): string[] => w.result.warnings.map((x) => x.code);
const list = (text: string): string[] => text.split(/\s*,\s*|\s+and\s+/).filter(Boolean);

Then(/^(?:there are no warnings|the warnings are none)$/, function (this: DmaWorld) {
  assert.deepEqual(codes(this), [], `warnings: ${this.result.warnings.map((w) => `${w.code} (${w.message})`).join('; ')}`);
});

Then(/^the warnings are (?!none$)(.+)$/, function (this: DmaWorld, text: string) {
  assert.deepEqual(codes(this), list(text));
});

Then(/^the warnings include (.+)$/, function (this: DmaWorld, text: string) {
  for (const c of list(text)) assert.ok(codes(this).includes(c), `${c} not among ${codes(this).join(', ') || 'no warnings'}`);
});

Then(/^the warning (\w+) says "([^"]*)"$/, function (this: DmaWorld, code: string, text: string) {
  const w = this.result.warnings.filter((x) => x.code === code);
  assert.ok(w.length > 0, `${code} not among ${codes(this).join(', ') || 'no warnings'}`);
  assert.ok(w.some((x) => x.message.includes(text)), `${code} says ${w.map((x) => JSON.stringify(x.message)).join(' / ')}, not ${JSON.stringify(text)}`);
});

Then(/^the warnings do not include (.+)$/, function (this: DmaWorld, text: string) {
  for (const c of list(text)) assert.ok(!codes(this).includes(c), `${c} was reported`);
});
