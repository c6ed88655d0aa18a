Feature: The IOVA-based API, dynamic: link and unlink pieces of a long-lived range, then free; destroy defers in a lazy domain
  The second pattern of Documentation/core-api/dma-api.rst Part Ie: one IOVA
  range kept for a long time (an HMM mirror, an RDMA ODP MR), with pieces
  linked and unlinked as pages come and go, and the range returned at the end:

    dma_iova_unlink(dev, &state, offset, size, dir, attrs)
        unmap [offset, +size) with a gather whose queued is always false, then
        iommu_iotlb_sync(): strict, even in a DMA_FQ domain. The IOVA stays
        reserved and the state is unchanged, so the piece can be linked again.
    dma_iova_free(dev, &state)
        free_iova_fast() of the whole range: no flush queue, no IOTLB work.
        Every link must have been unlinked first; unlink already synced.

  dma_iova_destroy() is the one-shot teardown (one-shot.feature): unlink
  [0, mapped_len) and free, but with queued = "the domain has a flush queue".
  In a lazy (DMA_FQ) domain it behaves like a lazy dma_unmap_*(): the PTEs go
  at once, the IOTLB is not invalidated, and the IOVA waits in the flush queue
  until a full flush has completed (I-D5). A translation the device cached
  keeps working until then (iommu.md S3.14).

  Why unlink is strict: the range stays allocated and the driver may link
  another page at the same offset at once; a stale IOTLB entry for the old
  page would then be a use-after-free by the device, and no flush queue
  stands between the unlink and the relink.

  The IOTLB in the model fills when the device uses a translation
  (device_read/device_write), as the hardware would (iommu.md §6.2).

  Background:
    Given a platform with ram [{base 0x0, size 4G}, {base 0x1_0000_0000, size 4G}] swiotlb {size 64M} dma_debug false
    And the kernel calls iommu_add with name smmu mode lazy
    And a device "nic" with iommu smmu dma_mask DMA_BIT_MASK(64)
    And the CPU calls cpu_write with phys 0x8000_0000 data 11111111
    And the CPU calls cpu_write with phys 0x9000_0000 data 22222222
    And the CPU calls cpu_write with phys 0xA000_0000 data 33333333

  @S3.14 @I-D4 @I-D3 @U1 @iommu-3.11
  Scenario: S3.14: in a DMA_FQ domain, dma_iova_unlink invalidates the IOTLB before it returns, and the IOVA stays reserved
    The device read through the second page, so the IOTLB holds it. The
    unlink syncs (iotlb_syncs 1), queues nothing (fq_pending 0), and the
    device faults at once. The first page is untouched; the IOVA node
    0xFFFFE-0xFFFFF is still allocated, and a new page can be linked at the
    same offset straight away.
    When "nic" calls dma_iova_try_alloc with state st phys 0 size 0x2000
    Then the result has value true addr 0xFFFF_E000
    When "nic" calls dma_iova_link with state st phys 0x8000_0000 offset 0 size 0x1000 dir DMA_TO_DEVICE
    And "nic" calls dma_iova_link with state st phys 0x9000_0000 offset 0x1000 size 0x1000 dir DMA_TO_DEVICE
    And "nic" calls dma_iova_sync with state st offset 0 size 0x2000
    And "nic" calls device_read with dma_addr $st+0x1000 size 4
    Then the result has data 22222222
    When the kernel calls iommu_info with domain nic
    Then the result has type DMA_FQ iotlb_entries 1 iotlb_syncs 0 fq_pending 0
    When "nic" calls dma_iova_unlink with state st offset 0x1000 size 0x1000 dir DMA_TO_DEVICE
    Then it succeeds
    And there are no warnings
    When the kernel calls iommu_info with domain nic
    Then the result has iotlb_syncs 1 iotlb_entries 0 fq_pending 0 flush_alls 0 leaves 1
    When "nic" calls device_read with dma_addr $st+0x1000 size 4
    Then the device faults
    When "nic" calls device_read with dma_addr $st size 4
    Then the result has data 11111111
    When the kernel calls find_iova with domain nic pfn 0xFFFFF
    Then the result has pfn_lo 0xFFFFE pfn_hi 0xFFFFF
    When "nic" calls dma_iova_link with state st phys 0xA000_0000 offset 0x1000 size 0x1000 dir DMA_TO_DEVICE
    Then it succeeds
    When "nic" calls dma_iova_sync with state st offset 0x1000 size 0x1000
    And "nic" calls device_read with dma_addr $st+0x1000 size 4
    Then the result has data 33333333

  @I-D4 @G-3 @U1 @iommu-3.11
  Scenario: unlink everything, then dma_iova_free: the IOVA is reusable at once, even in a lazy domain
    free bypasses the flush queue: nothing is queued, nothing is flushed, and
    the next try_alloc of the same size gets 0xFFFF_E000 from the range cache.
    That is safe only because each unlink already synced the IOTLB.
    When "nic" calls dma_iova_try_alloc with state st phys 0 size 0x2000
    And "nic" calls dma_iova_link with state st phys 0x8000_0000 offset 0 size 0x1000 dir DMA_TO_DEVICE
    And "nic" calls dma_iova_link with state st phys 0x9000_0000 offset 0x1000 size 0x1000 dir DMA_TO_DEVICE
    And "nic" calls dma_iova_sync with state st offset 0 size 0x2000
    And "nic" calls device_read with dma_addr $st size 8K
    And "nic" calls dma_iova_unlink with state st offset 0 size 0x1000 dir DMA_TO_DEVICE
    And "nic" calls dma_iova_unlink with state st offset 0x1000 size 0x1000 dir DMA_TO_DEVICE
    And "nic" calls dma_iova_free with state st
    Then it succeeds
    And there are no warnings
    When the kernel calls iommu_info with domain nic
    Then the result has iotlb_syncs 2 iotlb_entries 0 fq_pending 0 flush_alls 0 leaves 0
    When "nic" calls device_read with dma_addr 0xFFFF_E000 size 4
    Then the device faults
    When "nic" calls dma_iova_try_alloc with state st2 phys 0 size 0x2000
    Then the result has value true addr 0xFFFF_E000
    When the kernel calls iova_info with domain nic
    Then the result has rcache_hits 1

  @S3.14 @I-D5 @I-D7 @U1 @iommu-3.11 @iommu-3.4
  Scenario: S3.14, destroy in the same DMA_FQ domain: no sync, the stale translation still reads until the 10 ms flush, and only then is the IOVA reused
    destroy clears the PTEs (iommu_iova_to_phys is 0 at once) but queues the
    IOVA: the device's cached translation keeps returning the old bytes, and
    a new try_alloc is placed below (0xFFFF_C000). When the flush-queue
    timer fires, one flush_iotlb_all() ends the stale window and retires the
    range into the cache.
    When "nic" calls dma_iova_try_alloc with state st phys 0 size 0x2000
    And "nic" calls dma_iova_link with state st phys 0x8000_0000 offset 0 size 0x1000 dir DMA_TO_DEVICE
    And "nic" calls dma_iova_link with state st phys 0x9000_0000 offset 0x1000 size 0x1000 dir DMA_TO_DEVICE
    And "nic" calls dma_iova_sync with state st offset 0 size 0x2000
    And "nic" calls device_read with dma_addr $st size 4
    Then the result has data 11111111
    When "nic" calls dma_iova_destroy with state st mapped_len 0x2000 dir DMA_TO_DEVICE
    Then it succeeds
    And there are no warnings
    When the kernel calls iommu_info with domain nic
    Then the result has iotlb_syncs 0 fq_pending 1 iotlb_entries 1 leaves 0 flush_alls 0
    When the kernel calls iommu_iova_to_phys with domain nic iova 0xFFFF_E000
    Then the result has phys 0
    When "nic" calls device_read with dma_addr 0xFFFF_E000 size 4
    Then the result has data 11111111
    When "nic" calls dma_iova_try_alloc with state st2 phys 0 size 0x2000
    Then the result has value true addr 0xFFFF_C000
    When the kernel calls advance_time with ms 10
    Then the result has ran 1
    When the kernel calls iommu_info with domain nic
    Then the result has flush_alls 1 fq_pending 0 iotlb_entries 0
    When "nic" calls device_read with dma_addr 0xFFFF_E000 size 4
    Then the device faults
    When "nic" calls dma_iova_try_alloc with state st3 phys 0 size 0x2000
    Then the result has value true addr 0xFFFF_E000

  @S3.14 @I-D4 @I-D5 @U1 @iommu-3.11 @iommu-3.4
  Scenario Outline: <mode>: after destroy the device <after>, and the next try_alloc gets <next>
    unlink is strict in both; destroy follows the domain.
    Given the kernel calls iommu_add with name mmu mode <mode>
    And a device "dev" with iommu mmu dma_mask DMA_BIT_MASK(64)
    When "dev" calls dma_iova_try_alloc with state st phys 0 size 0x1000
    Then the result has value true addr 0xFFFF_F000
    When "dev" calls dma_iova_link with state st phys 0x8000_0000 offset 0 size 0x1000 dir DMA_TO_DEVICE
    And "dev" calls dma_iova_sync with state st offset 0 size 0x1000
    And "dev" calls device_read with dma_addr $st size 4
    And "dev" calls dma_iova_destroy with state st mapped_len 0x1000 dir DMA_TO_DEVICE
    And the kernel calls iommu_info with domain dev
    Then the result has type <type> iotlb_syncs <syncs> fq_pending <pending>
    When "dev" calls device_read with dma_addr 0xFFFF_F000 size 4
    Then <read>
    When "dev" calls dma_iova_try_alloc with state st2 phys 0 size 0x1000
    Then the result has addr <next>

    Examples:
      | mode   | type   | syncs | pending | after                               | read                         | next        |
      | strict | DMA    | 1     | 0       | faults                              | the device faults            | 0xFFFF_F000 |
      | lazy   | DMA_FQ | 0     | 1       | still reads through the stale entry | the result has data 11111111 | 0xFFFF_E000 |

  @I-D3 @I-D11 @U1 @iommu-3.11
  Scenario: A range can be relinked piece by piece: unlink one page of three, link another page in its place
    The unlink covers exactly one granule; its neighbours keep translating,
    and the relink at the same offset is not -EEXIST.
    When "nic" calls dma_iova_try_alloc with state st phys 0 size 12K
    Then the result has addr 0xFFFF_C000
    When "nic" calls dma_iova_link with state st phys 0x8000_0000 offset 0 size 4K dir DMA_BIDIRECTIONAL
    And "nic" calls dma_iova_link with state st phys 0x9000_0000 offset 4K size 4K dir DMA_BIDIRECTIONAL
    And "nic" calls dma_iova_link with state st phys 0x8000_2000 offset 8K size 4K dir DMA_BIDIRECTIONAL
    And "nic" calls dma_iova_sync with state st offset 0 size 12K
    And "nic" calls dma_iova_unlink with state st offset 4K size 4K dir DMA_BIDIRECTIONAL
    And the kernel calls iommu_iova_to_phys with domain nic iova 0xFFFF_D000
    Then the result has phys 0
    When the kernel calls iommu_iova_to_phys with domain nic iova 0xFFFF_E000
    Then the result has phys 0x8000_2000
    When "nic" calls dma_iova_link with state st phys 0xA000_0000 offset 4K size 4K dir DMA_BIDIRECTIONAL
    Then it succeeds
    And there are no warnings
    When "nic" calls dma_iova_sync with state st offset 4K size 4K
    And "nic" calls device_write with dma_addr $st+0x1000 data 44
    And the CPU calls cpu_read with phys 0xA000_0000 size 4
    Then the result has data 44333333
    When "nic" calls dma_iova_unlink with state st offset 0 size 12K dir DMA_BIDIRECTIONAL
    And "nic" calls dma_iova_free with state st
    Then there are no warnings
    When the kernel calls iommu_info with domain nic
    Then the result has leaves 0 fq_pending 0
