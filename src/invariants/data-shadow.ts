/**
 * The black-box data model behind VIS-1, VIS-2 and VIS-4 (dma-core.md §5.1,
 * §5.4): what a driver that follows the ownership rules may expect to read.
 *
 * It keeps, from the op stream only, (a) the bytes the CPU should see (`mem`,
 * tagged with where each value came from), and (b) every live streaming
 * mapping with its owner (CPU or device) and the bytes the device wrote during
 * its current ownership. A mapping whose contract is broken is "tainted": no
 * claim is made about it, and when it is handed back its buffer becomes unknown.
 * Broken contract means any of: SKIP_CPU_SYNC on map; a CPU write to any cache
 * line of the buffer while the device owns it (VIS-3.1); a device write to a
 * buffer it does not own or may not write; a sync of part of a mapping or in
 * another direction; an unmap with another size or direction; a dma-debug or
 * kernel warning on the call; dma_set_mask while the device has mappings
 * (dma_setup_need_sync may then skip the syncs, §2.5).
 *
 * model: devices behind an IOMMU are not modelled here yet (their addresses are
 * IOVAs and dma-iommu merges sg entries): once one is added the shadow retires
 * and makes no further claim.
 *
 * The only platform fact it reads is the swiotlb pool's bounds, which the
 * swiotlb_info probe reports; pool bytes are never "expected" (the kernel owns them).
 * Per op it costs O(size of the op + mappings it meets), through IntervalSet.
 */
import type { DmaDirection } from '../dma/types';
import { formatData } from '../ops/data';
import type { OpResult } from '../ops/types';
import { ByteShadow, specBytes } from './bytes';
import { PlatformShadow, toPhys } from './devices';
import type { AfterOp } from './invariant';
import { IntervalSet, type IntervalHandle } from './intervals';
import { MMIO, REQUIRE_COHERENT, SKIP_CPU_SYNC, hex, isEngineRefusal, mappedBy, resultBig, syncedBy, unmappedBy, type MapFact } from './op-facts';
import { SweepingMap } from '../sweeping-map';

/** Where an expected byte came from: the finding is charged to the invariant that promises it. */
export const TAG_CPU = 1;
export const TAG_DEV = 2;
export const TAG_PRE = 3;

export type VisId = 'VIS-TO-DEVICE' | 'VIS-FROM-DEVICE' | 'VIS-BOUNCE-TRANSPARENT' | 'VIS-CPU-BYTES-KEPT';
export interface Finding {
  readonly id: VisId;
  readonly message: string;
}

const U64_MAX = (1n << 64n) - 1n;
const NO_KERNEL_MAPPING = 1 << 4;
/** dma-debug findings that say nothing about the data: the driver skipped dma_mapping_error. */
const BENIGN = new Set(['DEBUG_MAP_ERROR_NOT_CHECKED']);

interface Mapping {
  readonly dev: string;
  readonly key: string;
  readonly dma: bigint;
  readonly size: bigint;
  readonly phys: bigint;
  /** where the device's accesses land: phys, or the bounce slot */
  readonly devPhys: bigint;
  readonly dir: DmaDirection;
  /** resources and MMIO: not memory the CPU caches */
  readonly opaque: boolean;
  owner: 'cpu' | 'device';
  tainted: boolean;
  /** FROM_DEVICE cycle after the CPU wrote the buffer: untouched bytes may come back from the bounce */
  preUnknown: boolean;
  /** the CPU wrote the buffer since it last got it back */
  cpuWrote: boolean;
  /** device writes of this ownership, at their CPU address */
  devWritten: ByteShadow;
  handles: IntervalHandle<Mapping>[];
}

const writable = (m: Mapping): boolean => m.dir !== 'DMA_TO_DEVICE';
const bounced = (m: Mapping): boolean => m.devPhys !== m.phys;

export class DataShadow {
  private readonly dev = new PlatformShadow();
  private readonly mem = new ByteShadow();
  private readonly byDma = new Map<string, IntervalSet<Mapping>>();
  private readonly byDevPhys = new IntervalSet<Mapping>();
  /** buffer and bounce ranges widened to whole cache lines */
  private readonly byLines = new IntervalSet<Mapping>();
  private readonly exact = new SweepingMap<string, Mapping[]>();
  /** swiotlb_tbl_map_single results: tlb → orig range, for the copy back at swiotlb_tbl_unmap_single */
  private readonly raw = new SweepingMap<bigint, { orig: bigint; size: bigint }>();
  /** dma_pool name → bytes of one backing allocation, rounded to its page order */
  private readonly pools = new Map<string, { region: bigint; block: bigint }>();
  private pool: { start: bigint; end: bigint } | null = null;
  private retired = false;

