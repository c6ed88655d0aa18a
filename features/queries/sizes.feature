Feature: Mapping size queries: dma_max_mapping_size, dma_opt_mapping_size, dma_get_merge_boundary, dma_get_cache_alignment
  dma_max_mapping_size() is the largest single mapping a device may ask for
  (R11). On the direct path it is SIZE_MAX unless swiotlb might have to bounce
  the buffer: dma_direct_max_mapping_size() returns swiotlb_max_mapping_size()
  when swiotlb is active for the device and the device is addressing-limited
  or forced to bounce. swiotlb can bounce at most one 128-slot segment
  (IO_TLB_SEGSIZE * IO_TLB_SIZE = 256 KiB), minus the alignment padding a
  min_align_mask can cost (swiotlb_max_mapping_size).

  dma_opt_mapping_size() is advisory (R12): min(dma_max_mapping_size(), X),
  where X comes from the IOMMU or an ops callback. The direct path has neither,
  so there it equals dma_max_mapping_size() exactly. dma_get_merge_boundary()
  is 0 on the direct path: nothing ever merges segments.

  dma_get_cache_alignment() (R37) is the minimum alignment and width for
  mappings and partial syncs: the CPU's cache writeback granule on a
  non-coherent architecture, 1 on x86 where DMA is always coherent.

  # ---- the direct path without swiotlb pressure (§2.8 case 4) ---------------

  @R11 @R12 @R15 @INV-M3 @dma-core-2.8-4
  Scenario: A direct device that never needs swiotlb: SIZE_MAX, SIZE_MAX and merge boundary 0
    RAM ends at 4 GiB and the mask is 32 bits: nothing needs bouncing, so there
    is no limit at all. A portable driver must not assume that segments merge
    (R15): the merge boundary is 0.
    Given a platform with ram [{base 0x0, size 4G}] swiotlb {size 64M}
    And a device "nic" with dma_mask DMA_BIT_MASK(32)
    When "nic" calls dma_max_mapping_size
    Then the result has size 18446744073709551615
    When "nic" calls dma_opt_mapping_size
    Then the result has size 0xffff_ffff_ffff_ffff
    When "nic" calls dma_get_merge_boundary
    Then the result has size 0

  @R11 @dma-core-3.7
  Scenario: An addressing-limited device without a swiotlb pool is not limited either
    Without an active pool nothing can be bounced, so the query has nothing to
    bound: SIZE_MAX. (Maps of high buffers then simply fail, see addressing.feature.)
    Given a platform with ram [{base 0x0, size 4G}, {base 0x1_0000_0000, size 2G}]
    And a device "nic" with dma_mask DMA_BIT_MASK(32)
    When "nic" calls dma_addressing_limited
    Then the result has value true
    When "nic" calls dma_max_mapping_size
    Then the result has size 0xffff_ffff_ffff_ffff

  # ---- swiotlb bounds the size (§3.7, §4.6, §4.8 case 1) --------------------

  @R11 @R12 @INV-M3 @INV-S7 @dma-core-4.8-1
  Scenario: An addressing-limited device with swiotlb: 256 KiB, the largest swiotlb run
    Given a platform with ram [{base 0x0, size 4G}, {base 0x1_0000_0000, size 2G}] swiotlb {size 64M}
    And a device "nic" with dma_mask DMA_BIT_MASK(32)
    When "nic" calls dma_max_mapping_size
    Then the result has size 262144
    When "nic" calls dma_opt_mapping_size
    Then the result has size 262144

  @R11 @INV-M3 @dma-core-4.6
  Scenario Outline: swiotlb_max_mapping_size subtracts the min_align_mask padding (min_align_mask <min_align_mask>)
    A min_align_mask keeps the low address bits of the original in the bounce
    address, which costs up to min_align_mask bytes of padding, rounded up to a
    whole 2 KiB slot. The device is forced to bounce (a confidential-computing
    guest or a restricted DMA pool), so the bound applies although RAM is low.
    Given a platform with ram [{base 0x0, size 4G}] swiotlb {size 64M}
    And a device "dev" with dma_mask DMA_BIT_MASK(64) min_align_mask <min_align_mask> force_bounce true
    When "dev" calls dma_max_mapping_size
    Then the result has size <max>
    When "dev" calls dma_opt_mapping_size
    Then the result has size <max>

    Examples:
      | min_align_mask | max    |
      | 0              | 262144 |
      | 0xFFF          | 258048 |
      | 0x3            | 260096 |
      | 0x7FF          | 260096 |
      | 0x800          | 260096 |
      | 0x1FFF         | 253952 |

  @R11 @dma-core-4.8-7
  Scenario: swiotlb=force bounds every device, even a 64-bit one
    Given a platform with ram [{base 0x0, size 4G}] swiotlb {size 64M, force true}
    And a device "nic" with dma_mask DMA_BIT_MASK(64)
    When "nic" calls dma_addressing_limited
    Then the result has value false
    When "nic" calls dma_max_mapping_size
    Then the result has size 262144

  @R11 @R12 @INV-M3 @dma-core-3.7
  Scenario: A 64-bit device on a big machine is not limited and gets SIZE_MAX
    Given a platform with ram [{base 0x0, size 4G}, {base 0x1_0000_0000, size 2G}] swiotlb {size 64M}
    And a device "nvme" with dma_mask DMA_BIT_MASK(64) min_align_mask 0xFFF
    When "nvme" calls dma_max_mapping_size
    Then the result has size 0xffff_ffff_ffff_ffff
    When "nvme" calls dma_opt_mapping_size
    Then the result has size 0xffff_ffff_ffff_ffff

  @R11 @INV-S7 @INV-S8 @dma-core-4.8-1
  Scenario: A driver that ignores dma_max_mapping_size gets a failed map
    The 300 KiB (307200-byte) map needs 150 slots, but no free run is longer than
    one 128-slot segment, so the slot search fails even on an empty pool:
    "swiotlb buffer is full (sz: 307200 bytes), total 32768 (slots), used 0
    (slots)". A map of exactly dma_max_mapping_size() bytes succeeds.
    Given a platform with ram [{base 0x0, size 4G}, {base 0x1_0000_0000, size 2G}] swiotlb {size 64M}
    And a device "nic" with dma_mask DMA_BIT_MASK(32)
    When "nic" calls dma_max_mapping_size
    Then the result has size 262144
    When "nic" calls dma_map_single with phys 0x1_0000_0000 size 307200 dir DMA_TO_DEVICE
    Then it fails with DMA_MAPPING_ERROR
    And the warnings are WARN_SWIOTLB_FULL
    When the kernel calls swiotlb_info
    Then the result has used 0
    When "nic" calls dma_map_single with phys 0x1_0000_0000 size 262144 dir DMA_TO_DEVICE as buf
    Then the result's dma_addr is in the swiotlb pool
    And there are no warnings

  # ---- dma_get_cache_alignment (R37) ------------------------------------------

  @R37 @dma-core-3.3
  Scenario Outline: dma_get_cache_alignment is the writeback granule (<arch>, <cache_line>-byte lines)
    Given a platform with arch <arch> cache_line <cache_line>
    When the kernel calls dma_get_cache_alignment
    Then the result has size <alignment>

    Examples:
      | arch   | cache_line | alignment |
      | x86_64 | 64         | 1         |
      | arm64  | 64         | 64        |
      | arm64  | 128        | 128       |
