/**
 * Scatter-gather through an IOMMU (drivers/iommu/dma-iommu.c: iommu_dma_map_sg,
 * __finalise_sg, iommu_dma_unmap_sg and the per-entry swiotlb path; iommu.md
 * §3.8). One IOVA allocation for the whole list, laid out with the segment
 * boundary in mind, mapped run by run, then merged into as few DMA segments as
 * max_segment_size and the boundary allow.
 */
import { DMA_MAPPING_ERROR, hasAttr, type Device, type DmaAttrs, type DmaDirection } from '../dma/types';
import type { SgEntry } from '../dma/direct';
import { dma_kmalloc_needs_bounce } from '../dma/direct';
import { iommu_map_sg } from './iommu';
import type { DmaDomain } from './iommu-devices';
import {
  SKIP_CPU_SYNC, __iommu_dma_unmap, dev_is_untrusted, dma_info_to_prot, iommu_dma_alloc_iova, iommu_dma_free_iova,
  iommu_dma_map_phys, iommu_dma_sync_single_for_cpu, iommu_dma_sync_single_for_device, iommu_dma_unmap_phys, type IommuDmaEnv,
} from './dma-iommu';

const EIO = -5;
const ENOMEM = -12;
const EINVAL = -22;

/** dev_use_sg_swiotlb: untrusted devices always; kmalloc-unsafe entries on non-coherent ones. */
function dev_use_sg_swiotlb(env: IommuDmaEnv, dev: Device, sg: readonly SgEntry[], nents: number, dir: DmaDirection): boolean {
  if (dev_is_untrusted(dev)) return true;
  for (let i = 0; i < nents; i++) if (dma_kmalloc_needs_bounce(env, dev, sg[i].length, dir)) return true;
  return false;
}

/** The per-entry path: each entry mapped on its own, no merging; -EIO after unwinding on failure. */
function iommu_dma_map_sg_swiotlb(env: IommuDmaEnv, dev: Device, d: DmaDomain, sg: SgEntry[], nents: number, dir: DmaDirection, attrs: DmaAttrs, mask: bigint, linux: string): number {
  sg[0].dma_is_swiotlb = true;
  for (let i = 0; i < nents; i++) {
    const s = sg[i];
    s.dma_address = iommu_dma_map_phys(env, dev, d, s.phys, s.length, dir, attrs, mask, linux);
    if (s.dma_address === DMA_MAPPING_ERROR) {
      for (let j = 0; j < i; j++) iommu_dma_unmap_phys(env, dev, d, sg[j].dma_address, sg[j].dma_length, dir, attrs | SKIP_CPU_SYNC, linux);
      return EIO;
    }
    s.dma_length = s.length;
  }
  return nents;
}

export function iommu_dma_sync_sg_for_cpu(env: IommuDmaEnv, dev: Device, d: DmaDomain, sg: readonly SgEntry[], nents: number, dir: DmaDirection): void {
  if (sg[0]?.dma_is_swiotlb) for (let i = 0; i < nents; i++) iommu_dma_sync_single_for_cpu(env, dev, d, sg[i].dma_address, sg[i].length, dir);
  else if (!dev.dma_coherent) {
    for (let i = 0; i < nents; i++) env.arch.arch_sync_dma_for_cpu(env.cpu(), sg[i].phys, sg[i].length, dir);
    env.arch.arch_sync_dma_flush(env.cpu());
  }
}

export function iommu_dma_sync_sg_for_device(env: IommuDmaEnv, dev: Device, d: DmaDomain, sg: readonly SgEntry[], nents: number, dir: DmaDirection): void {
  if (sg[0]?.dma_is_swiotlb) for (let i = 0; i < nents; i++) iommu_dma_sync_single_for_device(env, dev, d, sg[i].dma_address, sg[i].length, dir);
  else if (!dev.dma_coherent) {
    for (let i = 0; i < nents; i++) env.arch.arch_sync_dma_for_device(env.cpu(), sg[i].phys, sg[i].length, dir);
    env.arch.arch_sync_dma_flush(env.cpu());
  }
}

/**
 * iommu_dma_map_sg: returns the number of DMA segments, or -ENOMEM / -EINVAL
 * (every other failure, as the kernel folds them). @mask is dma_get_mask(dev).
 */