  observe({ op, result, platform }: AfterOp): Finding[] {
    this.dev.observe(op, result);
    if (op.op === 'device_add' && this.dev.device(op.name)?.iommu) this.retired = true;
    if (this.retired) return [];
    if (op.op === 'platform') this.pool = platform.swiotlb ? { start: platform.swiotlb.start, end: platform.swiotlb.end } : null;
    if (isEngineRefusal(result)) return [];
    const suspicious = result.warnings.some((w) => (w.source === 'dma-debug' && !BENIGN.has(w.code)) || w.source === 'kernel');
    const out: Finding[] = [];
    switch (op.op) {
      case 'cpu_write': {
        const data = specBytes(op.data);
        this.memSet(op.phys, data, TAG_CPU);
        this.cpuWrote(op.phys, BigInt(data.length), null);
        break;
      }
      case 'cpu_read':
        if (result.ok) this.checkCpuRead(op.phys, op.size, result, out);
        break;
      case 'device_write':
        if (result.ok) this.deviceWrite(op.dev, op.dma_addr, specBytes(op.data));
        break;
      case 'device_read':
        if (result.ok) this.checkDeviceRead(op.dev, op.dma_addr, op.size, result, out);
        break;
      case 'dma_set_mask': case 'dma_set_mask_and_coherent':
        if (result.ok) for (const m of this.byDma.get(this.dev.key(op.dev))?.overlapping(0n, U64_MAX) ?? []) m.tainted = true;
        break;
      case 'dma_alloc_coherent': {
        const cpu = resultBig(result, 'cpu_addr');
        if (cpu === undefined) break;
        const len = this.pageAlign(op.size);
        this.mem.forget(cpu, len);
        if (((op.attrs ?? 0) & NO_KERNEL_MAPPING) === 0) this.mem.fill(cpu, Number(op.size), 0, TAG_CPU);
        this.cpuWrote(cpu, len, null);
        break;
      }
      case 'dma_free_coherent':
        this.mem.forget(op.cpu_addr, this.pageAlign(op.size));
        break;
      case 'dma_pool_create': {
        const align = (op.align ?? 0n) || 1n;
        const block = (((op.size < 16n ? 16n : op.size) + align - 1n) / align) * align;
        const ps = this.dev.platform.page_size;
        let region = ps;
        while (region < (block > ps ? block : ps)) region <<= 1n;
        this.pools.set(op.name, { region, block });
        break;
      }
      case 'dma_pool_alloc': {
        // A new backing page may have been allocated and zeroed around the block.
        const cpu = resultBig(result, 'cpu_addr');
        const pl = this.pools.get(op.pool);
        if (cpu === undefined || !pl) break;
        const base = cpu - (cpu % pl.region);
        this.mem.forget(base, pl.region);
        this.cpuWrote(base, pl.region, null);
        break;
      }
      case 'dma_pool_free':
        this.mem.forget(op.cpu_addr, this.pools.get(op.pool)?.block ?? 1n);
        break;
      case 'swiotlb_tbl_map_single': {
        const tlb = resultBig(result, 'tlb_addr');
        if (tlb !== undefined) this.raw.set(tlb, { orig: op.phys, size: op.size });
        break;
      }
      case 'swiotlb_tbl_unmap_single': {
        const r = this.raw.get(op.tlb_addr);
        const back = ((op.attrs ?? 0) & SKIP_CPU_SYNC) === 0 && op.dir !== 'DMA_TO_DEVICE';
        if (r) {
          this.raw.delete(op.tlb_addr);
          if (back) this.copiedBack(r.orig, r.size, null);
        } else this.strayAccess(op.tlb_addr, op.size, back);
        break;
      }
      default:
    }
    for (const m of mappedBy(op, result)) this.map(m, suspicious);
    for (const u of unmappedBy(op)) this.unmap(u.dev, u.kind === 'resource', u.dma, u.size, u.dir, u.attrs, suspicious);
    for (const s of syncedBy(op)) this.sync(s.dev, s.dma, s.size, s.dir, s.toCpu, suspicious);
    return out;
  }

  // ---- mappings ----

