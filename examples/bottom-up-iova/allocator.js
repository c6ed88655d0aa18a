#!/usr/bin/env node
// A bottom-up, first-fit IOVA allocator speaking dmaspec's conformance protocol
// (version 1). It keeps the allocator's contract (ranges never overlap, stay
// inside [start_pfn, limit_pfn], are aligned when asked, reservations are never
// handed out) but chooses addresses its own way: the lowest gap that fits,
// where Linux's drivers/iommu/iova.c takes the highest one below a cached node
// and keeps per-CPU range caches. Plain Node.js, no dependencies: read it as
// the smallest complete implementation of the protocol.
//
//   node examples/bottom-up-iova/allocator.js      # then type JSON ops, one per line
'use strict';

const readline = require('node:readline');

const OPS = ['platform', 'init_iova_domain', 'alloc_iova', 'free_iova', 'find_iova', 'reserve_iova', 'alloc_iova_fast', 'free_iova_fast'];

// ---- numbers: JSON integers, decimal or 0x strings (and K/M/G suffixes) ------------------------

const SUFFIX = { K: 10n, M: 20n, G: 30n };

/** A non-negative integer argument as a BigInt; throws a message naming the field. */
function num(op, field, fallback) {
  const v = op[field];
  if (v === undefined) {
    if (fallback !== undefined) return fallback;
    throw new Error(`${field}: missing`);
  }
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return BigInt(v);
  if (typeof v === 'string') {
    const m = /^(0x[0-9a-f_]+|[0-9_]+)([KMG])?$/i.exec(v.trim());
    if (m) return BigInt(m[1].replace(/_/g, '')) << (m[2] ? SUFFIX[m[2].toUpperCase()] : 0n);
  }
  throw new Error(`${field}: expected a non-negative integer, got ${JSON.stringify(v)}`);
}

function bool(op, field, fallback) {
  const v = op[field];
  if (v === undefined) return fallback;
  if (typeof v !== 'boolean') throw new Error(`${field}: expected true or false, got ${JSON.stringify(v)}`);
  return v;
}

function name(op, field) {
  const v = op[field];
  if (typeof v !== 'string' || v === '') throw new Error(`${field}: expected a name, got ${JSON.stringify(v)}`);
  return v;
}

const hex = (n) => `0x${n.toString(16)}`;
const U64_MAX = (1n << 64n) - 1n;

// ---- one domain: a sorted array of disjoint nodes {lo, hi, reserved} ----------------------------
// Linear scans keep it short and obvious; a real allocator would use a balanced tree.

class Domain {
  constructor(granule, startPfn) {
    this.shift = BigInt(granule.toString(2).length - 1);
    this.start = startPfn;
    this.nodes = [];
  }

  /** Index of the node containing pfn, or -1. */
  indexOf(pfn) {
    return this.nodes.findIndex((n) => n.lo <= pfn && pfn <= n.hi);
  }

  insert(node) {
    let i = 0;
    while (i < this.nodes.length && this.nodes[i].lo < node.lo) i++;
    this.nodes.splice(i, 0, node);
    return node;
  }

  /**
   * The lowest [lo, lo + size - 1] at or above max(start_pfn, low) that ends at or below
   * limit, starts on a multiple of the next power of two >= size when aligned, and meets
   * no node. First fit, bottom-up.
   */
  alloc(size, limit, aligned, low = 0n) {
    if (size === 0n) return null;
    let align = 1n;
    if (aligned) while (align < size) align <<= 1n;
    const up = (x) => ((x + align - 1n) / align) * align;
    let cand = up(this.start > low ? this.start : low);
    for (const n of this.nodes) {
      if (cand + size - 1n > limit) return null;
      if (n.hi < cand) continue;
      if (cand + size - 1n < n.lo) break; // fits in the gap below this node
      cand = up(n.hi + 1n);
    }
    if (cand + size - 1n > limit) return null;
    return this.insert({ lo: cand, hi: cand + size - 1n, reserved: false });
  }

  free(pfn) {
    const i = this.indexOf(pfn);
    if (i >= 0) this.nodes.splice(i, 1);
  }

