/**
 * dmaspec serve: the reference model behind the conformance protocol (docs/conformance.md), so the
 * protocol itself is tested end to end and a planted fault (--fault NAME, or DMASPEC_FAULTS=a,b)
 * gives tests a divergent implementation. A model crash is reported on stderr and ends the process
 * (status 70), as a crashing implementation would. --ops a,b,... makes it a component implementation
 * that lists and accepts only those ops (platform always), as an allocator alone would.
 */
import { createInterface } from 'node:readline';
import { Engine } from '../engine/engine';
import { FAULT_NAMES, type FaultName } from '../faults';
import { MODEL_HELLO, modelAnswer } from '../conform/model';
import { isOpName, type OpName } from '../ops/table';

export interface ServeArgs {
  readonly faults: FaultName[];
  /** The ops it lists and accepts; undefined: all but repeat. */
  readonly ops?: readonly OpName[];
}

export function parseServeArgs(argv: readonly string[], env: string | undefined): ServeArgs {
  const names = (env ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  let ops: OpName[] | undefined;
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const v = argv[++i];
    if (flag !== '--fault' && flag !== '--ops') throw new Error(`unknown option "${flag}" (serve takes --fault NAME and --ops a,b,...)`);
    if (v === undefined) throw new Error(`${flag}: missing value`);
    if (flag === '--fault') names.push(v);
    else {
      const list = v.split(',').map((s) => s.trim()).filter(Boolean);
      const bad = list.filter((o) => !isOpName(o) || o === 'repeat');
      if (bad.length) throw new Error(`--ops: ${bad.join(', ')} is no op the protocol sends (docs/protocol.md)`);
      ops = ['platform', ...(list as OpName[]).filter((o) => o !== 'platform')];
    }
  }
  const unknown = names.filter((n) => !(FAULT_NAMES as readonly string[]).includes(n));
  if (unknown.length) throw new Error(`unknown fault(s) ${unknown.join(', ')} (src/faults.ts lists them)`);
  return { faults: names as FaultName[], ...(ops ? { ops } : {}) };
}

export function serve(argv: readonly string[]): Promise<number> {
  let args: ServeArgs;
  try {
    args = parseServeArgs(argv, process.env.DMASPEC_FAULTS);
  } catch (e) {
    process.stderr.write(`dmaspec serve: ${(e as Error).message}\n`);
    return Promise.resolve(2);
  }
  const { faults } = args;
  const accepted: ReadonlySet<string> = new Set(args.ops ?? MODEL_HELLO.ops);
  const hello = {
    ...MODEL_HELLO,
    ...(faults.length ? { implementation: `${MODEL_HELLO.implementation} with planted faults ${faults.join(', ')}` } : {}),
    ...(args.ops ? { ops: args.ops } : {}),
  };
  process.stdout.write(JSON.stringify({ hello }) + '\n');
  const engine = new Engine({ invariants: [], faults });
  let index = 0;
  return new Promise((resolve) => {
    const rl = createInterface({ input: process.stdin, crlfDelay: Infinity });
    rl.on('line', (line) => {
      if (line.trim() === '') return;
      const path = `line ${++index}`;
      let answer: object;
      try {
        let raw: unknown;
        try {
          raw = JSON.parse(line);
        } catch (e) {
          answer = { ok: false, error: 'EPROTO', message: `${path}: expected one JSON op object, got ${line.slice(0, 60)} (${(e as Error).message})` };
          process.stdout.write(JSON.stringify(answer) + '\n');
          return;
        }
        const name = (raw as { op?: unknown } | null)?.op;
        answer = typeof name === 'string' && isOpName(name) && !accepted.has(name)
          ? { ok: false, error: 'EPROTO', message: `${path}.op: ${name} is not among the ops this server lists` }
          : modelAnswer(engine, raw, path);
      } catch (e) {
        process.stderr.write(`dmaspec serve: model crash at ${path}: ${(e as Error).stack ?? String(e)}\n`);
        process.exit(70);
      }
      process.stdout.write(JSON.stringify(answer) + '\n');
    });
    rl.on('close', () => resolve(0));
  });
}