  private map(f: MapFact, suspicious: boolean): void {
    const d = this.dev.device(f.dev);
    const opaque = f.kind === 'resource' || (f.attrs & MMIO) !== 0 || f.size <= 0n;
    const devPhys = opaque ? f.phys : toPhys(d, f.dma);
    const m: Mapping = {
      dev: f.dev, key: this.dev.key(f.dev), dma: f.dma, size: f.size, phys: f.phys, devPhys, dir: f.dir, opaque,
      owner: 'device', tainted: suspicious || (f.attrs & SKIP_CPU_SYNC) !== 0 || devPhys === U64_MAX,
      preUnknown: false, cpuWrote: false, devWritten: new ByteShadow(), handles: [],
    };
    this.conflictsAtHandoff(m);
    let set = this.byDma.get(m.key);
    if (!set) this.byDma.set(m.key, (set = new IntervalSet()));
    m.handles.push(set.insert(m.dma, m.dma + m.size, m), this.byDevPhys.insert(m.devPhys, m.devPhys + m.size, m));
    const [a, b] = this.lines(m.phys, m.size);
    m.handles.push(this.byLines.insert(a, b, m));
    if (bounced(m)) {
      const [c, e] = this.lines(m.devPhys, m.size);
      m.handles.push(this.byLines.insert(c, e, m));
    }
    const k = `${m.key}:${m.dma}`;
    this.exact.set(k, [...(this.exact.get(k) ?? []), m]);
  }

  private remove(m: Mapping): void {
    this.byDma.get(m.key)?.remove(m.handles[0]);
    this.byDevPhys.remove(m.handles[1]);
    for (const h of m.handles.slice(2)) this.byLines.remove(h);
    const k = `${m.key}:${m.dma}`;
    const rest = (this.exact.get(k) ?? []).filter((x) => x !== m);
    if (rest.length) this.exact.set(k, rest);
    else this.exact.delete(k);
  }

  private unmap(dev: string, resource: boolean, dma: bigint, size: bigint, dir: DmaDirection, attrs: number, suspicious: boolean): void {
    const cands = this.exact.get(`${this.dev.key(dev)}:${dma}`) ?? [];
    const m = cands.find((x) => x.size === size && x.dir === dir) ?? cands[0];
    // dma_direct_unmap_phys returns at once for these, as it does for resources (§3.4 [U]).
    const noSync = (attrs & (SKIP_CPU_SYNC | MMIO | REQUIRE_COHERENT)) !== 0 || resource;
    if (!m) {
      if (!resource) this.strayAccess(toPhys(this.dev.device(dev), dma), size, !noSync && dir !== 'DMA_TO_DEVICE');
      return;
    }
    if (suspicious || size !== m.size || dir !== m.dir) m.tainted = true;
    if (m.opaque) {
      if (!noSync) this.strayAccess(m.phys, size, dir !== 'DMA_TO_DEVICE');
    } else if (m.tainted || noSync) {
      if (writable(m) || dir !== 'DMA_TO_DEVICE') this.copiedBack(m.phys, m.size > size ? m.size : size, m);
    } else this.handBack(m);
    this.remove(m);
  }

  private sync(dev: string, dma: bigint, size: bigint, dir: DmaDirection, toCpu: boolean, suspicious: boolean): void {
    const set = this.byDma.get(this.dev.key(dev));
    const m = set?.overlapping(dma, dma + size).find((x) => x.dma <= dma && dma + size <= x.dma + x.size);
    if (!m) {
      this.strayAccess(toPhys(this.dev.device(dev), dma), size, toCpu && dir !== 'DMA_TO_DEVICE');
      return;
    }
    const whole = dma === m.dma && size === m.size && dir === m.dir && !m.opaque;
    if (!whole || suspicious) {
      m.tainted = true;
      if (toCpu && dir !== 'DMA_TO_DEVICE') this.copiedBack(m.phys, m.size, m);
      return;
    }
    if (toCpu) this.handBack(m);
    else this.handToDevice(m);
  }

  /** sync_for_device of the whole mapping (§5.1): a new device ownership starts. */
  private handToDevice(m: Mapping): void {
    if (m.owner === 'device') {
      // A bounced BIDI buffer is copied orig → bounce again, over what the device wrote.
      if (m.dir === 'DMA_BIDIRECTIONAL' && !m.devWritten.empty) m.tainted = true;
      return;
    }
    m.owner = 'device';
    m.tainted = false;
    m.preUnknown = m.dir === 'DMA_FROM_DEVICE' && m.cpuWrote;
    m.cpuWrote = false;
    m.devWritten = new ByteShadow();
    this.conflictsAtHandoff(m);
  }

