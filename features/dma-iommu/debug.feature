Feature: dma-debug behind an IOMMU: the same contract checks, with IOVAs as device addresses
  kernel/dma/debug.c hooks the DMA API in kernel/dma/mapping.c, above the
  choice between dma-direct and dma-iommu, so every check of the direct path
  applies unchanged behind an IOMMU. The device address it records and
  prints is the handle the driver got: an IOVA. What differs is what the
  kernel does after the finding, because dma-iommu trusts the caller's
  arguments: an unmap with the wrong size re-derives the IOVA range from that
  size (__iommu_dma_unmap), so part of the mapping stays in the page table.

  Background:
    Given a platform with ram [{base 0x0, size 4G}, {base 0x1_0000_0000, size 4G}] swiotlb {size 64M} dma_debug true
    And the kernel calls iommu_add with name smmu
    And a device "nic" with iommu smmu dma_mask DMA_BIT_MASK(64)

  @R39 @R23 @H16 @dma-core-6.3
  Scenario Outline: A map <checked> with dma_mapping_error: <finding> at unmap, naming the IOVA
    When "nic" calls dma_map_page with phys 0x8000_0000 size 4K dir DMA_TO_DEVICE as buf
    Then the result has dma_addr 0xFFFF_F000
    When "nic" calls <check>
    And "nic" calls dma_unmap_page with dma_addr $buf size 4K dir DMA_TO_DEVICE
    Then the warnings <finding>

    Examples:
      | checked     | check                                | finding                         |
      | checked     | dma_mapping_error with dma_addr $buf | are none                        |
      | not checked | dma_get_merge_boundary               | are DEBUG_MAP_ERROR_NOT_CHECKED |

  @R39 @dma-core-6.3
  Scenario: The finding prints the IOVA, not the physical address
    When "nic" calls dma_map_page with phys 0x8000_0000 size 4K dir DMA_TO_DEVICE as buf
    And "nic" calls dma_unmap_page with dma_addr $buf size 4K dir DMA_TO_DEVICE
    Then the warning DEBUG_MAP_ERROR_NOT_CHECKED says "[device address=0x00000000fffff000] [size=4096 bytes]"

  @R20 @iommu-3.5 @iommu-6.3
  Scenario: Unmapping 8 KiB with size 4 KiB: dma-debug reports it, and the second page stays mapped for good
    __iommu_dma_unmap() unmaps align(size) = one granule and frees pfn
    0xFFFFE with size 1 into bucket 0. The PTE for 0xFFFF_F000 is never
    removed: the device can still read the driver's second page through an
    IOVA the DMA API considers free, and the next one-page map reuses
    0xFFFF_E000 from the cache.
    When the CPU calls cpu_write with phys 0x8000_1000 data c0ffee00
    And "nic" calls dma_map_page with phys 0x8000_0000 size 8K dir DMA_TO_DEVICE as buf
    And "nic" calls dma_mapping_error with dma_addr $buf
    And "nic" calls dma_unmap_page with dma_addr $buf size 4K dir DMA_TO_DEVICE
    Then the warnings are DEBUG_FREE_WRONG_SIZE
    And the warning DEBUG_FREE_WRONG_SIZE says "[map size=8192 bytes] [unmap size=4096 bytes]"
    When "nic" calls device_read with dma_addr 0xFFFF_F000 size 4
    Then the result has data c0ffee00
    When the kernel calls iommu_iova_to_phys with domain nic iova 0xFFFF_E000
    Then the result has phys 0
    When "nic" calls dma_map_page with phys 0x9000_0000 size 4K dir DMA_TO_DEVICE
    Then the result has dma_addr 0xFFFF_E000

  @R20 @dma-core-6.3
  Scenario: Unmapping with the wrong direction is reported; the IOVA is unmapped all the same
    When "nic" calls dma_map_page with phys 0x8000_0000 size 4K dir DMA_FROM_DEVICE as buf
    And "nic" calls dma_mapping_error with dma_addr $buf
    And "nic" calls dma_unmap_page with dma_addr $buf size 4K dir DMA_BIDIRECTIONAL
    Then the warnings are DEBUG_FREE_WRONG_DIRECTION
    When "nic" calls device_read with dma_addr $buf size 4
    Then the device faults

  @R38 @iommu-3.7 @dma-core-6.3
  Scenario: Unmapping an IOVA that was never mapped: dma-debug and dma-iommu's own WARN_ON(!phys) both fire
    iommu_dma_unmap_page() finds no translation and returns without touching
    anything; dma-debug finds no entry for the address.
    When "nic" calls dma_unmap_page with dma_addr 0xFFF0_0000 size 4K dir DMA_TO_DEVICE
    Then the warnings include WARN_IOMMU_DMA_UNMAP_UNMAPPED, DEBUG_FREE_NOT_ALLOCATED

  @H18 @NO-LEAK-AT-REMOVE @dma-core-6.3-22
  Scenario: Mappings still live when the driver is unbound are reported; the IOVAs stay mapped
    dma-debug only reports (one line with the count and the first entry);
    nothing is unmapped for the driver, so the device could still reach both
    buffers. The sg list merged into one segment, and dma-debug records one
    entry per segment: 2 entries in all.
    When "nic" calls dma_map_page with phys 0x8000_0000 size 4K dir DMA_TO_DEVICE as a
    And "nic" calls dma_map_sg with sg [{phys 0x9000_0000, length 4K}, {phys 0xA000_0000, length 4K}] dir DMA_FROM_DEVICE as s
    And device "nic" is removed
    Then the result has leaks 1
    And the warnings are DEBUG_LEAK_AT_REMOVE
    And the warning DEBUG_LEAK_AT_REMOVE says "[count=2]"
    When the kernel calls iommu_iova_to_phys with domain nic iova 0xFFFF_F000
    Then the result has phys 0x8000_0000
    When the kernel calls iommu_iova_to_phys with domain nic iova $s+0x1000
    Then the result has phys 0xA000_0000

  @R28 @dma-core-6.4
  Scenario Outline: dma_sync_single_for_cpu <what>: <finding>
    dma-debug looks for the recorded mapping that contains the whole synced
    IOVA range (bucket_find_contain); a sync running past the end of the
    mapping finds none, and is reported as a sync of memory never mapped.
    When "nic" calls dma_map_page with phys 0x8000_0000 size 8K dir DMA_FROM_DEVICE as rx
    And "nic" calls dma_mapping_error with dma_addr $rx
    And "nic" calls dma_sync_single_for_cpu with dma_addr <addr> size <size> dir <dir>
    Then the warnings <finding>

    Examples:
      | what                                | addr        | size | dir             | finding                            |
      | within the mapping                  | $rx         | 8K   | DMA_FROM_DEVICE | are none                           |
      | running past the end of the mapping | $rx+0x1000  | 8K   | DMA_FROM_DEVICE | include DEBUG_SYNC_NOT_ALLOCATED   |
      | with another direction              | $rx         | 8K   | DMA_TO_DEVICE   | include DEBUG_SYNC_WRONG_DIRECTION |
      | of an IOVA never mapped             | 0xFFF0_0000 | 4K   | DMA_FROM_DEVICE | include DEBUG_SYNC_NOT_ALLOCATED   |

  @R26 @R27 @dma-core-6.3
  Scenario: A merged sg list is unmapped with the nents passed to dma_map_sg, not the count it returned
    The list of 3 entries came back as 1 segment. Unmapping with nents 1 is
    the classic bug dma-debug catches (R27); with nents 3 all is well.
    When "nic" calls dma_map_sg with sg [{phys 0x1000_0000, length 4K}, {phys 0x2000_0000, length 4K}, {phys 0x3000_0000, length 4K}] dir DMA_TO_DEVICE as s
    Then the result has nents 1
    When "nic" calls dma_unmap_sg with sg $s nents 1 dir DMA_TO_DEVICE
    Then the warnings include DEBUG_FREE_WRONG_SG_COUNT
