Feature: Strict and lazy invalidation: when an unmapped IOVA stops translating, and when it is reused
  __iommu_dma_unmap() always clears the PTEs at once. What differs is the
  IOTLB, which may still hold a translation the device used:

  - strict (DMA domain, iommu.strict=1): iommu_unmap_fast() then
    iommu_iotlb_sync() before the IOVA is freed. When dma_unmap_*() returns,
    neither the page table nor the IOTLB translates the range (I-D4), and the
    IOVA is immediately reusable through the range cache.
  - lazy (DMA_FQ, the default without iommu.strict): the gather is "queued",
    nothing is invalidated, and the IOVA goes into a flush queue
    (queue_iova). A stale IOTLB entry may keep translating for the device -
    that is the price of not syncing on every unmap - so the IOVA must not be
    handed out again until a full flush_iotlb_all() has completed after the
    unmap (I-D5).

  The flush queue (iommu.md §3.4): a ring of 256 entries per CPU, full at
  255 (I-D6); flush_start_cnt/flush_finish_cnt order flushes against entries
  (I-D7). queue_iova() first retires entries older than the last finished
  flush, flushes if the ring is full, appends, and arms a 10 ms timer if none
  is armed. The timer (fq_flush_timeout) flushes once and retires every ring.
  An IOMMU with shadow_on_flush (s390) gets one queue of 32768 entries and a
  1000 ms timer instead.

  The IOTLB in the model fills when the device uses a translation
  (device_read/device_write), as the hardware would (iommu.md §6.2), so a
  device that read its buffer can still read it after a lazy unmap.

  Background:
    Given a platform with ram [{base 0x0, size 4G}, {base 0x1_0000_0000, size 4G}] swiotlb {size 64M} dma_debug false

  @S3.4 @I-D4 @iommu-3.4
  Scenario: S3.4 strict: after the unmap nothing translates, and the next map reuses the IOVA at once
    Given the kernel calls iommu_add with name smmu mode strict
    And a device "nic" with iommu smmu dma_mask DMA_BIT_MASK(64)
    When the CPU calls cpu_write with phys 0x8000_0000 data cafef00d
    And "nic" calls dma_map_page with phys 0x8000_0000 size 4K dir DMA_TO_DEVICE as a
    Then the result has dma_addr 0xFFFF_F000
    When "nic" calls device_read with dma_addr $a size 4
    Then the result has data cafef00d
    When "nic" calls dma_unmap_page with dma_addr $a size 4K dir DMA_TO_DEVICE
    And the kernel calls iommu_iova_to_phys with domain nic iova 0xFFFF_F000
    Then the result has phys 0
    When the kernel calls iommu_info with domain nic
    Then the result has type DMA iotlb_entries 0 fq_pending 0 flush_alls 0
    When "nic" calls device_read with dma_addr 0xFFFF_F000 size 4
    Then the device faults
    When "nic" calls dma_map_page with phys 0x8100_0000 size 4K dir DMA_TO_DEVICE
    Then the result has dma_addr 0xFFFF_F000

  @S3.4 @I-D5 @I-D7 @iommu-3.4
  Scenario: S3.4 lazy: the device still reads through a stale IOTLB entry, and the IOVA waits for the 10 ms flush
    The page table forgets 0xFFFF_F000 at once, but the IOTLB entry the
    device filled survives the unmap: a device read still returns the old
    buffer's bytes. A is in the flush queue, still in the IOVA tree and not
    in the range cache, and cached32 points at it, so the next 1-page map is
    placed below: 0xFFFF_E000. After 10 ms the timer flushes the IOTLB once
    and retires A into the cache; the stale read now faults, and the next
    map gets 0xFFFF_F000 back.
    Given the kernel calls iommu_add with name smmu mode lazy
    And a device "nic" with iommu smmu dma_mask DMA_BIT_MASK(64)
    When the CPU calls cpu_write with phys 0x8000_0000 data cafef00d
    And "nic" calls dma_map_page with phys 0x8000_0000 size 4K dir DMA_TO_DEVICE as a
    Then the result has dma_addr 0xFFFF_F000
    When "nic" calls device_read with dma_addr $a size 4
    Then the result has data cafef00d
    When "nic" calls dma_unmap_page with dma_addr $a size 4K dir DMA_TO_DEVICE
    And the kernel calls iommu_iova_to_phys with domain nic iova 0xFFFF_F000
    Then the result has phys 0
    When the kernel calls iommu_info with domain nic
    Then the result has type DMA_FQ iotlb_entries 1 fq_pending 1 flush_alls 0 iotlb_syncs 0
    When "nic" calls device_read with dma_addr 0xFFFF_F000 size 4
    Then the result has data cafef00d
    When "nic" calls dma_map_page with phys 0x8100_0000 size 4K dir DMA_TO_DEVICE as b
    Then the result has dma_addr 0xFFFF_E000
    When the kernel calls advance_time with ms 10
    Then the result has ran 1
    When the kernel calls iommu_info with domain nic
    Then the result has flush_alls 1 fq_pending 0 iotlb_entries 0
    When "nic" calls device_read with dma_addr 0xFFFF_F000 size 4
    Then the device faults
    When "nic" calls dma_map_page with phys 0x8200_0000 size 4K dir DMA_TO_DEVICE
    Then the result has dma_addr 0xFFFF_F000

  @I-D4 @I-D5 @iommu-3.4 @iommu-6.2
  Scenario Outline: <mode>: a device that keeps using an unmapped buffer <outcome>
    The bug this guards against is a driver unmapping while its device is
    still doing DMA. In strict mode the device faults at once; in lazy mode
    it may keep reaching the old page until the queue is flushed - which is
    why the IOVA is not reused before then.
    Given the kernel calls iommu_add with name smmu mode <mode>
    And a device "nic" with iommu smmu dma_mask DMA_BIT_MASK(64)
    When "nic" calls dma_map_page with phys 0x8000_0000 size 4K dir DMA_FROM_DEVICE as rx
    And "nic" calls device_write with dma_addr $rx data 0102
    And "nic" calls dma_unmap_page with dma_addr $rx size 4K dir DMA_FROM_DEVICE
    And "nic" calls device_write with dma_addr $rx data abcd
    Then <write>
    When the CPU calls cpu_read with phys 0x8000_0000 size 2
    Then the result has data <bytes>

    Examples:
      | mode   | outcome                                          | write             | bytes |
      | strict | faults at once                                   | the device faults | 0102  |
      | lazy   | still writes into the old page through the IOTLB | it succeeds       | abcd  |

  @I-D5 @iommu-3.4 @iommu-6.2
  Scenario: A lazily unmapped IOVA the device never used has no stale entry: the access faults
    Stale translations exist only for what the IOTLB cached. Nothing was read
    through 0xFFFF_F000, so after the lazy unmap the walk finds no PTE.
    Given the kernel calls iommu_add with name smmu mode lazy
    And a device "nic" with iommu smmu dma_mask DMA_BIT_MASK(64)
    When "nic" calls dma_map_page with phys 0x8000_0000 size 4K dir DMA_TO_DEVICE as a
    And "nic" calls dma_unmap_page with dma_addr $a size 4K dir DMA_TO_DEVICE
    And "nic" calls device_read with dma_addr 0xFFFF_F000 size 4
    Then the device faults
    When the kernel calls iommu_info with domain nic
    Then the result has fq_pending 1 iotlb_entries 0

  @I-D5 @iommu-3.4
  Scenario: The flush-queue timer fires 10 ms after the first queued entry, once, and covers later entries too
    The timer is armed by the first queue_iova() and not re-armed by the
    second; at 10 ms it flushes once and retires both. A third unmap after
    that arms a new timer.
    Given the kernel calls iommu_add with name smmu mode lazy
    And a device "nic" with iommu smmu dma_mask DMA_BIT_MASK(64)
    When "nic" calls dma_map_page with phys 0x8000_0000 size 4K dir DMA_TO_DEVICE as a
    And "nic" calls dma_map_page with phys 0x8000_1000 size 4K dir DMA_TO_DEVICE as b
    And "nic" calls dma_map_page with phys 0x8000_2000 size 4K dir DMA_TO_DEVICE as c
    And "nic" calls dma_unmap_page with dma_addr $a size 4K dir DMA_TO_DEVICE
    And the kernel calls advance_time with ms 6
    And "nic" calls dma_unmap_page with dma_addr $b size 4K dir DMA_TO_DEVICE
    And the kernel calls advance_time with ms 3
    Then the result has ran 0 now_ms 9
    When the kernel calls iommu_info with domain nic
    Then the result has fq_pending 2 flush_alls 0
    When the kernel calls advance_time with ms 1
    Then the result has ran 1 now_ms 10
    When the kernel calls iommu_info with domain nic
    Then the result has fq_pending 0 flush_alls 1
    When "nic" calls dma_unmap_page with dma_addr $c size 4K dir DMA_TO_DEVICE
    And the kernel calls advance_time with ms 10
    Then the result has ran 1
    When the kernel calls iommu_info with domain nic
    Then the result has fq_pending 0 flush_alls 2

  @I-D4 @iommu-3.4 @iommu-4.6
  Scenario Outline: <mode>: 3 unmaps cost <syncs> IOTLB range syncs and <flushes> full flushes
    Strict pays one iommu_iotlb_sync() per unmap; lazy pays nothing at unmap
    time and one flush_iotlb_all() per timer period for the whole batch.
    Given the kernel calls iommu_add with name smmu mode <mode>
    And a device "nic" with iommu smmu dma_mask DMA_BIT_MASK(64)
    When the kernel calls repeat with times 3 ops [{op dma_map_page, dev nic, phys 0x8000_0000, size 4K, dir DMA_TO_DEVICE, as a}, {op dma_unmap_page, dev nic, dma_addr $a, size 4K, dir DMA_TO_DEVICE}]
    Then the result has runs 3
    When the kernel calls advance_time with ms 10
    And the kernel calls iommu_info with domain nic
    Then the result has iotlb_syncs <syncs> flush_alls <flushes> fq_pending 0

    Examples:
      | mode   | syncs | flushes |
      | strict | 3     | 0       |
      | lazy   | 0     | 1       |

  @S3.5 @I-D5 @I-D6 @I-D7 @iommu-3.4
  Scenario: S3.5: 255 unmaps fill the per-CPU ring without a flush; the 256th flushes once, retires all 255, then queues itself
    The timer never gets to fire. The ring has 256 slots and is full at 255
    entries. The 256th queue_iova() finds nothing to retire (no flush has
    finished), so it flushes the whole IOTLB, retires the 255 entries into
    the range cache, and appends its own. Those 255 IOVAs are now reusable:
    the next map is served from the cache.
    Given the kernel calls iommu_add with name smmu mode lazy
    And a device "nic" with iommu smmu dma_mask DMA_BIT_MASK(64)
    When the kernel calls repeat with times 255 ops [{op dma_map_page, dev nic, phys 0x8000_0000, size 4K, dir DMA_TO_DEVICE, as a}, {op dma_unmap_page, dev nic, dma_addr $a, size 4K, dir DMA_TO_DEVICE}]
    Then the result has runs 255
    When the kernel calls iommu_info with domain nic
    Then the result has fq_pending 255 flush_alls 0
    When "nic" calls dma_map_page with phys 0x8000_0000 size 4K dir DMA_TO_DEVICE as last
    Then the result has dma_addr 0xFFF0_0000
    When "nic" calls dma_unmap_page with dma_addr $last size 4K dir DMA_TO_DEVICE
    And the kernel calls iommu_info with domain nic
    Then the result has fq_pending 1 flush_alls 1
    When the kernel calls iova_info with domain nic
    Then the result has rcache_hits 0
    When "nic" calls dma_map_page with phys 0x8000_0000 size 4K dir DMA_TO_DEVICE
    Then the result's dma_addr is at least 0xFFF0_1000
    When the kernel calls iova_info with domain nic
    Then the result has rcache_hits 1

  @S3.5 @I-D6 @iommu-3.4
  Scenario: The queues are per CPU: 255 entries on CPU 0 and one on CPU 1 need no flush, and the timer drains both
    Given a platform with ram [{base 0x0, size 4G}] ncpus 2 dma_debug false
    And the kernel calls iommu_add with name smmu mode lazy
    And a device "nic" with iommu smmu dma_mask DMA_BIT_MASK(64)
    When the kernel calls repeat with times 255 ops [{op dma_map_page, dev nic, phys 0x8000_0000, size 4K, dir DMA_TO_DEVICE, as a}, {op dma_unmap_page, dev nic, dma_addr $a, size 4K, dir DMA_TO_DEVICE, cpu 0}]
    And "nic" calls dma_map_page with phys 0x8000_0000 size 4K dir DMA_TO_DEVICE cpu 1 as b
    And "nic" calls dma_unmap_page with dma_addr $b size 4K dir DMA_TO_DEVICE cpu 1
    And the kernel calls iommu_info with domain nic
    Then the result has fq_pending 256 flush_alls 0
    When the kernel calls advance_time with ms 10
    And the kernel calls iommu_info with domain nic
    Then the result has fq_pending 0 flush_alls 1

  @I-D6 @iommu-3.1 @iommu-3.4
  Scenario: The single flush queue (shadow_on_flush): 32768 entries, so 300 unmaps wait, and the timer is 1000 ms
    Given the kernel calls iommu_add with name smmu mode lazy fq single
    And a device "nic" with iommu smmu dma_mask DMA_BIT_MASK(64)
    When the kernel calls repeat with times 300 ops [{op dma_map_page, dev nic, phys 0x8000_0000, size 4K, dir DMA_TO_DEVICE, as a}, {op dma_unmap_page, dev nic, dma_addr $a, size 4K, dir DMA_TO_DEVICE}]
    And the kernel calls iommu_info with domain nic
    Then the result has fq_pending 300 flush_alls 0
    When the kernel calls advance_time with ms 999
    Then the result has ran 0
    When the kernel calls iommu_info with domain nic
    Then the result has fq_pending 300 flush_alls 0
    When the kernel calls advance_time with ms 1
    Then the result has ran 1 now_ms 1000
    When the kernel calls iommu_info with domain nic
    Then the result has fq_pending 0 flush_alls 1

  @I-D5 @iommu-3.4
  Scenario: In a lazy domain a freed IOVA is not reused by later maps before the flush, however many there are
    Ten map/unmap pairs of one page in a row: every map gets a fresh IOVA
    below the last, because each unmapped one is still queued.
    Given the kernel calls iommu_add with name smmu mode lazy
    And a device "nic" with iommu smmu dma_mask DMA_BIT_MASK(64)
    When the kernel calls repeat with times 10 ops [{op dma_map_page, dev nic, phys 0x8000_0000, size 4K, dir DMA_TO_DEVICE, as a}, {op dma_unmap_page, dev nic, dma_addr $a, size 4K, dir DMA_TO_DEVICE}]
    And "nic" calls dma_map_page with phys 0x8000_0000 size 4K dir DMA_TO_DEVICE
    Then the result has dma_addr 0xFFFF_5000
    When the kernel calls iova_info with domain nic
    Then the result has rcache_hits 0