  /** sync_for_cpu or unmap of the whole mapping, without SKIP_CPU_SYNC. */
  private handBack(m: Mapping): void {
    if (m.owner === 'cpu') {
      // A second hand-back copies the bounce again / invalidates again, over what the CPU wrote since.
      if (writable(m) && (m.cpuWrote || m.tainted)) this.copiedBack(m.phys, m.size, m);
      return;
    }
    m.owner = 'cpu';
    if (writable(m)) {
      if (m.tainted || m.preUnknown) this.mem.forget(m.phys, m.size);
      else this.mem.retag(m.phys, Number(m.size), TAG_PRE);
      // Nothing written by the device: the overlay would copy nothing (skipped, not a full-size scan).
      if (!m.tainted && !m.devWritten.empty) this.mem.overlay(m.phys, m.devWritten.get(m.phys, Number(m.size)));
      this.excludePool(m.phys, m.size);
      if (bounced(m)) this.cpuWrote(m.phys, m.size, m);
    }
    m.cpuWrote = false;
    m.devWritten = new ByteShadow();
  }

  /** A buffer may have been overwritten by a copy back or lost to an invalidate: unknown from now. */
  private copiedBack(phys: bigint, size: bigint, self: Mapping | null): void {
    this.mem.forget(phys, size);
    this.cpuWrote(phys, size, self);
  }

  /**
   * An unmap or sync of an address no live mapping of the device holds: the
   * mappings whose memory it lands on are in doubt (a bounce may be copied back
   * or released), and with a copy back or invalidate so are the bytes there.
   */
  private strayAccess(phys: bigint, size: bigint, copyBack: boolean): void {
    if (phys === U64_MAX || size <= 0n) return;
    for (const m of this.byDevPhys.overlapping(phys, phys + size)) {
      m.tainted = true;
      if (copyBack) this.copiedBack(m.phys, m.size, m);
    }
    if (copyBack) this.mem.forget(phys, size);
  }

  /** Handing m to the device while another device-owned mapping may write the same memory. */
  private conflictsAtHandoff(m: Mapping): void {
    for (const o of this.byDevPhys.overlapping(m.phys, m.phys + m.size)) {
      if (o !== m && o.owner === 'device' && (writable(o) || !o.devWritten.empty)) m.tainted = true;
    }
  }

  /** The CPU (or a memcpy on its behalf) wrote [phys, +size): VIS-3.1 for device-owned neighbours. */
  private cpuWrote(phys: bigint, size: bigint, self: Mapping | null): void {
    const [a, b] = this.lines(phys, size);
    for (const m of this.byLines.overlapping(a, b)) {
      if (m === self) continue;
      if (m.owner === 'device') m.tainted = true;
      else if (m.phys < phys + size && phys < m.phys + m.size) m.cpuWrote = true;
    }
  }

  // ---- device accesses ----

  private deviceWrite(dev: string, dma: bigint, data: Uint8Array): void {
    const x = toPhys(this.dev.device(dev), dma);
    if (x === U64_MAX) return;
    const len = BigInt(data.length);
    const legit = new Set<Mapping>();
    const covered: [bigint, bigint][] = [];
    for (const m of this.byDma.get(this.dev.key(dev))?.overlapping(dma, dma + len) ?? []) {
      if (m.opaque || m.owner !== 'device' || m.tainted || !writable(m)) {
        m.tainted = true;
        continue;
      }
      const lo = m.dma > dma ? m.dma : dma;
      const hi = m.dma + m.size < dma + len ? m.dma + m.size : dma + len;
      m.devWritten.set(m.phys + (lo - m.dma), data.subarray(Number(lo - dma), Number(hi - dma)), TAG_DEV);
      legit.add(m);
      covered.push([lo - dma, hi - dma]);
    }
    for (const m of this.byDevPhys.overlapping(x, x + len)) if (!legit.has(m)) m.tainted = true;
    // Bytes no legitimate mapping took are memory the device scribbled on.
    covered.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    let at = 0n;
    for (const [lo, hi] of [...covered, [len, len] as [bigint, bigint]]) {
      if (lo > at) this.mem.forget(x + at, lo - at);
      if (hi > at) at = hi;
    }
  }

