/**
 * The black-box model behind COHERENT-DATA-TO-DEVICE / -FROM-DEVICE: the
 * buffers dma_alloc_coherent and dma_pool_alloc handed out, and per byte the
 * last value written through the buffer's own CPU address or by its own device
 * at its own DMA address (dma-api.rst Part Ia: "a write by either the device or
 * the processor can immediately be read by the processor or device"). Writes
 * from anywhere else, streaming maps over the buffer, and unmaps or syncs that
 * land on it make those bytes unknown: the claim is about the contract only.
 * model: like DataShadow it retires once a device behind an IOMMU is added.
 */
import type { OpResult } from '../ops/types';
import { ByteShadow, specBytes } from './bytes';
import { TAG_CPU, TAG_DEV } from './data-shadow';
import { PlatformShadow, toPhys } from './devices';
import type { AfterOp } from './invariant';
import { IntervalSet, type IntervalHandle } from './intervals';
import { formatData } from '../ops/data';
import { hex, isEngineRefusal, mappedBy, resultBig, syncedBy, unmappedBy } from './op-facts';
import { SweepingMap } from '../sweeping-map';

export type CoherentId = 'COHERENT-DATA-TO-DEVICE' | 'COHERENT-DATA-FROM-DEVICE';
export interface CoherentFinding {
  readonly id: CoherentId;
  readonly message: string;
}

interface Buf {
  readonly key: string;
  readonly pool: string | null;
  readonly cpu: bigint;
  readonly dma: bigint;
  readonly size: bigint;
  readonly handles: IntervalHandle<Buf>[];
  /** mapped for streaming DMA or bounced: outside the contract until freed */
  tainted: boolean;
}

const NO_KERNEL_MAPPING = 1 << 4;

export class CoherentShadow {
  private readonly dev = new PlatformShadow();
  /** expected bytes, at CPU (= physical) addresses */
  private readonly bytes = new ByteShadow();
  private readonly byCpu = new IntervalSet<Buf>();
  private readonly byDma = new Map<string, IntervalSet<Buf>>();
  private readonly byAddr = new SweepingMap<bigint, Buf>();
  private readonly pools = new Map<string, { key: string; size: bigint; blocks: Set<Buf> }>();

  private retired = false;

  observe({ op, result }: AfterOp): CoherentFinding[] {
    this.dev.observe(op, result);
    if (op.op === 'device_add' && this.dev.device(op.name)?.iommu) this.retired = true;
    if (this.retired) return [];
    if (isEngineRefusal(result)) return [];
    const out: CoherentFinding[] = [];
    switch (op.op) {
      case 'dma_alloc_coherent': {
        const cpu = resultBig(result, 'cpu_addr');
        const dma = resultBig(result, 'dma_addr');
        if (cpu === undefined || dma === undefined) break;
        this.add(this.dev.key(op.dev), null, cpu, dma, op.size);
        // dma_alloc_coherent returns zeroed memory, unless there is no kernel mapping to zero it through.
        if (((op.attrs ?? 0) & NO_KERNEL_MAPPING) === 0) this.bytes.fill(cpu, Number(op.size), 0, TAG_CPU);
        break;
      }
      case 'dma_free_coherent':
        this.drop(this.byAddr.get(op.cpu_addr));
        break;
      case 'dma_pool_create':
        if (result.ok) this.pools.set(op.name, { key: this.dev.key(op.dev), size: op.size, blocks: new Set() });
        break;
      case 'dma_pool_alloc': {
        const cpu = resultBig(result, 'cpu_addr');
        const dma = resultBig(result, 'dma_addr');
        const pl = this.pools.get(op.pool);
        if (cpu !== undefined && dma !== undefined && pl) pl.blocks.add(this.add(pl.key, op.pool, cpu, dma, pl.size));
        break;
      }
      case 'dma_pool_free':
        this.drop(this.byAddr.get(op.cpu_addr));
        break;
      case 'dma_pool_destroy':
        for (const b of this.pools.get(op.pool)?.blocks ?? []) this.drop(b);
        this.pools.delete(op.pool);
        break;
      case 'cpu_write':
        this.cpuWrite(op.phys, specBytes(op.data));
        break;
      case 'device_write':
        if (result.ok) this.deviceWrite(op.dev, op.dma_addr, specBytes(op.data));
        break;
      case 'device_read':
        if (result.ok) this.check(this.deviceView(op.dev, op.dma_addr, op.size), TAG_CPU, 'COHERENT-DATA-TO-DEVICE', `device_read by "${op.dev}" at ${hex(op.dma_addr)}`, result, out);
        break;
      case 'cpu_read':
        if (result.ok) this.check(this.cpuView(op.phys, op.size), TAG_DEV, 'COHERENT-DATA-FROM-DEVICE', `cpu_read at ${hex(op.phys)}`, result, out);
        break;
      case 'swiotlb_tbl_map_single':
        this.taint(op.phys, op.size);
        break;
      default:
    }
    // Streaming use of coherent memory is outside the contract; so is an unmap or sync landing on it.
    for (const m of mappedBy(op, result)) this.taint(m.phys, m.size);
    for (const u of unmappedBy(op)) this.forgetCpu(toPhys(this.dev.device(u.dev), u.dma), u.size);
    for (const s of syncedBy(op)) this.forgetCpu(toPhys(this.dev.device(s.dev), s.dma), s.size);
    return out;
  }

