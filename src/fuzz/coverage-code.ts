/**
 * Code coverage of the model from the instrumented build (instrument.ts): istanbul's counters, read
 * after every run as features. Two kinds, which together are the campaign's "edges":
 *   fn:<file>:<i>        function i of the file ran (the edge into it);
 *   br:<file>:<i>.<j>    arm j of branch point i was taken (if/else, case, ?:, &&/||, default value),
 * and for each arm AFL's hit-count bucket ("br:dma/swiotlb.ts:12.0#4": taken 4-7 times), so taking a
 * known arm more often is new too. Statement counters are not read: every statement lies in a
 * function and behind some arm, so they add nothing a run could reach alone.
 *
 * Cost per run: begin() zeroes every function and arm counter (~8k numbers), collect() reads
 * them once; names are built once per arm and bucket, never per run.
 */
import type { BuildManifest } from './instrument';
import { bucket } from './coverage-model';

/** What execute() needs from a code-coverage source: reset before a run, read after it. */
export interface CodeFeatures {
  begin(): void;
  collect(into: Set<string>): void;
}

/** istanbul's per-file counters (the rest of its coverage object is not read). */
interface FileCounters {
  readonly f: Record<number, number>;
  readonly b: Record<number, number[]>;
}

interface FileSlot {
  readonly file: string;
  readonly functions: number;
  readonly arms: readonly number[];
  /** Index of the file's first arm in the flat name tables. */
  readonly armBase: number;
  counters?: FileCounters;
}

/** Index of each bucket value in a per-arm row of 8. */
const BUCKET_INDEX: Readonly<Record<number, number>> = { 1: 0, 2: 1, 3: 2, 4: 3, 8: 4, 16: 5, 32: 6, 128: 7 };

/** true for a code feature that counts as an edge (a function or arm, not a hit-count bucket). */
export const isEdgeFeature = (f: string): boolean => (f.startsWith('br:') || f.startsWith('fn:')) && !f.includes('#');

/**
 * The counters of the instrumented files loaded in this realm (a worker running the instrumented
 * tree). Files not loaded yet are picked up at the next begin().
 */
export class BranchCoverage implements CodeFeatures {
  private readonly slots: FileSlot[] = [];
  private readonly fnNames: string[][] = [];
  private readonly armNames: string[] = [];
  private readonly bucketNames: (string | undefined)[] = [];
  private missing: number;
  /** Functions plus arms of every instrumented file (whether loaded or not). */
  readonly total: number;

  constructor(
    private readonly manifest: BuildManifest,
    private readonly scope: Record<string, unknown> = globalThis as unknown as Record<string, unknown>,
  ) {
    let armBase = 0;
    for (const m of manifest.files) {
      this.slots.push({ file: m.file, functions: m.functions, arms: m.arms, armBase });
      this.fnNames.push(Array.from({ length: m.functions }, (_, i) => `fn:${m.file}:${i}`));
      m.arms.forEach((n, i) => {
        for (let j = 0; j < n; j++) this.armNames.push(`br:${m.file}:${i}.${j}`);
      });
      armBase += m.arms.reduce((a, b) => a + b, 0);
    }
    this.missing = this.slots.length;
    this.total = manifest.total;
  }

  /** How many instrumented files have registered their counters (loaded and run their top level). */
  get loadedFiles(): number {
    return this.slots.length - this.missing;
  }

  /** Zeroes every counter, so that only the run that follows counts. */
  begin(): void {
    if (this.missing > 0) this.attach();
    for (const s of this.slots) {
      const c = s.counters;
      if (!c) continue;
      for (let i = 0; i < s.functions; i++) c.f[i] = 0;
      for (let i = 0; i < s.arms.length; i++) c.b[i].fill(0);
    }
  }

  /** Adds the functions and arms the run reached, with arm hit-count buckets, to `into`. */
  collect(into: Set<string>): void {
    for (let k = 0; k < this.slots.length; k++) {
      const s = this.slots[k];
      const c = s.counters;
      if (!c) continue;
      const names = this.fnNames[k];
      for (let i = 0; i < s.functions; i++) if (c.f[i] > 0) into.add(names[i]);
      let arm = s.armBase;
      for (let i = 0; i < s.arms.length; i++) {
        const hits = c.b[i];
        for (let j = 0; j < hits.length; j++, arm++) {
          const n = hits[j];
          if (n === 0) continue;
          into.add(this.armNames[arm]);
          if (n > 1) into.add(this.bucketName(arm, bucket(n)));
        }
      }
    }
  }

  private bucketName(arm: number, b: number): string {
    const at = arm * 8 + BUCKET_INDEX[b];
    return (this.bucketNames[at] ??= `${this.armNames[arm]}#${b}`);
  }

  private attach(): void {
    const all = this.scope[this.manifest.coverageVariable] as Record<string, FileCounters> | undefined;
    if (!all) return;
    for (const s of this.slots) {
      if (s.counters) continue;
      const c = all[s.file];
      if (!c) continue;
      s.counters = c;
      this.missing--;
    }
  }
}
