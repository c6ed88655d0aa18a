Feature: DMA attributes on the streaming direct path
  The _attrs variants of the map calls take DMA_ATTR_* flags. With attrs 0
  they are exactly the plain calls (R30). On the direct streaming path:

  - WEAK_ORDERING, WRITE_COMBINE, PRIVILEGED, FORCE_CONTIGUOUS,
    ALLOC_SINGLE_PAGES and NO_KERNEL_MAPPING are hints for allocations or IOMMU
    page tables; dma-direct ignores them (A3).
  - SKIP_CPU_SYNC skips the cache maintenance of the map (and of the unmap),
    but swiotlb still copies the buffer into the bounce slot on map. It is only
    safe when the buffer is already in the device domain, e.g. a second mapping
    of one buffer for another device (A2).
  - MMIO (upstream, U2) maps a non-RAM physical address, such as a peer
    device's BAR: the DMA address is the physical address itself, with no
    dma_range_map translation, no cache maintenance and never a bounce.
  - REQUIRE_COHERENT (upstream, U3) makes the map fail wherever swiotlb or cache
    maintenance would be needed, for uAPIs (RDMA, HMM, DRM) that need
    continuous coherence.

  Background:
    Given a platform with ram [{base 0x0, size 3G}, {base 0x1_0000_0000, size 3G}] swiotlb {size 64M}
    And a device "nic" with dma_mask DMA_BIT_MASK(32)

  # ---- hints (A3, R30) ------------------------------------------------------

  @A3 @R30 @INV-D1 @INV-D2 @dma-core-2.7
  Scenario Outline: <attrs> changes nothing on the streaming direct path
    The same two buffers as with attrs 0: the low one mapped 1:1, the high one
    bounced.
    When "nic" calls dma_map_page with phys 0x1000_0000 size 4K dir DMA_BIDIRECTIONAL attrs <attrs>
    Then the result has dma_addr 0x1000_0000
    And there are no warnings
    When "nic" calls dma_map_page with phys 0x1_0000_0000 size 4K dir DMA_BIDIRECTIONAL attrs <attrs>
    Then the result's dma_addr is in the swiotlb pool
    And there are no warnings

    Examples:
      | attrs                         |
      | []                            |
      | [DMA_ATTR_WEAK_ORDERING]      |
      | [DMA_ATTR_WRITE_COMBINE]      |
      | [DMA_ATTR_PRIVILEGED]         |
      | [DMA_ATTR_FORCE_CONTIGUOUS]   |
      | [DMA_ATTR_ALLOC_SINGLE_PAGES] |
      | [DMA_ATTR_NO_KERNEL_MAPPING]  |
      | [DMA_ATTR_NO_WARN]            |
      | [DMA_ATTR_WEAK_ORDERING, DMA_ATTR_PRIVILEGED] |

  # ---- SKIP_CPU_SYNC (A2) ------------------------------------------------------

  @A2 @INV-S5 @dma-core-2.7 @dma-core-4.3
  Scenario: SKIP_CPU_SYNC on map still fills the bounce slot
    swiotlb_tbl_map_single() copies the original into the slot whatever the
    attributes; SKIP_CPU_SYNC only skips cache maintenance.
    When the CPU calls cpu_write with phys 0x1_0000_0000 data {len 4096, seed 21}
    And "nic" calls dma_map_page with phys 0x1_0000_0000 size 4K dir DMA_TO_DEVICE attrs [DMA_ATTR_SKIP_CPU_SYNC] as buf
    Then the result's dma_addr is in the swiotlb pool
    When "nic" calls device_read with dma_addr $buf size 4K
    Then the result has data {len 4096, seed 21}

  @A2 @dma-core-2.7 @dma-core-5.3
  Scenario: SKIP_CPU_SYNC is right for a second mapping of a buffer already in the device domain
    On a non-coherent SoC the first map cleans the CPU cache; a second mapping
    of the same buffer for another device may skip that work and still sees
    the data. Only one clean happens.
    Given a platform with arch arm64 ram [{base 0x0, size 4G}] swiotlb {size 4M}
    And a device "enc" with dma_mask DMA_BIT_MASK(64) coherent false
    And a device "mux" with dma_mask DMA_BIT_MASK(64) coherent false
    When the CPU calls cpu_write with phys 0x1000_0000 data {len 4096, seed 5}
    And "enc" calls dma_map_page with phys 0x1000_0000 size 4K dir DMA_TO_DEVICE as a
    And "mux" calls dma_map_page with phys 0x1000_0000 size 4K dir DMA_TO_DEVICE attrs [DMA_ATTR_SKIP_CPU_SYNC] as b
    Then the result has dma_addr 0x1000_0000
    When "mux" calls device_read with dma_addr $b size 4K
    Then the result has data {len 4096, seed 5}
    When the kernel calls platform_counters
    Then the result has cleans 1

  @A2 @R17 @dma-core-2.7 @dma-core-5.3
  Scenario: SKIP_CPU_SYNC on a buffer the CPU just wrote leaves the device reading stale memory
    The CPU's bytes are still in its cache; without the clean the
    non-coherent device reads what RAM held before.
    Given a platform with arch arm64 ram [{base 0x0, size 4G}] swiotlb {size 4M}
    And a device "enc" with dma_mask DMA_BIT_MASK(64) coherent false
    When the CPU calls cpu_write with phys 0x1000_0000 data {len 64, seed 5}
    And "enc" calls dma_map_page with phys 0x1000_0000 size 64 dir DMA_TO_DEVICE attrs [DMA_ATTR_SKIP_CPU_SYNC] as a
    Then the result has dma_addr 0x1000_0000
    When "enc" calls device_read with dma_addr $a size 64
    Then the result has data {len 64, fill 0}

  # ---- MMIO (U2, R22) -------------------------------------------------------------

  @U2 @R22 @dma-core-2.7 @dma-core-3.3
  Scenario: DMA_ATTR_MMIO maps a peer BAR at its physical address, untranslated
    The device sees RAM through a dma_range_map window, but a peer's BAR at
    0xE000_0000 (not RAM) is passed through as is.
    Given a device "p2p" with dma_mask DMA_BIT_MASK(32) dma_range_map [{cpu_start 0x0, dma_start 0x8000_0000, size 2G}]
    When "p2p" calls dma_map_phys with phys 0xE000_0000 size 64K dir DMA_BIDIRECTIONAL attrs [DMA_ATTR_MMIO] as bar
    Then the result has dma_addr 0xE000_0000
    And there are no warnings
    When "p2p" calls dma_mapping_error with dma_addr $bar
    Then it succeeds
    When "p2p" calls dma_unmap_phys with dma_addr $bar size 64K dir DMA_BIDIRECTIONAL attrs [DMA_ATTR_MMIO]
    Then there are no warnings

  @U2 @INV-M1 @dma-core-2.7 @dma-core-3.3
  Scenario: An MMIO range above the mask fails; it is never bounced
    Bouncing MMIO through RAM would be meaningless, so dma_direct_map_phys()
    does not even consider swiotlb: "DMA addr ... overflow" and
    DMA_MAPPING_ERROR.
    When "nic" calls dma_map_phys with phys 0xF_0000_0000 size 4K dir DMA_TO_DEVICE attrs [DMA_ATTR_MMIO]
    Then it fails with DMA_MAPPING_ERROR
    And the warnings are WARN_DMA_ADDR_OVERFLOW
    When the kernel calls swiotlb_info
    Then the result has used 0

  @U2 @INV-M1 @dma-core-2.7
  Scenario: DMA_ATTR_MMIO on a device forced to bounce fails
    Given a device "cc" with dma_mask DMA_BIT_MASK(64) force_bounce true
    When "cc" calls dma_map_phys with phys 0xE000_0000 size 4K dir DMA_TO_DEVICE attrs [DMA_ATTR_MMIO]
    Then it fails with DMA_MAPPING_ERROR
    When the kernel calls swiotlb_info
    Then the result has used 0

  @U2 @dma-core-2.2
  Scenario: DMA_ATTR_MMIO must never be passed to dma_map_page_attrs
    Upstream dma_map_page_attrs() refuses it outright: a struct page is RAM.
    When "nic" calls dma_map_page with phys 0xE000_0000 size 4K dir DMA_TO_DEVICE attrs [DMA_ATTR_MMIO]
    Then it fails with DMA_MAPPING_ERROR

  @U2 @dma-core-2.7 @dma-core-5.3
  Scenario: DMA_ATTR_MMIO does no cache maintenance on a non-coherent device
    Given a platform with arch arm64 ram [{base 0x0, size 3G}] swiotlb {size 4M}
    And a device "gpu" with dma_mask DMA_BIT_MASK(64) coherent false
    When "gpu" calls dma_map_phys with phys 0xE000_0000 size 64K dir DMA_BIDIRECTIONAL attrs [DMA_ATTR_MMIO] as bar
    Then the result has dma_addr 0xE000_0000
    When "gpu" calls dma_unmap_phys with dma_addr $bar size 64K dir DMA_BIDIRECTIONAL attrs [DMA_ATTR_MMIO]
    And the kernel calls platform_counters
    Then the result has cleans 0 invalidates 0 flushes 0

  @U2 @R22 @dma-core-2.2 @dma-core-6.7
  Scenario Outline: Mapping RAM as MMIO is a contract finding (<op>, newest)
    dma-debug checks that a DMA_ATTR_MMIO address is not ordinary RAM: "dma_map_resource
    called for RAM address". The mapping itself succeeds, at the physical
    address, untranslated and unbounced.
    When "nic" calls <op> with phys 0x1000_0000 size 4K dir DMA_TO_DEVICE <attrs>
    Then the result has dma_addr 0x1000_0000
    And the warnings are DEBUG_MAP_RESOURCE_RAM

    Examples:
      | op               | attrs                  |
      | dma_map_resource |                        |
      | dma_map_phys     | attrs [DMA_ATTR_MMIO]  |

  @R22 @dma-core-2.2
  Scenario: 6.12 dma_map_resource has no RAM check
    dma_direct_map_resource() returns the physical address after the
    capability check, and 6.12's dma-debug records a "resource" entry without
    asking what lies behind it.
    Given a platform with ram [{base 0x0, size 3G}] swiotlb {size 64M} linux 6.12
    And a device "nic" with dma_mask DMA_BIT_MASK(32)
    When "nic" calls dma_map_resource with phys 0x1000_0000 size 4K dir DMA_TO_DEVICE
    Then the result has dma_addr 0x1000_0000
    And there are no warnings

  # ---- REQUIRE_COHERENT (U3) --------------------------------------------------------

  @U3 @INV-D1 @dma-core-2.7
  Scenario: REQUIRE_COHERENT succeeds where nothing has to be done
    When "nic" calls dma_map_phys with phys 0x1000_0000 size 64K dir DMA_BIDIRECTIONAL attrs [DMA_ATTR_REQUIRE_COHERENT] as mr
    Then the result has dma_addr 0x1000_0000
    And there are no warnings
    When "nic" calls dma_mapping_error with dma_addr $mr
    Then it succeeds
    When "nic" calls dma_unmap_phys with dma_addr $mr size 64K dir DMA_BIDIRECTIONAL attrs [DMA_ATTR_REQUIRE_COHERENT]
    Then there are no warnings

  @U3 @INV-M1 @dma-core-2.7 @dma-core-3.3
  Scenario: REQUIRE_COHERENT refuses to bounce an unreachable buffer
    When "nic" calls dma_map_phys with phys 0x1_0000_0000 size 64K dir DMA_BIDIRECTIONAL attrs [DMA_ATTR_REQUIRE_COHERENT]
    Then it fails with DMA_MAPPING_ERROR
    And the warnings are WARN_DMA_ADDR_OVERFLOW
    When the kernel calls swiotlb_info
    Then the result has used 0

  @U3 @INV-M1 @dma-core-2.7
  Scenario: REQUIRE_COHERENT fails on a device that is forced to bounce
    Given a device "cc" with dma_mask DMA_BIT_MASK(64) force_bounce true
    When "cc" calls dma_map_phys with phys 0x1000_0000 size 4K dir DMA_BIDIRECTIONAL attrs [DMA_ATTR_REQUIRE_COHERENT]
    Then it fails with DMA_MAPPING_ERROR
    When the kernel calls swiotlb_info
    Then the result has used 0

  @U3 @INV-M1 @dma-core-2.2
  Scenario: REQUIRE_COHERENT fails on a non-coherent device, before any cache maintenance
    Given a platform with arch arm64 ram [{base 0x0, size 4G}] swiotlb {size 4M}
    And a device "gpu" with dma_mask DMA_BIT_MASK(64) coherent false
    When "gpu" calls dma_map_phys with phys 0x1000_0000 size 4K dir DMA_BIDIRECTIONAL attrs [DMA_ATTR_REQUIRE_COHERENT]
    Then it fails with DMA_MAPPING_ERROR
    When the kernel calls platform_counters
    Then the result has cleans 0 flushes 0
