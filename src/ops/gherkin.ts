/**
 * Gherkin form of ops: one step is one op, with the kernel's names visible.
 *
 *   Given a platform with ram [{base 0x0, size 4G}] swiotlb {size 64M}
 *   And a device "nic" with dma_mask DMA_BIT_MASK(32) coherent false
 *   When "nic" calls dma_map_phys with phys 0x1_2345_6000 size 8K dir DMA_TO_DEVICE as buf
 *   And the CPU calls cpu_write with phys 0x1000 data deadbeef
 *   And device "nic" is removed
 *
 * Values use a tiny grammar: a bare word or "quoted string", [a, b] lists and
 * {key value, key value} objects. They parse into the JSON tree the JSON parser
 * takes, so both forms share one validator, and print(parse(s)) is canonical.
 */
import { OpParseError } from './errors';
import type { Json } from './kinds';
import { parseOp, printOp } from './json';
import { isOpName, OPS } from './table';
import type { Op } from './types';

// ---- values -----------------------------------------------------------------

type Token = { text: string; quoted: boolean; col: number };
const PUNCT = new Set(['[', ']', '{', '}', ',']);
/** A handle is one bare word even with a segment index: $s[1].dma_length+0x10 */
const HANDLE_TOKEN_RE = /^\$[A-Za-z_][\w-]*(?:\[\d+\])?(?:\.[a-z_]+)?(?:[+-][^\s[\]{},"]+)?/;

function tokenize(src: string, where: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (c === ' ' || c === '\t') { i++; continue; }
    if (PUNCT.has(c)) { out.push({ text: c, quoted: false, col: i }); i++; continue; }
    if (c === '"') {
      let j = i + 1;
      while (j < src.length && src[j] !== '"') j += src[j] === '\\' ? 2 : 1;
      if (j >= src.length) throw new OpParseError(where, 'a closing quote', src.slice(i));
      out.push({ text: JSON.parse(src.slice(i, j + 1)) as string, quoted: true, col: i });
      i = j + 1;
      continue;
    }
    const handle = c === '$' ? HANDLE_TOKEN_RE.exec(src.slice(i)) : null;
    let j = i + (handle ? handle[0].length : 0);
    while (j < src.length && !/[\s[\]{},"]/.test(src[j])) j++;
    out.push({ text: src.slice(i, j), quoted: false, col: i });
    i = j;
  }
  return out;
}

class ValueParser {
  private pos = 0;
  constructor(private readonly toks: Token[], private readonly where: string) {}

  done(): boolean { return this.pos >= this.toks.length; }

  private peek(): Token | undefined { return this.toks[this.pos]; }

  private next(expected: string): Token {
    const t = this.toks[this.pos++];
    if (!t) throw new OpParseError(this.where, expected, 'end of step');
    return t;
  }

  key(): string {
    const t = this.next('an argument name');
    if (t.quoted || !/^[a-z_][a-z0-9_]*$/.test(t.text)) throw new OpParseError(`${this.where} at column ${t.col}`, 'an argument name', t.text);
    return t.text;
  }

  value(): Json {
    const t = this.next('a value');
    if (t.quoted) return t.text;
    if (t.text === '[') {
      const items: Json[] = [];
      if (this.peek()?.text === ']' && !this.peek()?.quoted) { this.pos++; return items; }
      for (;;) {
        items.push(this.value());
        const sep = this.next('"," or "]"');
        if (sep.text === ']' && !sep.quoted) return items;
        if (sep.text !== ',' || sep.quoted) throw new OpParseError(`${this.where} at column ${sep.col}`, '"," or "]"', sep.text);
      }
    }
    if (t.text === '{') {
      const obj: { [k: string]: Json } = {};
      if (this.peek()?.text === '}' && !this.peek()?.quoted) { this.pos++; return obj; }
      for (;;) {
        const k = this.key();
        obj[k] = this.value();
        const sep = this.next('"," or "}"');
        if (sep.text === '}' && !sep.quoted) return obj;
        if (sep.text !== ',' || sep.quoted) throw new OpParseError(`${this.where} at column ${sep.col}`, '"," or "}"', sep.text);
      }
    }
    if (PUNCT.has(t.text)) throw new OpParseError(`${this.where} at column ${t.col}`, 'a value', t.text);
    return t.text;
  }

  /** `key value key value ...` until the end. */
  pairs(): { [k: string]: Json } {
    const out: { [k: string]: Json } = {};
    while (!this.done()) {
      const k = this.key();
      if (k in out) throw new OpParseError(`${this.where}.${k}`, 'each argument once', k);
      out[k] = this.value();
    }
    return out;
  }
}

/** Parses `key value ...` argument text into a JSON object. */
export function parseArgText(text: string, where: string): { [k: string]: Json } {
  return new ValueParser(tokenize(text, where), where).pairs();
}

/** Parses one value written in the step grammar. */
export function parseValueText(text: string, where: string): Json {
  const p = new ValueParser(tokenize(text, where), where);
  const v = p.value();
  if (!p.done()) throw new OpParseError(where, 'a single value', text);
  return v;
}

const BARE_RE = /^[^\s[\]{},"]+$/;

export function printValue(v: Json): string {
  if (typeof v === 'string') return BARE_RE.test(v) || HANDLE_TOKEN_RE.exec(v)?.[0] === v ? v : JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (v === null) return '"null"';
  if (Array.isArray(v)) return `[${v.map(printValue).join(', ')}]`;
  return `{${Object.entries(v).map(([k, x]) => `${k} ${printValue(x)}`).join(', ')}}`;
}

// ---- steps ------------------------------------------------------------------

/** Step patterns that carry an op; steps/ registers exactly these. */
export const OP_STEP_PATTERNS = {
  platform: /^a platform(?: with (.*))?$/,
  device_add: /^a device "([^"]+)"(?: with (.*))?$/,
  device_remove: /^device "([^"]+)" is removed$/,
  dev_call: /^"([^"]+)" calls ([a-z_0-9]+)(?: with (.*))?$/,
  kernel_call: /^(?:the kernel|the CPU) calls ([a-z_0-9]+)(?: with (.*))?$/,
} as const;

