/** Kinds for DMA-specific arguments: directions, attrs, byte data, sg lists. */
import { CONTEXTS, DMA_ATTRS, DMA_DIRECTIONS, MEM_KINDS, type DmaAttrName } from '../dma/types';
import { OpParseError } from './errors';
import {
  addr, addrOrHandle, count, isHandleRef, list, object, oneOf, opt, parseHandleRef, printHandleRef, req, size,
  type HandleRef, type Json, type Kind,
} from './kinds';

export const dir = oneOf(DMA_DIRECTIONS, 'a DMA direction');
export const memKind = oneOf(MEM_KINDS, 'where the buffer lives');
export const context = oneOf(CONTEXTS, 'a calling context');

const ATTR_NAMES = Object.keys(DMA_ATTRS) as DmaAttrName[];

/** DMA_ATTR_* names as a list (or a single name, or the raw bit number); kept as the bit mask. */
export const attrs: Kind<number> = {
  expected: `a list of DMA_ATTR_* names (${ATTR_NAMES.join(', ')})`,
  parse(v, path) {
    if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return v;
    const items = Array.isArray(v) ? v : [v];
    let bits = 0;
    items.forEach((item, i) => {
      if (typeof item !== 'string' || !(item in DMA_ATTRS)) throw new OpParseError(Array.isArray(v) ? `${path}[${i}]` : path, this.expected, item);
      bits |= DMA_ATTRS[item as DmaAttrName];
    });
    return bits;
  },
  print(v) {
    const names: Json[] = ATTR_NAMES.filter((n) => (v & DMA_ATTRS[n]) !== 0);
    const known = ATTR_NAMES.reduce((m, n) => m | DMA_ATTRS[n], 0);
    return v & ~known ? v : names;
  },
};

/**
 * Bytes: hex text ("deadbeef"), a deterministic pattern {len, seed} so megabyte
 * buffers stay small in a corpus, or {len, fill} for a repeated byte.
 */
export type ByteSpec =
  | { readonly hex: string }
  | { readonly len: number; readonly seed: number }
  | { readonly len: number; readonly fill: number };

const HEX_RE = /^(?:0x)?((?:[0-9a-fA-F]{2})+)$/;
const MAX_DATA = 1 << 26; // 64 MiB: a sane bound for one probe

export const bytes: Kind<ByteSpec> = {
  expected: 'bytes as hex ("deadbeef"), {len, seed} or {len, fill}',
  parse(v, path) {
    if (typeof v === 'string') {
      const m = HEX_RE.exec(v.replace(/_/g, ''));
      if (!m) throw new OpParseError(path, this.expected, v);
      return { hex: m[1].toLowerCase() };
    }
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
      const o = v as Record<string, unknown>;
      const keys = Object.keys(o).sort().join(',');
      const len = count.parse(o.len, `${path}.len`);
      if (len === 0 || len > MAX_DATA) throw new OpParseError(`${path}.len`, `a length in 1..${MAX_DATA}`, o.len);
      if (keys === 'len,seed') return { len, seed: count.parse(o.seed, `${path}.seed`) };
      if (keys === 'fill,len') {
        const fill = count.parse(o.fill, `${path}.fill`);
        if (fill > 255) throw new OpParseError(`${path}.fill`, 'a byte value 0..255', o.fill);
        return { len, fill };
      }
    }
    throw new OpParseError(path, this.expected, v);
  },
  print(v): Json {
    if ('hex' in v) return v.hex;
    if ('seed' in v) return { len: v.len, seed: v.seed };
    return { len: v.len, fill: v.fill };
  },
};

/** Materialises a ByteSpec; the pattern generator is a fixed xorshift32 so corpora replay anywhere. */
export function byteSpecToBytes(spec: ByteSpec): Uint8Array {
  if ('hex' in spec) return Uint8Array.from(Buffer.from(spec.hex, 'hex'));
  const out = new Uint8Array(spec.len);
  if ('fill' in spec) return out.fill(spec.fill);
  let x = (spec.seed ^ 0x9e3779b9) >>> 0 || 1;
  for (let i = 0; i < out.length; i++) {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

/** One scatterlist entry as the driver fills it in; dma fields only for misuse tests. */
export const sgEntry = object(
  {
    phys: req(addrOrHandle),
    length: req(size),
    dma_address: opt(addrOrHandle),
    dma_length: opt(size),
    mem: opt(memKind, 'where this entry lives, for the dma-debug pre-checks (default: the call\'s mem)'),
  },
  'an sg entry',
);
export type SgEntryArg = ReturnType<typeof sgEntry.parse>;

/** An sg list: explicit entries, or "$s" naming an earlier dma_map_sg. */
export const sgList: Kind<SgEntryArg[] | HandleRef> = {
  expected: 'a list of {phys, length} or a handle "$s" of an earlier dma_map_sg',
  parse(v, path) {
    if (typeof v === 'string') {
      const h = v.startsWith('$') ? parseHandleRef(v) : undefined;
      if (!h || h.offset !== 0n || h.field !== undefined || h.index !== undefined) throw new OpParseError(path, this.expected, v);
      return h;
    }
    return list(sgEntry, { min: 1 }).parse(v, path);
  },
  print: (v) => (isHandleRef(v) ? printHandleRef(v) : v.map((e) => sgEntry.print(e))),
};

export const ramRegion = object({ base: req(addr), size: req(size) }, 'a RAM region');
export const busDmaRegion = object({ cpu_start: req(addr), dma_start: req(addr), size: req(size) }, 'a dma_range_map entry');

/** IOMMU_* protection bits (include/linux/iommu.h), by name or as the number. */
const PROT_BITS = { IOMMU_READ: 1, IOMMU_WRITE: 2, IOMMU_CACHE: 4, IOMMU_NOEXEC: 8, IOMMU_MMIO: 16, IOMMU_PRIV: 32 } as const;
export const prot: Kind<number> = {
  expected: `IOMMU_* names (${Object.keys(PROT_BITS).join(', ')}) as a list, or their bits as a number`,
  parse(v, path) {
    if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < 64) return v;
    if (typeof v === 'string' && /^\d+$/.test(v)) return Number(v);
    const items = Array.isArray(v) ? v : [v];
    let bits = 0;
    items.forEach((item, i) => {
      if (typeof item !== 'string' || !(item in PROT_BITS)) throw new OpParseError(Array.isArray(v) ? `${path}[${i}]` : path, this.expected, item);
      bits |= PROT_BITS[item as keyof typeof PROT_BITS];
    });
    return bits;
  },
  print: (v) => (Object.keys(PROT_BITS) as (keyof typeof PROT_BITS)[]).filter((n) => (v & PROT_BITS[n]) !== 0),
};
