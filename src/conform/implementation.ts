/**
 * What conformance checks: an Implementation takes ops in wire form and answers results in wire
 * form (docs/conformance.md). The reference model (model.ts), a child process speaking the JSON-lines
 * protocol (process.ts) and a loaded module (module.ts) all are one, so the harness treats them alike.
 */
import type { Json } from '../ops/kinds';
import type { OpName } from '../ops/table';

/** An op on the wire: handles already resolved, no `as`, numbers as 0x strings or small integers. */
export type WireOp = { readonly op: OpName } & { readonly [field: string]: Json };

/** What an implementation says about itself before the first op (protocol rule 1). */
export interface Hello {
  readonly protocol: 1;
  /** Free text: what it is, e.g. "linux-6.12.117 drivers/iommu/iova.c". */
  readonly implementation: string;
  /** The ops it supports; an op not listed is never sent. Always includes platform. */
  readonly ops: readonly OpName[];
  /** Per op, the only result fields compared under linux-exact; the report lists the others. */
  readonly fields?: { readonly [op: string]: readonly string[] };
  /** Extension: it reports the kernel's warnings (WARN_ON, pr_warn), so their codes are compared. */
  readonly warnings?: boolean;
}

/**
 * An implementation under test. execute() resolves to the raw result object the implementation
 * answered (wire.ts decodes and judges it) or rejects with an ImplFault when the implementation
 * crashed, hung or answered something that is no JSON object; after a fault, start() again.
 */
export interface Implementation {
  /** (Re)starts it and reads its hello. Rejects with an ImplFault if it cannot start. */
  start(): Promise<Hello>;
  execute(op: WireOp): Promise<unknown>;
  /** Ends the session (closes stdin for a process); safe to call twice. */
  stop(): Promise<void>;
  /** Recent stderr, for reports (processes only). */
  stderrTail?(): string;
}

export type FaultKind = 'crash' | 'hang' | 'garbage' | 'hello';

/** The implementation misbehaved at the transport level; the harness reports it and restarts it. */
export class ImplFault extends Error {
  constructor(
    readonly kind: FaultKind,
    message: string,
    readonly stderr = '',
  ) {
    super(message);
    this.name = 'ImplFault';
  }
}