/** Parses the text of a step (without its keyword) into an op, or undefined if it is not an op step. */
export function parseStep(text: string): Op | undefined {
  const where = `step "${text}"`;
  let m: RegExpExecArray | null;
  if ((m = OP_STEP_PATTERNS.platform.exec(text))) {
    return parseOp({ op: 'platform', ...parseArgText(m[1] ?? '', where) }, where);
  }
  if ((m = OP_STEP_PATTERNS.device_add.exec(text))) {
    return parseOp({ ...parseArgText(m[2] ?? '', where), op: 'device_add', name: m[1] }, where);
  }
  if ((m = OP_STEP_PATTERNS.device_remove.exec(text))) return parseOp({ op: 'device_remove', name: m[1] }, where);
  if ((m = OP_STEP_PATTERNS.dev_call.exec(text))) {
    if (!isOpName(m[2])) throw new OpParseError(`${where}: op`, 'a known op name', m[2]);
    if (!('dev' in OPS[m[2]].args)) throw new OpParseError(`${where}: op`, `an op taking a device ("${m[2]}" takes none; write "the kernel calls ${m[2]}")`, m[2]);
    return parseOp({ ...parseArgText(m[3] ?? '', where), op: m[2], dev: m[1] }, where);
  }
  if ((m = OP_STEP_PATTERNS.kernel_call.exec(text))) {
    if (!isOpName(m[1])) throw new OpParseError(`${where}: op`, 'a known op name', m[1]);
    return parseOp({ ...parseArgText(m[2] ?? '', where), op: m[1] }, where);
  }
  return undefined;
}

function printPairs(args: { [k: string]: Json }, skip: readonly string[]): string {
  const parts = Object.entries(args)
    .filter(([k]) => !skip.includes(k))
    .map(([k, v]) => `${k} ${printValue(v)}`);
  return parts.length ? ` with ${parts.join(' ')}` : '';
}

/** Prints an op as the text of one step (no keyword); parseStep inverts it. */
export function printStep(op: Op): string {
  const json = printOp(op);
  const { op: _name, ...args } = json;
  switch (op.op) {
    case 'platform': return `a platform${printPairs(args, [])}`;
    case 'device_add': return `a device "${op.name}"${printPairs(args, ['name'])}`;
    case 'device_remove': return `device "${op.name}" is removed`;
    default: break;
  }
  if ('dev' in op && typeof op.dev === 'string') return `"${op.dev}" calls ${op.op}${printPairs(args, ['dev'])}`;
  const actor = op.op.startsWith('cpu_') ? 'the CPU' : 'the kernel';
  return `${actor} calls ${op.op}${printPairs(args, [])}`;
}

/** Parses step texts (no keywords) into ops; a text that is no op step is an error naming it. */
export function parseSteps(texts: readonly string[]): Op[] {
  return texts.map((t) => {
    const op = parseStep(t);
    if (!op) throw new OpParseError(`step "${t}"`, 'an op step');
    return op;
  });
}