  /** Reserve [lo, hi]: reserved nodes it touches are merged into one; the merged node is returned. */
  reserve(lo, hi) {
    if (lo > hi || hi > U64_MAX >> this.shift) return null;
    const overlapping = this.nodes.filter((n) => n.lo <= hi && lo <= n.hi);
    if (overlapping.some((n) => !n.reserved)) throw new Error('pfn_lo: the range overlaps an allocated range (a precondition violation)');
    for (const n of overlapping) {
      if (n.lo < lo) lo = n.lo;
      if (n.hi > hi) hi = n.hi;
    }
    this.nodes = this.nodes.filter((n) => !overlapping.includes(n));
    return this.insert({ lo, hi, reserved: true });
  }
}

// ---- the ops --------------------------------------------------------------------------------------

let domains = new Map();

function domain(op) {
  const d = domains.get(name(op, 'domain'));
  if (!d) throw new Error(`domain: no IOVA domain ${JSON.stringify(op.domain)} (init_iova_domain first)`);
  return d;
}

const range = (n) => (n ? { ok: true, pfn_lo: hex(n.lo), pfn_hi: hex(n.hi) } : { ok: false, error: 'NULL' });

/** alloc_iova_fast's contract: below 32 pfns the size is rounded up to a power of two; 0 means failure, so pfn 0 is never handed out. */
function allocFast(d, size, limit) {
  let pfns = size;
  if (size < 32n) for (pfns = 1n; pfns < size; pfns <<= 1n);
  return d.alloc(pfns, limit, true, 1n);
}

const HANDLERS = {
  platform(op) {
    domains = new Map(); // "reset everything"; ncpus and the rest do not matter to a cache-less allocator
    return { ok: true };
  },
  init_iova_domain(op) {
    const n = name(op, 'name');
    const granule = num(op, 'granule');
    if (domains.has(n)) throw new Error(`name: a domain ${JSON.stringify(n)} exists already`);
    if (granule === 0n || (granule & (granule - 1n)) !== 0n) throw new Error('granule: must be a power of two');
    domains.set(n, new Domain(granule, num(op, 'start_pfn')));
    return { ok: true };
  },
  alloc_iova(op) {
    return range(domain(op).alloc(num(op, 'size'), num(op, 'limit_pfn'), bool(op, 'size_aligned', true)));
  },
  free_iova(op) {
    domain(op).free(num(op, 'pfn'));
    return { ok: true };
  },
  find_iova(op) {
    const d = domain(op);
    const i = d.indexOf(num(op, 'pfn'));
    return range(i >= 0 ? d.nodes[i] : null);
  },
  reserve_iova(op) {
    return range(domain(op).reserve(num(op, 'pfn_lo'), num(op, 'pfn_hi')));
  },
  alloc_iova_fast(op) {
    const d = domain(op);
    const size = num(op, 'size');
    const limit = num(op, 'limit_pfn');
    let node = null;
    for (let i = num(op, 'repeat', 1n); i > 0n; i--) {
      node = allocFast(d, size, limit);
      if (!node) break;
    }
    return node ? { ok: true, pfn: hex(node.lo) } : { ok: false, error: '0' };
  },
  free_iova_fast(op) {
    const d = domain(op);
    const pfn = num(op, 'pfn');
    const size = num(op, 'size');
    const times = num(op, 'repeat', 1n);
    for (let i = 0n; i < times; i++) d.free(pfn + i * size);
    return { ok: true };
  },
};

/** One request line to one result object. */
function handle(line) {
  let op;
  try {
    op = JSON.parse(line);
  } catch (e) {
    return { ok: false, error: 'EPROTO', message: `not JSON: ${e.message}` };
  }
  if (typeof op !== 'object' || op === null || !Object.hasOwn(HANDLERS, op.op)) {
    return { ok: false, error: 'EPROTO', message: `unknown op ${JSON.stringify(op && op.op)}` };
  }
  try {
    return HANDLERS[op.op](op);
  } catch (e) {
    return { ok: false, error: 'EPROTO', message: `${op.op}: ${e.message}` };
  }
}

// ---- the session: hello, then one result line per request line; exit 0 when stdin closes --------

process.stdout.write(`${JSON.stringify({ hello: { protocol: 1, implementation: 'dmaspec example: bottom-up first-fit IOVA allocator (no range caches)', ops: OPS } })}\n`);
const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
rl.on('line', (line) => {
  if (line.trim() === '') return;
  process.stdout.write(`${JSON.stringify(handle(line))}\n`);
});
rl.on('close', () => { process.exitCode = 0; });
