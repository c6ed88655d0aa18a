Feature: dma_need_sync and dma_need_unmap: when a driver may skip sync and unmap calls
  Drivers with hot receive paths ask dma_need_sync() once and then skip
  dma_sync_single_for_{cpu,device}() when it is false (R13); page_pool asks
  the per-device half, dma_dev_need_sync(). The answer has two layers:

  - dma_dev_need_sync(dev): !dev->dma_skip_sync || CONFIG_DMA_API_DEBUG. The
    inline sync wrappers skip their call entirely when this is false.
    dma_set_mask() sets dma_skip_sync to dev_is_dma_coherent(dev)
    (dma_setup_need_sync), and the first swiotlb mapping of the device clears
    it for good (dma_reset_need_sync in swiotlb_tbl_map_single).
  - dma_direct_need_sync(dev, addr): the device is non-coherent, or addr is a
    swiotlb bounce slot.

  dma_need_unmap() (upstream, U5) is true when the device is not direct, syncs
  are needed (dma_skip_sync false) or dma-debug is on. Like dma_need_sync it can
  flip to true after the first bounce, so a driver must ask only after every
  mapping that might need an unmap exists.

  Background:
    Given a platform with ram [{base 0x0, size 4G}, {base 0x1_0000_0000, size 2G}] swiotlb {size 64M} dma_debug false
    And a device "nic" with dma_mask DMA_BIT_MASK(32)

  @R13 @dma-core-2.8-7
  Scenario: A coherent device needs syncs only for bounced addresses, and only after its first bounce
    dma_set_mask() sets dma_skip_sync (the device is coherent), so before any
    bounce even a pool address reports false: dma_dev_need_sync() is false and
    the inline wrappers return at once. The first swiotlb map clears
    dma_skip_sync; from then on a pool address reports true and a directly
    mapped one still false.
    When "nic" calls dma_set_mask with mask DMA_BIT_MASK(32)
    Then it succeeds
    When "nic" calls dma_need_sync with dma_addr 0x1000_0000
    Then the result has value false
    When "nic" calls dma_need_sync with dma_addr 0xfc00_0000
    Then the result has value false
    When "nic" calls dma_map_single with phys 0x1_0000_0000 size 4K dir DMA_FROM_DEVICE as rx
    Then the result's dma_addr is in the swiotlb pool
    When "nic" calls dma_need_sync with dma_addr $rx
    Then the result has value true
    When "nic" calls dma_need_sync with dma_addr 0x1000_0000
    Then the result has value false

  @R13 @dma-core-2.5
  Scenario: With CONFIG_DMA_API_DEBUG the sync wrappers are never skipped, so a pool address needs syncs at once
    Given a platform with ram [{base 0x0, size 4G}, {base 0x1_0000_0000, size 2G}] swiotlb {size 64M} dma_debug true
    And a device "nic" with dma_mask DMA_BIT_MASK(32)
    When "nic" calls dma_set_mask with mask DMA_BIT_MASK(32)
    Then it succeeds
    When "nic" calls dma_need_sync with dma_addr 0xfc00_0000
    Then the result has value true
    When "nic" calls dma_need_sync with dma_addr 0x1000_0000
    Then the result has value false

  @R13 @dma-core-3.7
  Scenario Outline: A non-coherent device always needs syncs (<where>)
    On arm64 a device that does not snoop the CPU caches needs cache maintenance
    at every ownership change, bounced or not.
    Given a platform with arch arm64 ram [{base 0x0, size 4G}, {base 0x1_0000_0000, size 2G}] swiotlb {size 64M} dma_debug false
    And a device "dma" with dma_mask DMA_BIT_MASK(64) coherent false
    When "dma" calls dma_set_mask with mask DMA_BIT_MASK(64)
    Then it succeeds
    When "dma" calls dma_need_sync with dma_addr <dma_addr>
    Then the result has value true

    Examples:
      | where           | dma_addr      |
      | low RAM         | 0x1000_0000   |
      | high RAM        | 0x1_2345_6000 |
      | the swiotlb pool| 0xfc00_0000   |

  @R13 @dma-core-4.8-7
  Scenario: swiotlb=force bounces every map, so a coherent device needs its syncs
    A confidential-computing guest cannot let devices see private memory, so
    every streaming map goes through the (shared) pool, even for a 64-bit
    device and a low buffer.
    Given a platform with ram [{base 0x0, size 4G}] swiotlb {size 64M, force true} dma_debug false
    And a device "nic" with dma_mask DMA_BIT_MASK(64)
    When "nic" calls dma_set_mask_and_coherent with mask DMA_BIT_MASK(64)
    Then it succeeds
    When "nic" calls dma_map_page with phys 0x1000_0000 size 1500 dir DMA_TO_DEVICE as tx
    Then the result's dma_addr is in the swiotlb pool
    When "nic" calls dma_need_sync with dma_addr $tx
    Then the result has value true
    When "nic" calls dma_map_page with phys 0x2000_0000 size 9000 dir DMA_FROM_DEVICE as rx
    Then the result's dma_addr is in the swiotlb pool
    When "nic" calls dma_need_sync with dma_addr $rx
    Then the result has value true

  @R13 @R29 @R18 @dma-core-2.5
  Scenario: Skipping dma_sync_single_for_cpu on a bounced buffer hides the device's data
    The receive buffer is reused without unmapping. Its data lands in the bounce
    slot; only dma_sync_single_for_cpu() copies it to the driver's buffer. A
    driver that skipped the sync although dma_need_sync() said true reads stale
    bytes.
    When "nic" calls dma_set_mask with mask DMA_BIT_MASK(32)
    Then it succeeds
    When the CPU calls cpu_write with phys 0x1_0000_0000 data {len 64, fill 0}
    And "nic" calls dma_map_single with phys 0x1_0000_0000 size 64 dir DMA_FROM_DEVICE as rx
    Then the result's dma_addr is in the swiotlb pool
    When "nic" calls dma_need_sync with dma_addr $rx
    Then the result has value true
    When "nic" calls device_write with dma_addr $rx data {len 64, seed 42}
    And the CPU calls cpu_read with phys 0x1_0000_0000 size 64
    Then the result has data {len 64, fill 0}
    When "nic" calls dma_sync_single_for_cpu with dma_addr $rx size 64 dir DMA_FROM_DEVICE
    And the CPU calls cpu_read with phys 0x1_0000_0000 size 64
    Then the result has data {len 64, seed 42}

  @R13 @H20 @dma-core-2.5
  Scenario: When dma_need_sync is false the device's data is visible without any sync
    A coherent device writing a directly mapped buffer writes RAM the CPU
    snoops: skipping the sync is safe, exactly what dma_need_sync() promised.
    When "nic" calls dma_set_mask with mask DMA_BIT_MASK(32)
    Then it succeeds
    When "nic" calls dma_map_single with phys 0x1000_0000 size 64 dir DMA_FROM_DEVICE as rx
    Then the result has dma_addr 0x1000_0000
    When "nic" calls dma_need_sync with dma_addr $rx
    Then the result has value false
    When "nic" calls device_write with dma_addr $rx data {len 64, seed 9}
    And the CPU calls cpu_read with phys 0x1000_0000 size 64
    Then the result has data {len 64, seed 9}

  @H20 @INV-S5 @dma-core-3.4
  Scenario Outline: No sync call is needed when the CPU does not touch the buffer between map and unmap (<dir>)
    Map copies the buffer into the bounce slot and unmap copies it back
    (dma_direct_unmap_page runs the full sync_for_cpu), so a map - device
    transfer - unmap sequence needs nothing else, bounced or not.
    When the CPU calls cpu_write with phys 0x1_0000_0000 data {len 4096, seed 1}
    And "nic" calls dma_map_single with phys 0x1_0000_0000 size 4K dir <dir> as buf
    Then the result's dma_addr is in the swiotlb pool
    When "nic" calls device_read with dma_addr $buf size 4K
    Then the result has data {len 4096, seed 1}
    When "nic" calls device_write with dma_addr $buf data {len 4096, seed 2}
    And "nic" calls dma_unmap_single with dma_addr $buf size 4K dir <dir>
    And the CPU calls cpu_read with phys 0x1_0000_0000 size 4K
    Then the result has data {len 4096, seed 2}

    Examples:
      | dir               |
      | DMA_FROM_DEVICE   |
      | DMA_BIDIRECTIONAL |

  @U5 @dma-core-2.5
  Scenario: dma_need_unmap turns true with the first bounce, so ask it only after mapping
    A coherent direct device in a non-debug build needs no unmap: dma-direct's
    unmap would do nothing. Once swiotlb has bounced for it, unmap must release
    the slots. A driver that asked too early and skipped the unmap would leak
    them.
    When "nic" calls dma_set_mask with mask DMA_BIT_MASK(32)
    Then it succeeds
    When "nic" calls dma_need_unmap
    Then the result has value false
    When "nic" calls dma_map_single with phys 0x1_0000_0000 size 4K dir DMA_TO_DEVICE as buf
    Then the result's dma_addr is in the swiotlb pool
    When "nic" calls dma_need_unmap
    Then the result has value true
    When "nic" calls dma_unmap_single with dma_addr $buf size 4K dir DMA_TO_DEVICE
    And the kernel calls swiotlb_info
    Then the result has used 0

  @U5 @dma-core-2.5
  Scenario Outline: dma_need_unmap is true for a non-coherent device and in a debug build (<case>)
    Given a platform with arch arm64 ram [{base 0x0, size 4G}] swiotlb {size 64M} dma_debug <debug>
    And a device "dev" with dma_mask DMA_BIT_MASK(64) coherent <coherent>
    When "dev" calls dma_set_mask with mask DMA_BIT_MASK(64)
    Then it succeeds
    When "dev" calls dma_need_unmap
    Then the result has value <need_unmap>

    Examples:
      | case                       | debug | coherent | need_unmap |
      | coherent, no dma-debug     | false | true     | false      |
      | coherent, dma-debug        | true  | true     | true       |
      | non-coherent, no dma-debug | false | false    | true       |
