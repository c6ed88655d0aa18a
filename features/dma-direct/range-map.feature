Feature: dma_range_map: devices that see RAM at a different bus address
  Many SoCs wire a device's bus so that it sees a window of RAM at another
  address: dev->dma_range_map lists {cpu_start, dma_start, size} regions (from
  the devicetree dma-ranges or ACPI _DMA). translate_phys_to_dma() walks the
  regions in order and the first one that contains the physical address wins;
  an address no region contains translates to DMA_MAPPING_ERROR, chosen so that
  the following dma_capable() check fails and the buffer is bounced (or the
  map fails). translate_dma_to_phys() is the reverse and gives all-ones for an
  address outside every region.

  This matters to swiotlb too: the bounce pool must itself lie inside a
  window, otherwise its slots have no DMA address the device can use.

  The SoC below has 3 GiB of RAM; its device sees the CPU range
  [0x8000_0000, 0xC000_0000) at bus address 0 and nothing else.

  Background:
    Given a platform with ram [{base 0x0, size 3G}] swiotlb {size 64M, base 0x9000_0000}
    And a device "vpu" with dma_mask DMA_BIT_MASK(32) dma_range_map [{cpu_start 0x8000_0000, dma_start 0x0, size 0x4000_0000}]

  @INV-D1 @INV-D4 @dma-core-3.8-4
  Scenario: phys_to_dma(0x8000_1000) is 0x1000, and the device reaches the buffer there
    When the CPU calls cpu_write with phys 0x8000_1000 data {len 4096, seed 3}
    And "vpu" calls dma_map_single with phys 0x8000_1000 size 4K dir DMA_TO_DEVICE as buf
    Then the result has dma_addr 0x1000
    And the result's dma_addr is not in the swiotlb pool
    And there are no warnings
    When "vpu" calls device_read with dma_addr 0x1000 size 4K
    Then the result has data {len 4096, seed 3}

  @INV-D2 @dma-core-3.8-4
  Scenario: A buffer outside the window translates to DMA_MAPPING_ERROR, so it is bounced
    phys_to_dma(0xC000_0000) is DMA_MAPPING_ERROR, which dma_capable() refuses.
    The pool at 0x9000_0000 lies inside the window, so its slot has the bus
    address 0x1000_0000 + offset and the device can use it.
    When the CPU calls cpu_write with phys 0xC000_0000 data {len 512, seed 4}
    And "vpu" calls dma_map_single with phys 0xC000_0000 size 512 dir DMA_TO_DEVICE as buf
    Then the result's dma_addr is in the swiotlb pool
    And the result's dma_addr is at least 0x1000_0000
    And the result's dma_addr is below 0x1400_0000
    And there are no warnings
    When "vpu" calls device_read with dma_addr $buf size 512
    Then the result has data {len 512, seed 4}

  @INV-M1 @dma-core-3.8-4 @dma-core-3.8-6
  Scenario: Without swiotlb a buffer outside the window cannot be mapped
    Given a platform with ram [{base 0x0, size 3G}]
    And a device "vpu" with dma_mask DMA_BIT_MASK(32) dma_range_map [{cpu_start 0x8000_0000, dma_start 0x0, size 0x4000_0000}]
    When "vpu" calls dma_map_single with phys 0xC000_0000 size 512 dir DMA_TO_DEVICE
    Then it fails with DMA_MAPPING_ERROR
    And the warnings are WARN_DMA_ADDR_OVERFLOW

  @INV-M1 @INV-S8 @dma-core-3.8-4 @dma-core-4.2
  Scenario: A pool outside the window is useless to the device: swiotlb reports itself full
    On a board with 4 GiB of RAM the default pool sits at the top of RAM below
    4 GiB, at 0xFC00_0000, outside the device's window. The slot search works
    in bus addresses: swiotlb_search_pool_area() starts from
    phys_to_dma_unencrypted(pool->start) & boundary_mask, which here is
    DMA_MAPPING_ERROR & 0xFFFF_FFFF = 0xFFFF_FFFF. No slot address computed
    from it is ever 2 KiB-aligned, so every candidate is skipped and the map
    fails with "swiotlb buffer is full" on an empty pool.
    Given a platform with ram [{base 0x0, size 4G}] swiotlb {size 64M}
    And a device "vpu" with dma_mask DMA_BIT_MASK(32) dma_range_map [{cpu_start 0x8000_0000, dma_start 0x0, size 0x4000_0000}]
    When the kernel calls swiotlb_info
    Then the result has start 0xfc00_0000 used 0
    When "vpu" calls dma_map_single with phys 0x1000 size 512 dir DMA_TO_DEVICE
    Then it fails with DMA_MAPPING_ERROR
    And the warnings are WARN_SWIOTLB_FULL
    When the kernel calls swiotlb_info
    Then the result has used 0

  @INV-D4 @dma-core-3.8-4 @dma-core-3.1
  Scenario: dma_to_phys(0x4000_0000) is all-ones: nothing is behind that bus address
    The first bus address past the window maps to no CPU address, so a device
    access there cannot reach memory.
    When "vpu" calls device_write with dma_addr 0x4000_0000 data deadbeef
    Then the device faults
    When "vpu" calls device_read with dma_addr 0x3FFF_FFFC size 4
    Then it succeeds

  @INV-D1 @INV-D4 @dma-core-3.1
  Scenario Outline: The first region containing the address wins (phys <phys> -> bus <dma>)
    Two windows: low RAM appears at 4 GiB on the bus, and [2 GiB, 3 GiB) appears
    at 0. The device drives 64 bits, so every translated address is reachable.
    Given a device "gpu" with dma_mask DMA_BIT_MASK(64) dma_range_map [{cpu_start 0x0, dma_start 0x1_0000_0000, size 2G}, {cpu_start 0x8000_0000, dma_start 0x0, size 1G}]
    When "gpu" calls dma_map_page with phys <phys> size 4K dir DMA_FROM_DEVICE
    Then the result has dma_addr <dma>

    Examples:
      | phys        | dma           |
      | 0x0         | 0x1_0000_0000 |
      | 0x7FFF_F000 | 0x1_7FFF_F000 |
      | 0x8000_0000 | 0x0           |
      | 0xA000_0000 | 0x2000_0000   |

  @R11 @dma-core-2.6 @dma-core-3.7
  Scenario: A window that leaves RAM uncovered makes the device addressing-limited
    dma_addressing_limited() is also true when dma_direct_all_ram_mapped() finds
    RAM outside every region, however wide the mask is.
    Given a device "wide" with dma_mask DMA_BIT_MASK(64) dma_range_map [{cpu_start 0x8000_0000, dma_start 0x0, size 0x4000_0000}]
    When "wide" calls dma_addressing_limited
    Then the result has value true
    When "wide" calls dma_max_mapping_size
    Then the result has size 262144

  @R10 @dma-core-2.6
  Scenario: The required mask is computed in bus addresses
    All RAM, [2 GiB, 4 GiB), appears at bus address 0: the last page is at bus
    address 0x7FFF_F000, so 31 bits suffice and nothing is limited: even
    without a swiotlb pool the last page maps directly.
    Given a platform with ram [{base 0x8000_0000, size 2G}]
    And a device "dev" with dma_mask DMA_BIT_MASK(31) dma_range_map [{cpu_start 0x8000_0000, dma_start 0x0, size 2G}]
    When "dev" calls dma_get_required_mask
    Then the result has mask 0x7fff_ffff
    When "dev" calls dma_addressing_limited
    Then the result has value false
    When "dev" calls dma_map_single with phys 0xFFFF_F000 size 4K dir DMA_TO_DEVICE
    Then the result has dma_addr 0x7FFF_F000

  @R22 @U2 @dma-core-2.2
  Scenario: dma_map_resource is not translated: MMIO goes to the bus as its physical address
    A peer device's register window (here at 0xE000_0000, not RAM) is mapped
    with dma_map_resource(). dma_direct_map_resource() uses the physical
    address as the DMA address without consulting dma_range_map, and never
    bounces.
    When "vpu" calls dma_map_resource with phys 0xE000_0000 size 4K dir DMA_TO_DEVICE as mmio
    Then the result has dma_addr 0xE000_0000
    And there are no warnings
    When "vpu" calls dma_mapping_error with dma_addr $mmio
    Then it succeeds
    When "vpu" calls dma_unmap_resource with dma_addr $mmio size 4K dir DMA_TO_DEVICE
    Then there are no warnings

  @R20 @dma-core-3.1
  Scenario: Syncing an address outside the range map oopses a non-coherent device
    dma_to_phys gives all-ones for an address no region covers (§3.1); the
    arm64 cache maintenance that follows would touch no memory and fault. The
    model reports the oops as a BUG result instead of crashing.
    Given a platform with arch arm64 ram [{base 0x80000000, size 1G}]
    And a device "soc" with coherent false dma_range_map [{cpu_start 0x80000000, dma_start 0x0, size 1G}]
    When "soc" calls dma_sync_single_for_cpu with dma_addr 0x40000000 size 4K dir DMA_FROM_DEVICE
    Then it fails with BUG
    And the warnings include BUG_UNTRANSLATABLE_DMA_ADDRESS
