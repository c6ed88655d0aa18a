Feature: dma-debug and the lifetime of mappings: leaks, error paths, sg lists mapped twice

  Every map needs its unmap, because DMA address space (and swiotlb slots, and
  IOMMU space) is shared (H18). dma-debug registers a bus notifier with
  dma_debug_add_bus() (upstream: PCI only); when a driver unbinds, check 22
  counts the device's entries that are still live and reports
  "device driver has pending DMA allocations while released from device
  [count=N]" (DEBUG_LEAK_AT_REMOVE). `device "X" is removed` unbinds the driver;
  its result `leaks` counts the reports. The entries stay in the ledger: the
  kernel only reports.

  Failures must be handled (H22): NULL from dma_alloc_coherent, 0 from
  dma_map_sg, dma_mapping_error() for single mappings, and when a multi-part
  mapping fails midway the parts already mapped are unmapped.

  Background:
    Given a platform
    And a device "nic"

  @H18 @dma-core-6.3-22
  Scenario Outline: Check 22: the driver unbinds with a <what> still live
    Given "nic" calls <call> with <args>
    When device "nic" is removed
    Then the result has leaks 1
    And the warnings are DEBUG_LEAK_AT_REMOVE

    Examples:
      | what               | call               | args                                                                  |
      | single mapping     | dma_map_single     | phys 0x1000_0000 size 1500 dir DMA_TO_DEVICE                          |
      | page mapping       | dma_map_page       | phys 0x1000_0000 size 4K dir DMA_FROM_DEVICE                          |
      | scatterlist        | dma_map_sg         | sg [{phys 0x1000_0000, length 4K}, {phys 0x1000_2000, length 4K}] dir DMA_TO_DEVICE |
      | coherent buffer    | dma_alloc_coherent | size 4K                                                               |

  @H18 @dma-core-6.3-22
  Scenario: A driver that released everything unbinds silently
    Given "nic" calls dma_map_single with phys 0x1000_0000 size 1500 dir DMA_TO_DEVICE as tx
    And "nic" calls dma_mapping_error with dma_addr $tx
    And "nic" calls dma_map_sg with sg [{phys 0x1000_2000, length 4K}] dir DMA_FROM_DEVICE as s
    And "nic" calls dma_alloc_coherent with size 4K as c
    And "nic" calls dma_unmap_single with dma_addr $tx size 1500 dir DMA_TO_DEVICE
    And "nic" calls dma_unmap_sg with sg $s dir DMA_FROM_DEVICE
    And "nic" calls dma_free_coherent with size 4K cpu_addr $c.cpu_addr dma_addr $c
    When device "nic" is removed
    Then the result has leaks 0
    And there are no warnings

  @H18 @dma-core-6.3-22
  Scenario: One report per device, however many entries leaked
    The message carries the count and the details of one entry.
    Given "nic" calls dma_map_page with phys 0x1000_0000 size 4K dir DMA_TO_DEVICE
    And "nic" calls dma_map_page with phys 0x1000_2000 size 4K dir DMA_TO_DEVICE
    And "nic" calls dma_map_page with phys 0x1000_4000 size 4K dir DMA_TO_DEVICE
    When the kernel calls dma_debug_info
    Then the result has live_entries 3
    When device "nic" is removed
    Then the result has leaks 1
    When the kernel calls dma_debug_info
    Then the result has live_entries 3 error_count 1

  @H18 @dma-core-6.3-22
  Scenario: Only the leaking device is reported
    Given a device "gpu"
    And "gpu" calls dma_map_page with phys 0x2000_0000 size 4K dir DMA_TO_DEVICE
    When device "nic" is removed
    Then the result has leaks 0
    When device "gpu" is removed
    Then the result has leaks 1

  @H18 @dma-core-6.3-22
  Scenario: A platform-bus device is not watched
    dma_debug_add_bus() is only called for the PCI bus upstream, so a platform
    device's leak goes unreported.
    Given a device "soc" with bus platform
    And "soc" calls dma_map_page with phys 0x1000_0000 size 4K dir DMA_TO_DEVICE
    When device "soc" is removed
    Then the result has leaks 0
    And there are no warnings

  @H22 @R25 @R23 @dma-core-6.2
  Scenario: A failed mapping leaves no entry behind and dma_mapping_error says so
    A 32-bit device, a buffer above 4 GiB and no swiotlb pool: dma-direct
    cannot reach the buffer. The page path records nothing for the error value.
    Given a platform with ram [{base 0x0, size 4G}, {base 0x1_0000_0000, size 4G}]
    And a device "nic" with dma_mask DMA_BIT_MASK(32)
    When "nic" calls dma_map_single with phys 0x1_2345_6000 size 4K dir DMA_TO_DEVICE as tx
    Then it fails with DMA_MAPPING_ERROR
    When "nic" calls dma_mapping_error with dma_addr 0xffff_ffff_ffff_ffff
    Then it fails with -ENOMEM
    When "nic" calls dma_map_sg with sg [{phys 0x1000_0000, length 4K}, {phys 0x1_2345_6000, length 4K}] dir DMA_TO_DEVICE
    Then it fails with 0
    When "nic" calls dma_map_sgtable with sg [{phys 0x1000_0000, length 4K}, {phys 0x1_2345_6000, length 4K}] dir DMA_TO_DEVICE
    Then it fails with -EIO
    When the kernel calls dma_debug_info
    Then the result has live_entries 0 error_count 0

  @H22 @H18 @R23
  Scenario Outline: A two-buffer request whose second map fails: <driver>
    The header maps, the payload (above 4 GiB, no swiotlb) does not. A driver
    that handles the error unmaps the header before giving up.
    Given a platform with ram [{base 0x0, size 4G}, {base 0x1_0000_0000, size 4G}]
    And a device "nic" with dma_mask DMA_BIT_MASK(32)
    And "nic" calls dma_map_single with phys 0x1000_0000 size 64 dir DMA_TO_DEVICE as hdr
    And "nic" calls dma_mapping_error with dma_addr $hdr
    And "nic" calls dma_map_single with phys 0x1_2345_6000 size 4K dir DMA_TO_DEVICE
    When "nic" calls dma_mapping_error with dma_addr 0xffff_ffff_ffff_ffff
    Then it fails with -ENOMEM
    When "nic" calls <cleanup> with dma_addr $hdr size 64 dir DMA_TO_DEVICE
    And device "nic" is removed
    Then the result has leaks <leaks>

    Examples:
      | driver                                      | cleanup                    | leaks |
      | unmaps the header                           | dma_unmap_single           | 0     |
      | forgets the header (only syncs it, no unmap) | dma_sync_single_for_device | 1     |

  @R24 @H18 @dma-core-6.4
  Scenario: Mapping an already mapped sg list again records it twice
    R24: a mapped sg list must not be mapped again. dma-debug does not catch
    the second map itself; each segment simply gets a second entry, and one
    unmap leaves the second set behind as a leak.
    Given "nic" calls dma_map_sg with sg [{phys 0x1000_0000, length 4K}, {phys 0x1000_2000, length 4K}] dir DMA_TO_DEVICE as s
    When "nic" calls dma_map_sg with sg $s dir DMA_TO_DEVICE as s2
    Then the result has nents 2
    When "nic" calls dma_unmap_sg with sg $s dir DMA_TO_DEVICE
    And the kernel calls dma_debug_info
    Then the result has live_entries 2
    When device "nic" is removed
    Then the result has leaks 1

  @R24 @H3 @dma-core-6.3-5
  Scenario: On arm64 the second map of a receive sg list collides with the first
    For DMA_FROM_DEVICE every segment's first cache line is already taken.
    Given a platform with arch arm64
    And a device "dev" with coherent false dma_mask DMA_BIT_MASK(64)
    And "dev" calls dma_map_sg with sg [{phys 0x1000_0000, length 4K}, {phys 0x1000_2000, length 4K}] dir DMA_FROM_DEVICE as s
    When "dev" calls dma_map_sg with sg $s dir DMA_FROM_DEVICE
    Then the warnings are DEBUG_CACHELINE_OVERLAP, DEBUG_CACHELINE_OVERLAP
