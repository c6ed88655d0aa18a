/**
 * Coherent allocations through an IOMMU (dma-iommu.c: iommu_dma_alloc /
 * iommu_dma_free; iommu.md §3.10): pages from anywhere in RAM, one IOVA under
 * the coherent mask, mapped READ|WRITE.
 * model: always the contiguous path (__iommu_dma_map of one buffer), as for
 * DMA_ATTR_FORCE_CONTIGUOUS or atomic callers; the kernel's blocking path maps
 * scattered pages with iommu_map_sg instead — the IOVA it picks is the same.
 */
import type { CoherentAllocation } from '../dma/coherent';
import { U64_MAX, type Device, type DmaAttrs } from '../dma/types';
import type { PageAllocator } from '../mm/page-alloc';
import { DMA_MAPPING_ERROR } from '../dma/types';
import { __iommu_dma_map, __iommu_dma_unmap, dma_info_to_prot, type IommuDmaEnv } from './dma-iommu';
import type { DmaDomain } from './iommu-devices';

export interface IommuAllocEnv extends IommuDmaEnv {
  readonly pages: PageAllocator;
  readonly linux: string;
}

export function iommu_dma_alloc(env: IommuAllocEnv, dev: Device, d: DmaDomain, size: bigint, attrs: DmaAttrs): CoherentAllocation | null {
  const page = env.page_size;
  const sz = ((size + page - 1n) / page) * page;
  const order = env.pages.get_order(sz);
  const phys = env.pages.alloc_pages(order, U64_MAX);
  if (phys === null) return null;
  if (!dev.dma_coherent) {
    env.arch.arch_dma_prep_coherent(phys, sz);
    env.cache.setUncached(phys, sz, true);
  }
  env.cache.write(phys, new Uint8Array(Number(sz)));
  const prot = dma_info_to_prot('DMA_BIDIRECTIONAL', dev.dma_coherent, attrs, env.linux);
  const dma_addr = __iommu_dma_map(env, dev, d, phys, sz, prot, dev.coherent_dma_mask);
  if (dma_addr === DMA_MAPPING_ERROR) {
    if (!dev.dma_coherent) env.cache.setUncached(phys, sz, false);
    env.pages.free_pages(phys, order);
    return null;
  }
  return { cpu_addr: phys, dma_addr, size: sz, order };
}

export function iommu_dma_free(env: IommuAllocEnv, dev: Device, d: DmaDomain, alloc: CoherentAllocation): void {
  __iommu_dma_unmap(env, dev, d, alloc.dma_addr, alloc.size);
  if (!dev.dma_coherent) env.cache.setUncached(alloc.cpu_addr, alloc.size, false);
  env.pages.free_pages(alloc.cpu_addr, alloc.order);
}
