/**
 * The reference model as an Implementation: every op but repeat (the harness expands it), wire form
 * in and out, so the reference goes through the same encoding as any other implementation. Planted
 * faults (src/faults.ts) make it a divergent implementation for tests.
 */
import { Engine } from '../engine/engine';
import type { FaultName } from '../faults';
import { OpParseError } from '../ops/errors';
import { parseOp, printResult } from '../ops/json';
import { OP_NAMES } from '../ops/table';
import type { Hello, Implementation, WireOp } from './implementation';

export const MODEL_HELLO: Hello = {
  protocol: 1,
  implementation: 'dmaspec reference model',
  ops: OP_NAMES.filter((n) => n !== 'repeat'),
  warnings: true,
};

/**
 * modelAnswer - one op on @engine, answered as the protocol says: a result, or EPROTO naming the
 * field for an op it cannot take. A model crash (any other exception) propagates.
 */
export function modelAnswer(engine: Engine, raw: unknown, path: string): object {
  try {
    const op = parseOp(raw, path);
    if (op.op === 'repeat') throw new OpParseError(`${path}.op`, 'an op other than repeat (the harness expands it)', op.op);
    return printResult(engine.execute(op, path).result);
  } catch (e) {
    if (e instanceof OpParseError) return { ok: false, error: 'EPROTO', message: e.message };
    throw e;
  }
}

export class ModelImplementation implements Implementation {
  private engine: Engine;
  private index = 0;

  constructor(private readonly faults: readonly FaultName[] = []) {
    this.engine = this.fresh();
  }

  private fresh(): Engine {
    // No invariants: conformance compares results; the fuzzer checks the model's invariants.
    return new Engine({ invariants: [], faults: this.faults });
  }

  start(): Promise<Hello> {
    this.engine = this.fresh();
    this.index = 0;
    return Promise.resolve(this.faults.length ? { ...MODEL_HELLO, implementation: `${MODEL_HELLO.implementation} with planted faults ${this.faults.join(', ')}` } : MODEL_HELLO);
  }

  execute(op: WireOp): Promise<unknown> {
    return Promise.resolve(modelAnswer(this.engine, op, `op[${this.index++}]`));
  }

  stop(): Promise<void> {
    return Promise.resolve();
  }
}