  private add(key: string, pool: string | null, cpu: bigint, dma: bigint, size: bigint): Buf {
    this.drop(this.byAddr.get(cpu));
    let set = this.byDma.get(key);
    if (!set) this.byDma.set(key, (set = new IntervalSet()));
    const b: Buf = { key, pool, cpu, dma, size, handles: [], tainted: false };
    b.handles.push(this.byCpu.insert(cpu, cpu + size, b), set.insert(dma, dma + size, b));
    this.byAddr.set(cpu, b);
    this.bytes.forget(cpu, size);
    return b;
  }

  private drop(b: Buf | undefined): void {
    if (!b || this.byAddr.get(b.cpu) !== b) return;
    if (b.pool !== null) this.pools.get(b.pool)?.blocks.delete(b);
    this.byCpu.remove(b.handles[0]);
    this.byDma.get(b.key)?.remove(b.handles[1]);
    this.byAddr.delete(b.cpu);
    this.bytes.forget(b.cpu, b.size);
  }

  private taint(phys: bigint, size: bigint): void {
    if (size <= 0n) return;
    for (const b of this.byCpu.overlapping(phys, phys + size)) {
      b.tainted = true;
      this.bytes.forget(b.cpu, b.size);
    }
  }

  private forgetCpu(phys: bigint, size: bigint): void {
    if (size <= 0n) return;
    for (const b of this.byCpu.overlapping(phys, phys + size)) this.bytes.forget(b.cpu, b.size);
  }

  private cpuWrite(phys: bigint, data: Uint8Array): void {
    const end = phys + BigInt(data.length);
    for (const b of this.byCpu.overlapping(phys, end)) {
      const lo = b.cpu > phys ? b.cpu : phys;
      const hi = b.cpu + b.size < end ? b.cpu + b.size : end;
      if (!b.tainted) this.bytes.set(lo, data.subarray(Number(lo - phys), Number(hi - phys)), TAG_CPU);
    }
  }

  private deviceWrite(dev: string, dma: bigint, data: Uint8Array): void {
    const x = toPhys(this.dev.device(dev), dma);
    const len = BigInt(data.length);
    const key = this.dev.key(dev);
    for (const b of this.byCpu.overlapping(x, x + len)) {
      const lo = b.cpu > x ? b.cpu : x;
      const hi = b.cpu + b.size < x + len ? b.cpu + b.size : x + len;
      // Only the owner writing through the buffer's own DMA address is covered.
      if (b.key === key && b.dma - b.cpu === dma - x && !b.tainted) this.bytes.set(lo, data.subarray(Number(lo - x), Number(hi - x)), TAG_DEV);
      else this.bytes.forget(lo, hi - lo);
    }
  }

  /** Expected bytes of a device read, for the parts inside the device's own buffers. */
  private deviceView(dev: string, dma: bigint, size: bigint): { val: Uint8Array; tag: Uint8Array } {
    const val = new Uint8Array(Number(size));
    const tag = new Uint8Array(Number(size));
    for (const b of this.byDma.get(this.dev.key(dev))?.overlapping(dma, dma + size) ?? []) {
      const lo = b.dma > dma ? b.dma : dma;
      const hi = b.dma + b.size < dma + size ? b.dma + b.size : dma + size;
      const e = this.bytes.get(b.cpu + (lo - b.dma), Number(hi - lo));
      val.set(e.val, Number(lo - dma));
      tag.set(e.tag, Number(lo - dma));
    }
    return { val, tag };
  }

  private cpuView(phys: bigint, size: bigint): { val: Uint8Array; tag: Uint8Array } {
    const val = new Uint8Array(Number(size));
    const tag = new Uint8Array(Number(size));
    for (const b of this.byCpu.overlapping(phys, phys + size)) {
      const lo = b.cpu > phys ? b.cpu : phys;
      const hi = b.cpu + b.size < phys + size ? b.cpu + b.size : phys + size;
      const e = this.bytes.get(lo, Number(hi - lo));
      val.set(e.val, Number(lo - phys));
      tag.set(e.tag, Number(lo - phys));
    }
    return { val, tag };
  }

  /** Compares the bytes tagged `tag` (hex: each; digest: only when all are). */
  private check(exp: { val: Uint8Array; tag: Uint8Array }, tag: number, id: CoherentId, what: string, r: OpResult, out: CoherentFinding[]): void {
    if (!r.ok || typeof r.values.data !== 'string') return;
    const got = r.values.data;
    if (got.includes('sha256:')) {
      if (exp.tag.every((t) => t === tag) && formatData(exp.val) !== got) out.push({ id, message: `${what}: read ${got}, expected ${formatData(exp.val)}` });
      return;
    }
    const bytes = Buffer.from(got, 'hex');
    for (let k = 0; k < exp.val.length && k < bytes.length; k++) {
      if (exp.tag[k] === tag && bytes[k] !== exp.val[k]) {
        out.push({ id, message: `${what}: byte ${k} is ${hex(BigInt(bytes[k]!))}, expected ${hex(BigInt(exp.val[k]!))}` });
        return;
      }
    }
  }
}
