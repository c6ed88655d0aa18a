Feature: swiotlb limits: the largest bounce, a full pool, and no pool at all
  One bounced mapping is one run of free slots inside one 128-slot segment:
  at most 262144 bytes (256 KiB) including the min_align_mask offset. A larger
  request fails even on an empty pool ("swiotlb buffer is full (sz: %zd
  bytes), total %lu (slots), used %lu (slots)", unless DMA_ATTR_NO_WARN).
  dma_max_mapping_size() reports swiotlb_max_mapping_size(): 256 KiB minus
  min_align_mask rounded up to a slot. That bound is conservative (INV-S7): any
  size up to it fits in an empty pool, and some larger sizes fit too,
  depending on the low bits of the original. A driver must not rely on those.

  A failed map leaves the pool exactly as it was (INV-S8).

  The NVMe-like controller below has min_align_mask 0xFFF and a 32-bit mask on
  a 6 GiB machine, so its buffers above 4 GiB are bounced.

  Background:
    Given a platform with ram [{base 0x0, size 4G}, {base 0x1_0000_0000, size 2G}] swiotlb {size 64M}
    And a device "nvme" with dma_mask DMA_BIT_MASK(32) min_align_mask 0xFFF
    And a device "nic" with dma_mask DMA_BIT_MASK(32)

  @R11 @INV-S7 @INV-S8 @INV-M1 @dma-core-4.8-1
  Scenario: 300 KiB cannot be bounced, even through an empty pool
    307200 bytes need 150 slots, more than any segment has. With swiotlb=force
    even a 64-bit device is bounced, and dma_max_mapping_size() already told
    the driver: 262144.
    Given a platform with ram [{base 0x0, size 4G}] swiotlb {size 64M, force true}
    And a device "cc" with dma_mask DMA_BIT_MASK(64)
    When "cc" calls dma_max_mapping_size
    Then the result has size 262144
    When "cc" calls dma_map_single with phys 0x1000_0000 size 307200 dir DMA_TO_DEVICE
    Then it fails with DMA_MAPPING_ERROR
    And the warnings are WARN_SWIOTLB_FULL
    When the kernel calls swiotlb_info
    Then the result has nslabs 32768 used 0
    When the kernel calls dma_debug_info
    Then the result has live_entries 0

  @R11 @INV-S7 @dma-core-4.8-2
  Scenario: 256 KiB fills exactly one segment of an empty pool
    The run starts on a segment boundary: a multiple of 256 KiB from the pool
    start (0xFC00_0000, itself 256 KiB-aligned).
    When "nic" calls dma_max_mapping_size
    Then the result has size 262144
    When "nic" calls dma_map_single with phys 0x1_0000_0000 size 256K dir DMA_TO_DEVICE
    Then the result's dma_addr is in the swiotlb pool
    And the result's dma_addr & 0x3FFFF is 0
    And there are no warnings
    When the kernel calls swiotlb_info
    Then the result has used 128

  @R11 @INV-S7 @INV-S8 @dma-core-4.8-2
  Scenario: One byte more than 256 KiB fails
    When "nic" calls dma_map_single with phys 0x1_0000_0000 size 262145 dir DMA_TO_DEVICE
    Then it fails with DMA_MAPPING_ERROR
    And the warnings are WARN_SWIOTLB_FULL
    When the kernel calls swiotlb_info
    Then the result has used 0

  @R11 @INV-S4 @INV-S7 @dma-core-4.8-3
  Scenario Outline: NVMe (min_align_mask 0xFFF), orig ...<low>, <size> bytes: fits in <slots> slots
    offset = orig & 0xFFF & 2047 is copied in front of the data, and bit 11
    of the original picks the slot parity: an even-parity original can use a
    whole segment (128 slots, 262144 - offset bytes), an odd-parity one only
    slots 1..127 (260096 - offset bytes). swiotlb_max_mapping_size() = 258048
    covers the worst case (odd parity, offset 2047: 258049 bytes), but is not
    the true capacity.
    When "nvme" calls dma_max_mapping_size
    Then the result has size 258048
    When "nvme" calls dma_map_single with phys 0x1_0000_0<low> size <size> dir DMA_TO_DEVICE
    Then the result's dma_addr is in the swiotlb pool
    And the result's dma_addr & 0xFFF is 0x<low>
    And there are no warnings
    When the kernel calls swiotlb_info
    Then the result has used <slots>

    Examples: the worked examples of dma-core.md §4.8 case 3
      | low | size   | slots | why                                            |
      | 234 | 258048 | 127   | offset 0x234: 258612 bytes, an even slot       |
      | A34 | 258048 | 127   | offset 0x234, odd slot: slots 1..127           |
      | 234 | 259000 | 127   | above the bound, still fits (even parity)      |
      | FFF | 258049 | 127   | the worst case: odd parity, offset 2047        |

    Examples: the true capacity at each parity
      | low | size   | slots | why                                            |
      | 234 | 261580 | 128   | even: 262144 - 0x234 bytes, the whole segment  |
      | 000 | 262144 | 128   | even, offset 0                                 |
      | 800 | 260096 | 127   | odd, offset 0 (bit 11 is above 2047)           |

  @R11 @INV-S7 @INV-S8 @dma-core-4.8-3
  Scenario Outline: NVMe, orig ...<low>, <size> bytes: one byte beyond the capacity fails
    When "nvme" calls dma_map_single with phys 0x1_0000_0<low> size <size> dir DMA_TO_DEVICE
    Then it fails with DMA_MAPPING_ERROR
    And the warnings are WARN_SWIOTLB_FULL
    When the kernel calls swiotlb_info
    Then the result has used 0

    Examples:
      | low | size   |
      | 234 | 261581 |
      | 000 | 262145 |
      | 800 | 260097 |
      | FFF | 258050 |
      | A34 | 259533 |

  @R11 @INV-S7 @dma-core-4.6
  Scenario Outline: Every size up to swiotlb_max_mapping_size fits an empty pool (min_align_mask <mask>, orig ...<low>)
    The least favourable original for each mask, mapped at exactly
    dma_max_mapping_size().
    Given a device "dev" with dma_mask DMA_BIT_MASK(32) min_align_mask <mask>
    When "dev" calls dma_max_mapping_size
    Then the result has size <max>
    When "dev" calls dma_map_single with phys 0x1_0000_0<low> size <max> dir DMA_TO_DEVICE
    Then the result's dma_addr is in the swiotlb pool
    And there are no warnings

    Examples:
      | mask   | low | max    |
      | 0      | 000 | 262144 |
      | 0x3    | 003 | 260096 |
      | 0x7FF  | 7FF | 260096 |
      | 0xFFF  | FFF | 258048 |
      | 0x1FFF | FFF | 253952 |

  @A3 @INV-S8 @dma-core-4.3 @dma-core-2.7
  Scenario: A full pool fails the map; DMA_ATTR_NO_WARN keeps it quiet
    A one-segment pool, filled by one 256 KiB mapping. The next map fails at
    once (the area has fewer free slots than needed). With DMA_ATTR_NO_WARN,
    used by callers that have a fallback, the failure is silent. After the
    unmap the pool serves maps again.
    Given a platform with ram [{base 0x0, size 4G}, {base 0x1_0000_0000, size 2G}] swiotlb {size 256K}
    And a device "nic" with dma_mask DMA_BIT_MASK(32)
    When "nic" calls dma_map_single with phys 0x1_0000_0000 size 256K dir DMA_TO_DEVICE as big
    Then the result's dma_addr is in the swiotlb pool
    When "nic" calls dma_map_single with phys 0x1_1000_0000 size 100 dir DMA_TO_DEVICE
    Then it fails with DMA_MAPPING_ERROR
    And the warnings are WARN_SWIOTLB_FULL
    When "nic" calls dma_map_single with phys 0x1_1000_0000 size 100 dir DMA_TO_DEVICE attrs [DMA_ATTR_NO_WARN]
    Then it fails with DMA_MAPPING_ERROR
    And there are no warnings
    When the kernel calls swiotlb_info
    Then the result has used 128
    When "nic" calls dma_mapping_error with dma_addr $big
    And "nic" calls dma_unmap_single with dma_addr $big size 256K dir DMA_TO_DEVICE
    And "nic" calls dma_map_single with phys 0x1_1000_0000 size 100 dir DMA_TO_DEVICE
    Then the result's dma_addr is in the swiotlb pool

  @H22 @H18 @R23 @INV-S8 @dma-core-2.2
  Scenario: A driver whose second map fails unmaps the first before giving up
    A two-buffer request (header + payload): the header maps, the payload is
    too large to bounce. The driver checks each result with
    dma_mapping_error() and unmaps the header before failing the request, so
    no slot and no dma-debug entry is left behind.
    When "nic" calls dma_map_single with phys 0x1_0000_0000 size 128 dir DMA_TO_DEVICE as hdr
    And "nic" calls dma_mapping_error with dma_addr $hdr
    Then it succeeds
    When "nic" calls dma_map_single with phys 0x1_1000_0000 size 300K dir DMA_TO_DEVICE as payload
    Then it fails with DMA_MAPPING_ERROR
    When "nic" calls dma_mapping_error with dma_addr 0xffff_ffff_ffff_ffff
    Then it fails with -ENOMEM
    When "nic" calls dma_unmap_single with dma_addr $hdr size 128 dir DMA_TO_DEVICE
    Then there are no warnings
    When the kernel calls swiotlb_info
    Then the result has used 0
    When device "nic" is removed
    Then there are no warnings

  @H18 @dma-core-6.3
  Scenario: A mapping never unmapped keeps its slots and is reported when the driver unbinds
    When "nic" calls dma_map_single with phys 0x1_0000_0000 size 8K dir DMA_FROM_DEVICE as rx
    And "nic" calls dma_mapping_error with dma_addr $rx
    And device "nic" is removed
    Then the warnings are DEBUG_LEAK_AT_REMOVE
    When the kernel calls swiotlb_info
    Then the result has used 4

  @INV-M1 @dma-core-4.3
  Scenario: swiotlb_tbl_map_single without a pool fails with a warning
    "Can not allocate SWIOTLB buffer earlier and can't now provide you with
    the DMA bounce buffer": swiotlb was not set up at boot (no addressing-limited
    device was expected), so there is nothing to bounce with.
    Given a platform with ram [{base 0x0, size 4G}]
    And a device "dev" with dma_mask DMA_BIT_MASK(32)
    When "dev" calls swiotlb_tbl_map_single with phys 0x1000_0000 size 4K dir DMA_TO_DEVICE
    Then it fails with DMA_MAPPING_ERROR
    And the warnings are WARN_SWIOTLB_UNAVAILABLE
