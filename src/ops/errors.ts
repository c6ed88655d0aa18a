/** Malformed input: names where (file, op index, field path) and what form was expected. */
export class OpParseError extends Error {
  constructor(
    readonly path: string,
    readonly expected: string,
    readonly got?: unknown,
  ) {
    super(`${path}: expected ${expected}${got === undefined ? '' : `, got ${describe(got)}`}`);
    this.name = 'OpParseError';
  }

  /** Well-formed but unacceptable input (a bad configuration): the path and what is wrong. */
  static invalid(path: string, problem: string): OpParseError {
    const e = new OpParseError(path, problem);
    e.message = `${path}: ${problem}`;
    return e;
  }
}

function describe(v: unknown): string {
  if (typeof v === 'bigint') return `${v}n`;
  try {
    const s = JSON.stringify(v);
    return s === undefined ? String(v) : s.length > 60 ? s.slice(0, 57) + '...' : s;
  } catch {
    return String(v);
  }
}
