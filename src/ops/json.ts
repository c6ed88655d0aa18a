/** JSON form of ops and results (the corpus format and the conformance wire format). */
import { OpParseError } from './errors';
import { parseFields, printFields, type Json } from './kinds';
import { formatHex } from './numbers';
import { isOpName, OPS, type OpName } from './table';
import type { Op, OpResult, ResultValue } from './types';

/** Parses one op object; `path` prefixes field paths in errors (e.g. "corpus/a.json[3]"). */
export function parseOp(v: unknown, path = 'op'): Op {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new OpParseError(path, 'an op object {"op": NAME, ...}', v);
  const name = (v as { op?: unknown }).op;
  if (typeof name !== 'string' || !isOpName(name)) {
    throw new OpParseError(`${path}.op`, 'a known op name (see docs/protocol.md)', name);
  }
  const args = parseFields(OPS[name].args, v, path, ['op']);
  return { op: name, ...args } as Op;
}

/** Parses a JSON document holding a list of ops. */
export function parseOpList(text: string, file: string): Op[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new OpParseError(file, 'valid JSON', (e as Error).message);
  }
  if (!Array.isArray(doc)) throw new OpParseError(file, 'a JSON list of ops', doc);
  return doc.map((v, i) => parseOp(v, `${file}[${i}]`));
}

export function printOp(op: Op): { [k: string]: Json } {
  const spec = OPS[op.op as OpName];
  return { op: op.op, ...printFields(spec.args, op as never) };
}

function printValue(v: ResultValue): Json {
  if (typeof v === 'bigint') return formatHex(v);
  if (Array.isArray(v)) {
    return v.map((e) => ({
      phys: formatHex(e.phys), length: formatHex(e.length),
      dma_address: formatHex(e.dma_address), dma_length: formatHex(e.dma_length),
    }));
  }
  return v as Json;
}

/** The wire form of a result: values flattened beside ok. */
export function printResult(r: OpResult): { [k: string]: Json } {
  const out: { [k: string]: Json } = { ok: r.ok };
  if (r.ok) for (const [k, v] of Object.entries(r.values)) out[k] = printValue(v);
  else {
    out.error = r.error;
    if (r.fault) out.fault = true;
  }
  if (r.warnings.length) out.warnings = r.warnings.map((w) => ({ code: w.code, source: w.source, message: w.message }));
  return out;
}
