/**
 * Coherent allocations and dma pools at the API boundary (kernel/dma/mapping.c
 * dma_alloc_attrs / dma_free_attrs; mm/dmapool.c): argument and context checks,
 * the backend, then the dma-debug hook.
 */
import { dma_direct_alloc, dma_direct_free, type CoherentAllocation } from './coherent';
import { DmaPool } from './dmapool';
import { iommu_dma_alloc, iommu_dma_free } from '../iommu/dma-iommu-alloc';
import type { CallContext, Device, DmaAttrs } from './types';
import type { Platform } from '../platform';

/** Calls that may sleep (R4, H13): not from atomic context or with interrupts off. */
function might_sleep(p: Platform, dev: Device, ctx: CallContext, what: string, rule: string): void {
  if (ctx !== 'process') p.warn.warn('context', 'CONTEXT_MAY_NOT_SLEEP', `${what} may sleep but was called in ${ctx} context (${rule})`, dev.name);
}

/** dma_alloc_attrs on the direct path: the allocation, or null. */
export function dma_alloc_attrs(p: Platform, dev: Device, size: bigint, attrs: DmaAttrs): CoherentAllocation | null {
  if (dev.coherent_dma_mask === 0n) p.warn.warn('kernel', 'WARN_NO_COHERENT_MASK', 'WARN_ON_ONCE(!dev->coherent_dma_mask)', dev.name);
  const d = p.iommu.usesDmaIommu(dev) ? p.iommu.domainOf(dev) : undefined;
  const alloc = d ? iommu_dma_alloc(p, dev, d, size, attrs) : dma_direct_alloc(p.coherentEnv(), dev, size, attrs);
  if (!alloc) return null;
  p.coherent.set(alloc.cpu_addr, { dev: dev.name, alloc });
  p.debug?.debug_dma_alloc_coherent(dev, size, alloc.dma_addr, alloc.cpu_addr, attrs, p.swiotlb !== null && p.swiotlb.nslabs > 0);
  return alloc;
}

/**
 * dma_free_attrs. R2: interrupts must be enabled (the kernel WARNs); H12: not
 * from interrupt context. model: a cpu_addr that is no live allocation of this
 * device is reported by dma-debug and not passed on — the kernel would corrupt
 * its page allocator, the model refuses to.
 */
export function dma_free_attrs(p: Platform, dev: Device, size: bigint, cpu_addr: bigint, dma_addr: bigint, attrs: DmaAttrs, ctx: CallContext): void {
  if (ctx === 'irqs_disabled') p.warn.warn('kernel', 'WARN_FREE_IRQS_DISABLED', 'WARN_ON(irqs_disabled()) in dma_free_attrs (R2)', dev.name);
  else if (ctx === 'atomic') p.warn.warn('context', 'CONTEXT_FREE_IN_INTERRUPT', 'dma_free_coherent must not be called in interrupt context (H12)', dev.name);
  if (cpu_addr === 0n) return;
  p.debug?.debug_dma_free_coherent(dev, size, cpu_addr, dma_addr, attrs);
  const live = p.coherent.get(cpu_addr);
  if (!live || live.dev !== dev.name) {
    p.warn.warn('model', 'MODEL_FREE_UNKNOWN_BUFFER', `dma_free_coherent of 0x${cpu_addr.toString(16)}, which is no live allocation of this device: not freed`, dev.name);
    return;
  }
  p.coherent.delete(cpu_addr);
  const d = p.iommu.usesDmaIommu(dev) ? p.iommu.domainOf(dev) : undefined;
  if (d) iommu_dma_free(p, dev, d, live.alloc);
  else dma_direct_free(p.coherentEnv(), dev, live.alloc, attrs);
}

export function dma_pool_create(p: Platform, dev: Device, name: string, size: bigint, align: bigint, boundary: bigint, ctx: CallContext): DmaPool | null {
  might_sleep(p, dev, ctx, 'dma_pool_create', 'R4');
  const backend = {
    alloc: (sz: bigint) => dma_alloc_attrs(p, dev, sz, 0),
    free: (sz: bigint, cpu_addr: bigint, dma_addr: bigint) => dma_free_attrs(p, dev, sz, cpu_addr, dma_addr, 0, 'process'),
  };
  return DmaPool.create(name, dev, size, align, boundary, p.config.page_size, backend, p.warn, { dmapool_debug: p.config.dmapool_debug ?? false });
}

export function dma_pool_destroy(p: Platform, pool: DmaPool, ctx: CallContext): void {
  might_sleep(p, pool.dev, ctx, 'dma_pool_destroy', 'R4, H13');
  pool.destroy();
}
