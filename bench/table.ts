/** Shared benchmark helpers: timing and one table format for every section. */

export interface BenchRow {
  readonly what: string;
  readonly live: number;
  /** pairs (or ops) per second */
  readonly perSecond: number;
  readonly note?: string;
}

/** Runs body `pairs` times after a warm-up and returns pairs per second. */
export function timePairs(pairs: number, body: () => void): number {
  for (let i = 0; i < Math.min(pairs, 20_000); i++) body();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < pairs; i++) body();
  return pairs / (Number(process.hrtime.bigint() - t0) / 1e9);
}

export const fmtRate = (n: number): string => (n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : `${(n / 1e3).toFixed(0)}k`);

export function printTable(title: string, rows: readonly BenchRow[]): void {
  const w = Math.max(...rows.map((r) => r.what.length), 10);
  const out = process.stdout;
  out.write(`\n${title}\n\n`);
  out.write(`| ${'what'.padEnd(w)} | live      | per second | note\n`);
  out.write(`|${'-'.repeat(w + 2)}|-----------|------------|------\n`);
  for (const r of rows) out.write(`| ${r.what.padEnd(w)} | ${(r.live ? String(r.live) : '-').padStart(9)} | ${fmtRate(r.perSecond).padStart(10)} | ${r.note ?? ''}\n`);
}