  private checkDeviceRead(dev: string, dma: bigint, size: bigint, r: OpResult, out: Finding[]): void {
    const want = new Uint8Array(Number(size));
    const known = new Uint8Array(Number(size));
    for (const m of this.byDma.get(this.dev.key(dev))?.overlapping(dma, dma + size) ?? []) {
      if (m.opaque || m.owner !== 'device' || m.tainted || m.dir === 'DMA_FROM_DEVICE') continue;
      const lo = m.dma > dma ? m.dma : dma;
      const hi = m.dma + m.size < dma + size ? m.dma + m.size : dma + size;
      const n = Number(hi - lo);
      const base = m.phys + (lo - m.dma);
      const mem = this.inPool(base, BigInt(n)) ? { val: new Uint8Array(n), tag: new Uint8Array(n) } : this.mem.get(base, n);
      const dw = m.devWritten.get(base, n);
      for (let i = 0; i < n; i++) {
        const k = Number(lo - dma) + i;
        const [t, v] = dw.tag[i] ? [TAG_DEV, dw.val[i]] : [mem.tag[i], mem.val[i]];
        if (!t) continue;
        // Two mappings disagreeing about one byte: make no claim.
        if (known[k] && want[k] !== v) known[k] = 2;
        else if (!known[k]) { known[k] = 1; want[k] = v; }
      }
    }
    compare(r, want, (k) => known[k] === 1, () => 'VIS-TO-DEVICE', `device_read by "${dev}" at ${hex(dma)}`, out);
  }

  private checkCpuRead(phys: bigint, size: bigint, r: OpResult, out: Finding[]): void {
    const exp = this.mem.get(phys, Number(size));
    if (!exp.tag.some((t) => t !== 0)) return;
    const [a, b] = this.lines(phys, size);
    for (const m of this.byLines.overlapping(a, b)) {
      if (m.owner !== 'device') continue;
      // The device owns these bytes: the CPU may not expect current data (§5.1).
      for (const [s, n] of [[m.phys, m.size], [m.devPhys, m.size]] as const) {
        const lo = s > phys ? s : phys;
        const hi = s + n < phys + size ? s + n : phys + size;
        if (lo < hi) exp.tag.fill(0, Number(lo - phys), Number(hi - phys));
      }
    }
    const ids: Record<number, VisId> = { [TAG_CPU]: 'VIS-CPU-BYTES-KEPT', [TAG_DEV]: 'VIS-FROM-DEVICE', [TAG_PRE]: 'VIS-BOUNCE-TRANSPARENT' };
    compare(r, exp.val, (k) => exp.tag[k] !== 0, (k) => ids[exp.tag[k]!]!, `cpu_read at ${hex(phys)}`, out);
  }

  // ---- helpers ----

  private memSet(addr: bigint, data: Uint8Array, tag: number): void {
    this.mem.set(addr, data, tag);
    this.excludePool(addr, BigInt(data.length));
  }

  private excludePool(addr: bigint, len: bigint): void {
    const p = this.pool;
    if (p && addr < p.end && p.start < addr + len) this.mem.forget(p.start, p.end - p.start);
  }

  private inPool(addr: bigint, len: bigint): boolean {
    const p = this.pool;
    return p !== null && addr < p.end && p.start < addr + len;
  }

  private lines(addr: bigint, size: bigint): [bigint, bigint] {
    const ls = this.dev.platform.cache_line;
    const a = addr - (addr % ls);
    const end = addr + (size > 0n ? size : 1n);
    return [a, end % ls === 0n ? end : end + ls - (end % ls)];
  }

  private pageAlign(size: bigint): bigint {
    const ps = this.dev.platform.page_size;
    return ((size + ps - 1n) / ps) * ps;
  }
}

/**
 * Compares a read's data with the expected bytes where `known`. Hex results
 * are compared byte by byte; a digest (reads over 64 bytes) only when every byte is known.
 */
function compare(r: OpResult, want: Uint8Array, known: (k: number) => boolean, id: (k: number) => VisId, what: string, out: Finding[]): void {
  if (!r.ok || typeof r.values.data !== 'string') return;
  const got = r.values.data;
  if (got.includes('sha256:')) {
    for (let k = 0; k < want.length; k++) if (!known(k)) return;
    if (formatData(want) !== got) out.push({ id: id(0), message: `${what}: read ${got}, expected ${formatData(want)}` });
    return;
  }
  const bytes = Buffer.from(got, 'hex');
  const seen = new Set<VisId>();
  for (let k = 0; k < want.length && k < bytes.length; k++) {
    if (!known(k) || bytes[k] === want[k]) continue;
    const i = id(k);
    if (seen.has(i)) continue;
    seen.add(i);
    out.push({ id: i, message: `${what}: byte ${k} is ${hex(BigInt(bytes[k]!))}, expected ${hex(BigInt(want[k]!))}` });
  }
}
