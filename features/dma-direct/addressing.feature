Feature: dma-direct addressing: when a streaming map is direct, bounced or refused
  Without an IOMMU, dma_map_page_attrs() (dma_map_phys upstream) goes to
  dma_direct_map_page(). It translates the physical address (phys_to_dma;
  identity without a dma_range_map) and asks dma_capable() whether the device
  can reach the whole buffer. dma_capable() compares only the buffer's
  inclusive last byte, addr + size - 1, with min_not_zero(*dev->dma_mask,
  bus_dma_limit); the start is never tested on its own.

  - Reachable: the DMA address is phys_to_dma(phys) (INV-D1), plus cache
    maintenance on a non-coherent device.
  - Not reachable and swiotlb active: swiotlb_map() bounces the buffer through
    a slot of the pool (INV-D2). swiotlb does not look at the device mask while
    it searches; swiotlb_map() checks the slot afterwards and, if the device
    cannot reach it either, releases it and fails ("swiotlb addr ... overflow").
  - Not reachable and no swiotlb: dev_WARN_ONCE "DMA addr ... overflow (mask
    ..., bus limit ...)" and DMA_MAPPING_ERROR.

  The machine below has 6 GiB of RAM; the default 64 MiB pool sits just below
  4 GiB at 0xFC00_0000, as memblock_alloc_low puts it.

  Background:
    Given a platform with ram [{base 0x0, size 4G}, {base 0x1_0000_0000, size 2G}] swiotlb {size 64M}
    And a device "nic" with dma_mask DMA_BIT_MASK(32)

  @INV-D2 @INV-S4 @INV-S5 @R15 @dma-core-3.8-1
  Scenario: A 32-bit device mapping 8 KiB at 0x1_2345_6000 is bounced below 4 GiB
    The buffer lies above the 32-bit mask, so dma_direct_map_page() hands it to
    swiotlb_map(). The 8 KiB need 4 slots; since the size is at least a page
    and the device has no min_align_mask, swiotlb keeps the bounce page-aligned
    (the legacy rule of swiotlb_search_pool_area). The slot is pre-filled from
    the buffer, so the device reads the driver's bytes.
    When the CPU calls cpu_write with phys 0x1_2345_6000 data {len 8192, seed 7}
    And "nic" calls dma_map_phys with phys 0x1_2345_6000 size 8K dir DMA_TO_DEVICE as buf
    Then the result's dma_addr is in the swiotlb pool
    And the result's dma_addr is below 0x1_0000_0000
    And the result's dma_addr & 0xFFF is 0
    And the result's dma_addr is at most 0xFFFF_E000
    And there are no warnings
    When the kernel calls is_swiotlb_buffer with phys $buf
    Then the result has value true
    When "nic" calls device_read with dma_addr $buf size 8K
    Then the result has data {len 8192, seed 7}
    When the kernel calls swiotlb_info
    Then the result has used 4

  @INV-D1 @dma-core-3.8-1
  Scenario: A buffer the device can reach is mapped 1:1, with no bounce
    When "nic" calls dma_map_phys with phys 0x1234_5000 size 8K dir DMA_TO_DEVICE
    Then the result has dma_addr 0x1234_5000
    And the result's dma_addr is not in the swiotlb pool
    And there are no warnings
    When the kernel calls platform_counters
    Then the result has bounces 0

  @INV-D1 @dma-core-3.8-2 @dma-core-3.2
  Scenario Outline: dma_capable tests the inclusive end: <size> bytes at <phys> are mapped directly
    Given a platform with ram [{base 0x0, size 4G}, {base 0x1_0000_0000, size 2G}] swiotlb {size 64M, base 0x4000_0000}
    And a device "nic" with dma_mask DMA_BIT_MASK(32)
    When "nic" calls dma_map_single with phys <phys> size <size> dir DMA_TO_DEVICE
    Then the result has dma_addr <phys>
    And the result's dma_addr is not in the swiotlb pool

    Examples: the last byte is at or below 0xFFFF_FFFF
      | phys        | size   |
      | 0xFFFF_F000 | 0x1000 |
      | 0xFFFF_FFFF | 1      |
      | 0xFFFF_0000 | 64K    |
      | 0x8000_0000 | 2G     |

  @INV-D2 @dma-core-3.8-2 @dma-core-3.2
  Scenario Outline: dma_capable tests the inclusive end: <size> bytes at <phys> are bounced
    The start of each buffer is below 4 GiB, but one byte past 0xFFFF_FFFF is
    enough: only the end counts.
    Given a platform with ram [{base 0x0, size 4G}, {base 0x1_0000_0000, size 2G}] swiotlb {size 64M, base 0x4000_0000}
    And a device "nic" with dma_mask DMA_BIT_MASK(32)
    When "nic" calls dma_map_single with phys <phys> size <size> dir DMA_TO_DEVICE
    Then the result's dma_addr is in the swiotlb pool
    And the result's dma_addr is not <phys>
    And there are no warnings

    Examples: the last byte is above 0xFFFF_FFFF
      | phys          | size   |
      | 0xFFFF_F000   | 0x1001 |
      | 0xFFFF_FFFF   | 2      |
      | 0xFFFF_F800   | 4K     |
      | 0x1_0000_0000 | 1      |

  @INV-D2 @dma-core-3.8-3
  Scenario Outline: bus_dma_limit 0x3FFF_FFFF caps a 64-bit device (last byte at <last>)
    The device could drive 64 bits, but the interconnect only passes 30:
    dma_capable() uses min_not_zero(mask, bus_dma_limit). The pool lies below
    1 GiB here, so the bounce slot is reachable.
    Given a platform with ram [{base 0x0, size 4G}, {base 0x1_0000_0000, size 2G}] swiotlb {size 64M, base 0x3000_0000}
    And a device "soc" with dma_mask DMA_BIT_MASK(64) bus_dma_limit 0x3FFF_FFFF
    When "soc" calls dma_map_single with phys <phys> size 4K dir DMA_BIDIRECTIONAL
    Then the result's dma_addr <where> in the swiotlb pool
    And the result's dma_addr is at most 0x3FFF_F000

    Examples:
      | last        | phys        | where  |
      | 0x3FFF_FFFF | 0x3FFF_F000 | is not |
      | 0x4000_0000 | 0x3FFF_F001 | is     |
      | 0x4000_0FFF | 0x4000_0000 | is     |

  @INV-M1 @INV-S8 @dma-core-3.8-3 @dma-core-3.8-5 @dma-core-4.4
  Scenario: A bounce slot the device cannot reach either: the slot is released and the map fails
    The same 30-bit bus limit, but the pool sits at its default place just
    below 4 GiB. swiotlb_tbl_map_single() finds a slot without looking at the
    mask; swiotlb_map() then sees that the slot is not dma_capable, releases it
    without copying back (SKIP_CPU_SYNC), warns once and returns
    DMA_MAPPING_ERROR. Nothing is left behind in the pool.
    Given a device "soc" with dma_mask DMA_BIT_MASK(64) bus_dma_limit 0x3FFF_FFFF
    When "soc" calls dma_map_single with phys 0x3FFF_F001 size 4K dir DMA_BIDIRECTIONAL
    Then it fails with DMA_MAPPING_ERROR
    And the warnings are WARN_SWIOTLB_ADDR_OVERFLOW
    When the kernel calls swiotlb_info
    Then the result has used 0
    When the kernel calls dma_debug_info
    Then the result has live_entries 0

  @INV-M1 @INV-S8 @dma-core-3.8-5
  Scenario: A 30-bit device and a pool at 0xF800_0000: swiotlb cannot help
    Given a platform with ram [{base 0x0, size 4G}, {base 0x1_0000_0000, size 2G}] swiotlb {size 64M, base 0xF800_0000}
    And a device "legacy" with dma_mask DMA_BIT_MASK(30)
    When "legacy" calls dma_map_single with phys 0x8000_0000 size 4K dir DMA_TO_DEVICE
    Then it fails with DMA_MAPPING_ERROR
    And the warnings are WARN_SWIOTLB_ADDR_OVERFLOW
    When the kernel calls swiotlb_info
    Then the result has used 0
    When "legacy" calls dma_map_single with phys 0x3FFF_F000 size 4K dir DMA_TO_DEVICE
    Then the result has dma_addr 0x3FFF_F000

  @INV-M1 @R23 @dma-core-3.8-6
  Scenario: No swiotlb pool at all: a buffer above the mask cannot be mapped
    If all RAM was below 4 GiB at boot, or swiotlb=noforce was given, no pool
    exists. dma_direct_map_page() has nothing to bounce with and fails with a
    single "DMA addr ... overflow" warning; the driver must check the result
    with dma_mapping_error() (R23).
    Given a platform with ram [{base 0x0, size 4G}, {base 0x1_0000_0000, size 2G}]
    And a device "nic" with dma_mask DMA_BIT_MASK(32)
    When "nic" calls dma_map_single with phys 0x1_2345_6000 size 8K dir DMA_TO_DEVICE as buf
    Then it fails with DMA_MAPPING_ERROR
    And the warnings are WARN_DMA_ADDR_OVERFLOW
    When "nic" calls dma_mapping_error with dma_addr 0xffff_ffff_ffff_ffff
    Then it fails with -ENOMEM
    When the kernel calls dma_debug_info
    Then the result has live_entries 0

  @R15 @INV-D1 @dma-core-2.1
  Scenario: A 64-bit device reaches all of RAM directly; the DMA address is the physical address
    No IOMMU translates here (R15: portable drivers must not assume one): the
    handle the device is given is the CPU physical address.
    Given a device "nvme" with dma_mask DMA_BIT_MASK(64)
    When "nvme" calls dma_map_page with phys 0x1_7FFF_F000 size 4K dir DMA_FROM_DEVICE
    Then the result has dma_addr 0x1_7FFF_F000
    And there are no warnings
