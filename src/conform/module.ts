/**
 * An implementation in-process: a JS or TS module (TS through tsx, which the CLI runs under) that
 * exports `createImplementation()` (or a default export) returning an Implementation or a promise
 * of one. MODULE vs CMD: `--impl` names a module when it is an existing file ending in .js, .cjs,
 * .mjs, .ts, .cts or .mts; anything else is a command line.
 */
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Implementation } from './implementation';

const MODULE_RE = /\.(?:c|m)?(?:js|ts)$/;

export const isModulePath = (impl: string): boolean => MODULE_RE.test(impl) && existsSync(impl) && statSync(impl).isFile();

const isImplementation = (v: unknown): v is Implementation =>
  typeof v === 'object' && v !== null && ['start', 'execute', 'stop'].every((k) => typeof (v as Record<string, unknown>)[k] === 'function');

/** loadModule - the module's implementation; a module without one is an error saying what it should export. */
export async function loadModule(path: string): Promise<Implementation> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- CommonJS, and tsx hooks require for .ts
  const m = require(resolve(path)) as Record<string, unknown>;
  const factory = m.createImplementation ?? m.default;
  const made: unknown = typeof factory === 'function' ? await (factory as () => unknown)() : factory;
  if (!isImplementation(made)) {
    throw new Error(`${path}: expected the module to export createImplementation() (or a default export) giving {start, execute, stop} (src/conform/implementation.ts)`);
  }
  return made;
}
