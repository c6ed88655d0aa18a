/**
 * Numbers in the op language: decimal, 0x hex (underscores allowed as digit
 * separators, as the spec digests write them), size suffixes and DMA_BIT_MASK(n).
 * Values are bigint because dma_addr_t and phys_addr_t reach 2^64 - 1.
 */

const U64_MAX = (1n << 64n) - 1n;

const SUFFIX: Record<string, bigint> = {
  '': 1n,
  K: 1n << 10n, KB: 1n << 10n, KIB: 1n << 10n,
  M: 1n << 20n, MB: 1n << 20n, MIB: 1n << 20n,
  G: 1n << 30n, GB: 1n << 30n, GIB: 1n << 30n,
  T: 1n << 40n, TB: 1n << 40n, TIB: 1n << 40n,
};

const NUMBER_RE = /^(0x[0-9a-f_]+|[0-9][0-9_]*)\s*(k|kb|kib|m|mb|mib|g|gb|gib|t|tb|tib)?$/i;
const BIT_MASK_RE = /^DMA_BIT_MASK\((\d+)\)$/;

/** Parses a u64 written as text; returns undefined when the text is not a number. */
export function parseU64Text(text: string): bigint | undefined {
  const t = text.trim();
  const mask = BIT_MASK_RE.exec(t);
  if (mask) {
    const n = Number(mask[1]);
    if (n > 64) return undefined; // dma-core.md §10.5: DMA_BIT_MASK above 64 is undefined in C
    return n === 64 ? U64_MAX : (1n << BigInt(n)) - 1n;
  }
  const m = NUMBER_RE.exec(t);
  if (!m) return undefined;
  const digits = m[1].replace(/_/g, '');
  if (digits === '0x' || digits.length === 0) return undefined;
  const v = BigInt(digits) * SUFFIX[(m[2] ?? '').toUpperCase()];
  return v > U64_MAX ? undefined : v;
}

/** Parses a JSON number or string as a u64. */
export function parseU64(v: unknown): bigint | undefined {
  if (typeof v === 'bigint') return v >= 0n && v <= U64_MAX ? v : undefined;
  if (typeof v === 'number') return Number.isSafeInteger(v) && v >= 0 ? BigInt(v) : undefined;
  if (typeof v === 'string') return parseU64Text(v);
  return undefined;
}

/** Canonical address form: 0x-prefixed lower-case hex. */
export const formatHex = (v: bigint): string => '0x' + v.toString(16);

/** Canonical size form: the largest exact K/M/G/T suffix, else decimal. */
export function formatSize(v: bigint): string {
  for (const [suffix, unit] of [['T', 1n << 40n], ['G', 1n << 30n], ['M', 1n << 20n], ['K', 1n << 10n]] as const) {
    if (v >= unit && v % unit === 0n) return `${v / unit}${suffix}`;
  }
  return v.toString();
}
