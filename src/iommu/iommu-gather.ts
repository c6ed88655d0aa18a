/**
 * The pure parts of struct iommu_iotlb_gather handling (include/linux/iommu.h [6.12]):
 * reset, the disjointness test and range widening. iommu_iotlb_gather_add_page, which may sync,
 * lives in iommu.ts because a sync needs the domain. iommu.md §4.6.
 */

import type { IotlbGather } from './io-pgtable';
import { U64_MAX } from './iommu-pgsize';

/**
 * iommu_iotlb_gather_init() - reset a gather to "nothing recorded".
 * @gather: the gather, changed in place (callers hold references to it)
 *
 * The kernel rebuilds the whole struct, so `queued` goes back to false too; a queued gather
 * that had to be synced early (only a 6.12 block split records into one) continues as strict.
 */
export function iommu_iotlb_gather_init(gather: IotlbGather): void {
  gather.start = U64_MAX;
  gather.end = 0n;
  gather.pgsize = 0n;
  gather.queued = false;
}

/** iommu_iotlb_gather_queued(): a flush-queue (lazy) gather, in which the format records nothing. */
export const iommu_iotlb_gather_queued = (gather: IotlbGather | undefined): boolean => gather !== undefined && gather.queued;

/** Model helper: the gather has recorded something. 7.2's iommu_iotlb_sync tests start < end. */
export const gather_nonempty = (gather: IotlbGather): boolean => gather.start < gather.end;

/**
 * iommu_iotlb_gather_is_disjoint() - would adding [@iova, @iova + @size) leave a gap?
 * @gather: the gather
 * @iova: start of the page to add
 * @size: its size
 *
 * Returns true when the gather already holds a range (end ≠ 0) and the new range neither
 * overlaps nor touches it. Arithmetic wraps at 64 bits, as unsigned long does.
 */
export function iommu_iotlb_gather_is_disjoint(gather: IotlbGather, iova: bigint, size: bigint): boolean {
  const start = iova;
  const end = (start + size - 1n) & U64_MAX;
  return gather.end !== 0n && (((end + 1n) & U64_MAX) < gather.start || start > ((gather.end + 1n) & U64_MAX));
}

/**
 * iommu_iotlb_gather_add_range() - widen the gathered range to cover [@iova, @iova + @size).
 * @gather: the gather
 * @iova: start of the range
 * @size: its size
 */
export function iommu_iotlb_gather_add_range(gather: IotlbGather, iova: bigint, size: bigint): void {
  const end = (iova + size - 1n) & U64_MAX;
  if (gather.start > iova) gather.start = iova;
  if (gather.end < end) gather.end = end;
}
