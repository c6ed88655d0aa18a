Feature: Which IOVA a mapping gets: 32-bit first for PCI, the 48-bit fallback, and every limit that applies
  iommu_dma_alloc_iova() decides where in the IOVA space a mapping lands
  (drivers/iommu/dma-iommu.c, iommu.md §3.3):

    dma_limit = min(dma_get_mask(dev)             (coherent_dma_mask for coherent allocations)
                    , dev->bus_dma_limit if set
                    , domain->geometry.aperture_end when force_aperture)
    if dma_limit > DMA_BIT_MASK(32) and dev->iommu->pci_32bit_workaround:
        try alloc_iova_fast(len, DMA_BIT_MASK(32) >> shift, flush_rcache = false)
        on failure: pci_32bit_workaround = false        for good (I-D9)
                    dev_notice("Using %d-bit DMA addresses", bits_per(dma_limit))
    alloc_iova_fast(len, dma_limit >> shift, flush_rcache = true)

  The allocator works top-down, so a fresh domain hands out 0xFFFF_F000 first
  and the IOVA space right below 2^48 once the 32-bit space is given up on.
  iommu_setup_dma_ops() sets pci_32bit_workaround = !iommu.forcedac for PCI
  devices only ("enough hardware and firmware bugs are still lurking out there
  that it's safest not to venture into the 64-bit space until necessary").
  The only way back to 32-bit first is to probe the device again.

  Whatever the limit, every handle satisfies I-D8: it is not 0, its pfn is at
  least start_pfn (1), and handle + size - 1 <= min(mask, bus limit,
  aperture end).

  The machine is REF (iommu.md §1.1) with 8 GiB of RAM; dma-debug is off.

  Background:
    Given a platform with ram [{base 0x0, size 4G}, {base 0x1_0000_0000, size 4G}] swiotlb {size 64M} dma_debug false

  @I-D8 @iommu-3.1 @iommu-3.3 @MASK-RESPECTED
  Scenario Outline: A fresh domain, 64-bit mask: <who> gets <handle> <why>
    Given the kernel calls iommu_add with name smmu <iommu>
    And a device "dev" with iommu smmu dma_mask DMA_BIT_MASK(64) <device>
    When "dev" calls dma_map_page with phys 0x1_8000_0000 size 4K dir DMA_TO_DEVICE
    Then the result has dma_addr <handle>
    And there are no warnings

    Examples:
      | who                                | iommu         | device       | handle           | why                                        |
      | a PCI device                       | mode strict   | bus pci      | 0xFFFF_F000      | from the 32-bit space first                |
      | a platform (non-PCI) device        | mode strict   | bus platform | 0xFFFF_FFFF_F000 | at once: pci_32bit_workaround is PCI-only  |
      | a PCI device with iommu.forcedac=1 | forcedac true | bus pci      | 0xFFFF_FFFF_F000 | at once: forcedac turns the workaround off |
      | a PCI device in a lazy domain      | mode lazy     | bus pci      | 0xFFFF_F000      | from the 32-bit space first                |

  @S3.6 @I-D8 @I-D9 @iommu-3.3 @iova-2.5 @MASK-RESPECTED
  Scenario: The 32-bit space is exhausted: "Using 48-bit DMA addresses" and an IOVA just below 2^48
    The domain's reserved regions cover pfns 1..0xFFFFF, the whole 32-bit
    space above pfn 0. The 32-bit attempt fails (max32_alloc_size drops to
    the failed size, 1), the device loses pci_32bit_workaround with one
    notice, and the second attempt runs up to the aperture end 2^48 - 1:
    pfn 0xF_FFFF_FFFF.
    Given the kernel calls iommu_add with name smmu reserved [{start 0x1000, end 0xFFFF_FFFF}]
    And a device "nic" with iommu smmu dma_mask DMA_BIT_MASK(64)
    When "nic" calls dma_map_page with phys 0x8000_0000 size 4K dir DMA_TO_DEVICE as a
    Then the result has dma_addr 0xFFFF_FFFF_F000
    And the warnings are NOTICE_USING_64BIT_DMA
    And the warning NOTICE_USING_64BIT_DMA says "Using 48-bit DMA addresses"
    When the kernel calls iova_info with domain nic
    Then the result has max32_alloc_size 1
    When "nic" calls dma_map_page with phys 0x8000_1000 size 4K dir DMA_TO_DEVICE as b
    Then the result has dma_addr 0xFFFF_FFFF_E000
    And there are no warnings
    When "nic" calls device_read with dma_addr $b size 4
    Then it succeeds

  @S3.6 @I-D9 @iommu-3.3
  Scenario: The fallback is sticky: freed 32-bit space is not used again until the device is probed again
    A GPU maps two 2 GiB buffers. The first fills the top half of the 32-bit
    space (aligned to 2 GiB: 0x8000_0000); the second cannot fit below 4 GiB
    (the only 2 GiB-aligned slot left starts at pfn 0), so it goes to
    0xFFFF_8000_0000 with the notice. Unmapping the first buffer frees its
    half of the 32-bit space again, yet the next 4 KiB map is still placed
    below 2^48: iommu_dma_alloc_iova() no longer even tries. Removing and
    adding the device again (iommu_setup_dma_ops) restores 32-bit first.
    Given the kernel calls iommu_add with name smmu
    And a device "gpu" with iommu smmu dma_mask DMA_BIT_MASK(64)
    When "gpu" calls dma_map_page with phys 0x1_0000_0000 size 2G dir DMA_BIDIRECTIONAL as lo
    Then the result has dma_addr 0x8000_0000
    And there are no warnings
    When "gpu" calls dma_map_page with phys 0x1_8000_0000 size 2G dir DMA_BIDIRECTIONAL as hi
    Then the result has dma_addr 0xFFFF_8000_0000
    And the warnings are NOTICE_USING_64BIT_DMA
    When "gpu" calls dma_unmap_page with dma_addr $lo size 2G dir DMA_BIDIRECTIONAL
    And "gpu" calls dma_map_page with phys 0x8000_0000 size 4K dir DMA_TO_DEVICE
    Then the result has dma_addr 0xFFFF_7FFF_F000
    And there are no warnings
    When "gpu" calls dma_unmap_page with dma_addr 0xFFFF_7FFF_F000 size 4K dir DMA_TO_DEVICE
    And "gpu" calls dma_unmap_page with dma_addr $hi size 2G dir DMA_BIDIRECTIONAL
    And device "gpu" is removed
    And a device "gpu" with iommu smmu dma_mask DMA_BIT_MASK(64)
    And "gpu" calls dma_map_page with phys 0x8000_0000 size 4K dir DMA_TO_DEVICE
    Then the result has dma_addr 0xFFFF_F000

  @S3.6 @I-D9 @iommu-3.3
  Scenario: Once given up, the 32-bit space is not tried even for small maps that would fit there
    After the fallback, a 1-page map with plenty of free 32-bit IOVA still
    goes high: only the first allocation per probe tries 32 bits and fails.
    Given the kernel calls iommu_add with name smmu
    And a device "gpu" with iommu smmu dma_mask DMA_BIT_MASK(64)
    When "gpu" calls dma_map_page with phys 0x1_0000_0000 size 2G dir DMA_BIDIRECTIONAL
    And "gpu" calls dma_map_page with phys 0x1_8000_0000 size 2G dir DMA_BIDIRECTIONAL
    Then the warnings are NOTICE_USING_64BIT_DMA
    When "gpu" calls dma_map_page with phys 0x1000 size 4K dir DMA_TO_DEVICE
    Then the result's dma_addr is above 0xFFFF_FFFF
    And there are no warnings

  @I-D8 @I-D9 @iommu-3.3 @MASK-RESPECTED
  Scenario Outline: The fallback goes as high as the tightest limit: <limit> gives "Using <bits>-bit" and <handle>
    The 32-bit space is reserved as in S3.6. The second attempt is capped by
    the smallest of the DMA mask, the bus DMA limit and the IOMMU's aperture
    (2^ias - 1), and the notice names the bit length of that cap.
    Given the kernel calls iommu_add with name smmu reserved [{start 0x1000, end 0xFFFF_FFFF}] <iommu>
    And a device "nic" with iommu smmu <device>
    When "nic" calls dma_map_page with phys 0x8000_0000 size 4K dir DMA_TO_DEVICE
    Then the result has dma_addr <handle>
    And the warning NOTICE_USING_64BIT_DMA says "Using <bits>-bit DMA addresses"

    Examples:
      | limit                        | iommu  | device                                                   | bits | handle           |
      | the 48-bit aperture (REF)    | ias 48 | dma_mask DMA_BIT_MASK(64)                                | 48   | 0xFFFF_FFFF_F000 |
      | a 36-bit aperture (ias 36)   | ias 36 | dma_mask DMA_BIT_MASK(64)                                | 36   | 0xF_FFFF_F000    |
      | a 39-bit DMA mask            | ias 48 | dma_mask DMA_BIT_MASK(39)                                | 39   | 0x7F_FFFF_F000   |
      | a 40-bit bus_dma_limit       | ias 48 | dma_mask DMA_BIT_MASK(64) bus_dma_limit DMA_BIT_MASK(40) | 40   | 0xFF_FFFF_F000   |
      | the mask below the bus limit | ias 48 | dma_mask DMA_BIT_MASK(44) bus_dma_limit DMA_BIT_MASK(46) | 44   | 0xFFF_FFFF_F000  |

  @S3.7 @I-D8 @iommu-3.3 @MASK-RESPECTED
  Scenario: A 32-bit device gets the same first IOVA, without a separate 32-bit attempt
    dma_limit is 0xFFFF_FFFF, not above DMA_BIT_MASK(32), so the first branch
    is skipped: one alloc_iova_fast() with the range caches flushable.
    Given the kernel calls iommu_add with name smmu
    And a device "old" with iommu smmu dma_mask DMA_BIT_MASK(32)
    When "old" calls dma_map_page with phys 0x1_8000_0000 size 4K dir DMA_TO_DEVICE
    Then the result has dma_addr 0xFFFF_F000
    And there are no warnings

  @S3.7 @I-D8 @iommu-3.3 @iova-2.10 @MASK-RESPECTED
  Scenario: A 32-bit device runs out of IOVA: the range caches are flushed once, then DMA_MAPPING_ERROR
    Reserved regions leave only pfns 0xFFFFE and 0xFFFFF. A one-page map
    takes 0xFFFFF; its unmap parks pfn 0xFFFFF in the bucket-0 range cache,
    where it still occupies the tree. A two-page map misses bucket 1 and
    finds no room in the tree; because flush_rcache is true it flushes every
    CPU's caches (pfn 0xFFFFF goes back to the tree) and retries - and now
    0xFFFFE-0xFFFFF fit. The next map has nothing left: no notice, no 64-bit
    fallback, just DMA_MAPPING_ERROR.
    Given the kernel calls iommu_add with name smmu reserved [{start 0x1000, end 0xFFFF_DFFF}]
    And a device "old" with iommu smmu dma_mask DMA_BIT_MASK(32)
    When "old" calls dma_map_page with phys 0x8000_0000 size 4K dir DMA_TO_DEVICE as one
    Then the result has dma_addr 0xFFFF_F000
    When "old" calls dma_unmap_page with dma_addr $one size 4K dir DMA_TO_DEVICE
    And the kernel calls iova_info with domain old
    Then the result has nodes 3
    When "old" calls dma_map_page with phys 0x8000_0000 size 8K dir DMA_TO_DEVICE
    Then the result has dma_addr 0xFFFF_E000
    When "old" calls dma_map_page with phys 0x9000_0000 size 4K dir DMA_TO_DEVICE
    Then it fails with DMA_MAPPING_ERROR
    And there are no warnings

  @I-D8 @iommu-3.3 @MASK-RESPECTED
  Scenario: Any DMA mask is supported behind an IOMMU, and the IOVA honours it whatever the buffer's address
    dma_supported() is true for every mask on the dma-iommu path, so even a
    24-bit ISA-style mask is accepted. The buffer at 6 GiB is reached through
    an IOVA just below 16 MiB.
    Given the kernel calls iommu_add with name smmu
    And a device "isa" with iommu smmu dma_mask DMA_BIT_MASK(32)
    When "isa" calls dma_set_mask with mask DMA_BIT_MASK(24)
    Then it succeeds
    When the CPU calls cpu_write with phys 0x1_8000_0000 data c0ffee00
    And "isa" calls dma_map_page with phys 0x1_8000_0000 size 4K dir DMA_TO_DEVICE as buf
    Then the result has dma_addr 0xFF_F000
    When "isa" calls device_read with dma_addr $buf size 4
    Then the result has data c0ffee00

  @I-D8 @iommu-3.1 @MASK-RESPECTED
  Scenario: The IOVA space starts at pfn 1: IOVA 0 is never handed out
    With the whole space above the first page reserved, a 32-bit device
    cannot be given pfn 0 (start_pfn is max(1, aperture_start >> shift)), so
    the map fails rather than returning the ambiguous handle 0.
    Given the kernel calls iommu_add with name smmu reserved [{start 0x1000, end 0xFFFF_FFFF}]
    And a device "old" with iommu smmu dma_mask DMA_BIT_MASK(32)
    When "old" calls dma_map_page with phys 0x8000_0000 size 4K dir DMA_TO_DEVICE
    Then it fails with DMA_MAPPING_ERROR