export function iommu_dma_map_sg(env: IommuDmaEnv, dev: Device, d: DmaDomain, sg: SgEntry[], nents: number, dir: DmaDirection, attrs: DmaAttrs, mask: bigint, linux: string): number {
  if (dev_use_sg_swiotlb(env, dev, sg, nents, dir)) return iommu_dma_map_sg_swiotlb(env, dev, d, sg, nents, dir, attrs, mask, linux);
  if (!hasAttr(attrs, 'DMA_ATTR_SKIP_CPU_SYNC')) iommu_dma_sync_sg_for_device(env, dev, d, sg, nents, dir);
  const G = d.iovad!.granule;
  const seg_mask = dev.segment_boundary_mask;
  // Layout pass: align each entry to granules, pad the previous one where an entry would cross a boundary.
  const aligned: { phys: bigint; length: bigint }[] = [];
  const off: bigint[] = [];
  let iova_len = 0n;
  for (let i = 0; i < nents; i++) {
    const s = sg[i];
    const s_off = s.phys & (G - 1n);
    const a_len = (s.length + s_off + G - 1n) & ~(G - 1n);
    if (a_len > 0xffff_ffffn) return EINVAL; // 6.12.117: sg->length would overflow (-EOVERFLOW, folded to -EINVAL)
    const pad = (seg_mask - iova_len + 1n) & seg_mask;
    if (pad !== 0n && pad < a_len - 1n) {
      const prev = aligned[aligned.length - 1];
      if (prev.length + pad > 0xffff_ffffn) return EINVAL;
      prev.length += pad;
      iova_len += pad;
    }
    off.push(s_off);
    aligned.push({ phys: s.phys - s_off, length: a_len });
    iova_len += a_len;
  }
  if (iova_len === 0n) return __finalise_sg(dev, sg, nents, 0n, off, aligned);
  const iova = iommu_dma_alloc_iova(env, d, iova_len, mask, dev);
  if (!iova) return ENOMEM;
  const prot = dma_info_to_prot(dir, dev.dma_coherent, attrs, linux);
  const mapped = iommu_map_sg(d.domain, iova, aligned, prot);
  if (mapped < 0n || mapped < iova_len) {
    iommu_dma_free_iova(env, d, iova, iova_len, false);
    return mapped === BigInt(ENOMEM) ? ENOMEM : EINVAL;
  }
  return __finalise_sg(dev, sg, nents, iova, off, aligned, env.faults?.has('map-sg-merge-across-boundary'));
}

/** __finalise_sg: merge into output segments; the rest get DMA_MAPPING_ERROR and length 0 (iommu.md §3.8 step 6). */
function __finalise_sg(dev: Device, sg: SgEntry[], nents: number, dma_addr: bigint, off: readonly bigint[], aligned: readonly { length: bigint }[], merge_across = false): number {
  const seg_mask = dev.segment_boundary_mask;
  const max_len = dev.max_segment_size;
  let cur = -1;
  let cur_len = 0n;
  let count = 0;
  const lengths = sg.slice(0, nents).map((s) => s.length);
  for (let i = 0; i < nents; i++) {
    sg[i].dma_address = DMA_MAPPING_ERROR;
    sg[i].dma_length = 0n;
  }
  for (let i = 0; i < nents; i++) {
    const s_off = off[i];
    const s_length = lengths[i];
    const s_iova_len = aligned[i].length;
    if (cur_len !== 0n && s_off === 0n && ((dma_addr & seg_mask) !== 0n || merge_across) && max_len - cur_len >= s_length) {
      cur_len += s_length;
    } else {
      cur = cur < 0 ? 0 : cur + 1;
      cur_len = s_length;
      count++;
      sg[cur].dma_address = dma_addr + s_off;
    }
    sg[cur].dma_length = cur_len;
    dma_addr += s_iova_len;
    if (s_length + s_off < s_iova_len) cur_len = 0n;
  }
  return count;
}

/** iommu_dma_unmap_sg: one __iommu_dma_unmap over the whole IOVA range (padding included). */
export function iommu_dma_unmap_sg(env: IommuDmaEnv, dev: Device, d: DmaDomain, sg: readonly SgEntry[], nents: number, dir: DmaDirection, attrs: DmaAttrs, linux: string): void {
  if (sg[0]?.dma_is_swiotlb) {
    for (let i = 0; i < nents; i++) iommu_dma_unmap_phys(env, dev, d, sg[i].dma_address, sg[i].dma_length, dir, attrs, linux);
    return;
  }
  if (!hasAttr(attrs, 'DMA_ATTR_SKIP_CPU_SYNC')) iommu_dma_sync_sg_for_cpu(env, dev, d, sg, nents, dir);
  if (nents === 0 || sg[0].dma_length === 0n) return;
  const start = sg[0].dma_address;
  let end = 0n;
  for (let i = 0; i < nents && sg[i].dma_length !== 0n; i++) end = sg[i].dma_address + sg[i].dma_length;
  if (end) __iommu_dma_unmap(env, dev, d, start, end - start);
}
