/**
 * The fuzz corpus on disk: one JSON op list per file (the corpus/ format: ops[0] the platform), named
 * by the sha256 of its printed form so the same input is never stored twice. Loading never throws:
 * a corrupt file is skipped with a warning (syzkaller keeps going past a bad corpus program too).
 * Writes are atomic (a temp file in the same directory, then rename), so a crash or Ctrl-C mid-write
 * never leaves a half-written entry for the next campaign to choke on.
 */
import { createHash } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { parseOpList, printOp } from '../ops/json';
import type { FuzzInput } from './types';

export interface LoadedCorpus {
  /** The inputs that parsed, in file-name order. */
  readonly inputs: FuzzInput[];
  /** The file each input came from (same order). */
  readonly files: string[];
  /** One line per file skipped: the file and why. */
  readonly warnings: string[];
}

/** Loads every *.json of `dir` (none if it does not exist); corrupt files are skipped with a warning. */
export function loadCorpus(dir: string): LoadedCorpus {
  const out: LoadedCorpus = { inputs: [], files: [], warnings: [] };
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.json') && !n.startsWith('.')).sort();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') out.warnings.push(`corpus ${dir}: cannot list it (${(e as Error).message})`);
    return out;
  }
  for (const n of names) {
    const file = join(dir, n);
    try {
      const ops = parseOpList(readFileSync(file, 'utf8'), file);
      if (ops.length === 0 || ops[0].op !== 'platform') throw new Error(`${file}: expected a list of ops whose first is "platform"`);
      out.inputs.push(ops);
      out.files.push(file);
    } catch (e) {
      // Whatever went wrong (unreadable, not JSON, an op the table refuses), the campaign goes on.
      out.warnings.push(`skipped corrupt corpus file ${(e as Error).message.startsWith(file) ? '' : `${file}: `}${(e as Error).message}`);
    }
  }
  return out;
}

/** The canonical text of an input: json.ts printOp of every op. Its hash names the corpus file. */
export const printedInput = (input: FuzzInput): string => JSON.stringify(input.map(printOp));

/** `<sha256 of the printed op list>.json` */
export const corpusName = (input: FuzzInput): string => `${createHash('sha256').update(printedInput(input)).digest('hex')}.json`;

/** The file form: a JSON list with one op per line, like the hand-written files in corpus/. */
export function formatOpList(input: FuzzInput): string {
  return `[\n${input.map((op) => `  ${JSON.stringify(printOp(op))}`).join(',\n')}\n]\n`;
}

/** Saves `input` atomically under its content hash; returns the path (already there: left alone). */
export function saveCorpusEntry(dir: string, input: FuzzInput): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, corpusName(input));
  writeFileAtomic(file, formatOpList(input));
  return file;
}

/**
 * Writes `text` to `path` atomically: a temp file beside it (same filesystem, so rename is atomic),
 * flushed to disk, then renamed over `path`. The temp file is removed if anything fails.
 */
export function writeFileAtomic(path: string, text: string): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    const fd = openSync(tmp, 'w');
    try {
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/**
 * A minimal corpus: an input is kept (and saved, when there is a directory) only if it reaches a
 * feature no kept input reached.
 */
export class Corpus {
  readonly inputs: FuzzInput[] = [];
  readonly features = new Set<string>();

  constructor(private readonly dir?: string) {}

  /** Keeps `input` if `features` holds a new one; returns whether it was kept. */
  offer(input: FuzzInput, features: Iterable<string>): boolean {
    let grew = false;
    for (const f of features) {
      if (this.features.has(f)) continue;
      this.features.add(f);
      grew = true;
    }
    if (!grew) return false;
    this.inputs.push(input);
    if (this.dir !== undefined) saveCorpusEntry(this.dir, input);
    return true;
  }
}

/**
 * The corpus an afl-cmin style pass keeps: for every feature, the smallest entry (fewest ops; the
 * earliest on ties) that reaches it. The union of those covers everything the whole set covers, and
 * entries kept only because they were first to a feature a later, smaller entry also reaches drop out.
 */
export function cullCorpus<T extends { readonly input: FuzzInput; readonly features: readonly string[] }>(entries: readonly T[]): Set<T> {
  const best = new Map<string, T>();
  for (const e of entries) {
    for (const f of e.features) {
      const b = best.get(f);
      if (b === undefined || e.input.length < b.input.length) best.set(f, e);
    }
  }
  return new Set(best.values());
}
