Feature: dma-debug's ledger and counters: the observable behaviours of dma-core.md §6.5

  dma-debug keeps one entry per live single/page/resource mapping, per MAPPED
  sg segment and per coherent allocation (DBG-1), preallocates 65536 entries
  (dma_debug_entries=), and exports its counters in debugfs dma-api/
  (error_count, num_free_entries, nr_total_entries, disabled). dma_debug_info
  reads them, plus the number of live entries. error_count counts every
  finding; by default (num_errors = 1) only the first is printed, the rest
  only count.

  Background:
    Given a platform
    And a device "nic"

  @DBG-4 @dma-core-6.1
  Scenario: 65536 preallocated entries; each live mapping takes one, each sg segment one
    When the kernel calls dma_debug_info
    Then the result has nr_total_entries 65536 num_free_entries 65536 live_entries 0 error_count 0 disabled false
    When "nic" calls dma_map_page with phys 0x1000_0000 size 4K dir DMA_TO_DEVICE as p
    And "nic" calls dma_map_sg with sg [{phys 0x1000_2000, length 4K}, {phys 0x1000_4000, length 4K}, {phys 0x1000_6000, length 4K}] dir DMA_TO_DEVICE as s
    And "nic" calls dma_alloc_coherent with size 4K as c
    And the kernel calls dma_debug_info
    Then the result has nr_total_entries 65536 num_free_entries 65531 live_entries 5
    When "nic" calls dma_unmap_sg with sg $s dir DMA_TO_DEVICE
    And the kernel calls dma_debug_info
    Then the result has num_free_entries 65534 live_entries 2

  @R20 @R39 @H16 @dma-core-6.5-1 @dma-core-6.5-8 @DBG-2
  Scenario: §6.5-1: a 4096-byte unchecked map unmapped with 2048 bytes, then unmapped again
    Both findings of the first unmap count (error_count +2) and the entry is
    removed anyway, so the second unmap is "not allocated".
    Given "nic" calls dma_map_single with phys 0x1000_0000 size 4096 dir DMA_TO_DEVICE as buf
    When "nic" calls dma_unmap_single with dma_addr $buf size 2048 dir DMA_TO_DEVICE
    Then the warnings are DEBUG_FREE_WRONG_SIZE, DEBUG_MAP_ERROR_NOT_CHECKED
    When the kernel calls dma_debug_info
    Then the result has error_count 2 live_entries 0
    When "nic" calls dma_unmap_single with dma_addr $buf size 2048 dir DMA_TO_DEVICE
    Then the warnings are DEBUG_FREE_NOT_ALLOCATED
    When the kernel calls dma_debug_info
    Then the result has error_count 3

  @R39 @H16 @dma-core-6.5-7
  Scenario: §6.5-7: one buffer mapped twice, checked once between the maps, unmapped twice
    Without an IOMMU both maps return the same address. dma_mapping_error()
    marks one entry per call. The first unmap finds two perfect candidates and
    takes the first (the checked one); the second unmap gets the unchecked one.
    Given "nic" calls dma_map_page with phys 0x1000_0000 size 4K dir DMA_TO_DEVICE as a
    And "nic" calls dma_mapping_error with dma_addr $a
    And "nic" calls dma_map_page with phys 0x1000_0000 size 4K dir DMA_TO_DEVICE as b
    Then the result's dma_addr is $a
    When "nic" calls dma_unmap_page with dma_addr $a size 4K dir DMA_TO_DEVICE
    Then there are no warnings
    When "nic" calls dma_unmap_page with dma_addr $a size 4K dir DMA_TO_DEVICE
    Then the warnings are DEBUG_MAP_ERROR_NOT_CHECKED

  @R39 @dma-core-6.5-7 @dma-core-6.2
  Scenario: dma-debug's own map hook checks the address, which marks an older twin as checked
    debug_dma_map_page() starts with dma_mapping_error(dev, dma_addr) to skip
    failed maps, and that inline calls debug_dma_mapping_error(): the second
    map of the same address marks the first entry checked. One explicit check
    after the second map then covers both.
    Given "nic" calls dma_map_page with phys 0x1000_0000 size 4K dir DMA_TO_DEVICE as a
    And "nic" calls dma_map_page with phys 0x1000_0000 size 4K dir DMA_TO_DEVICE as b
    And "nic" calls dma_mapping_error with dma_addr $b
    When "nic" calls dma_unmap_page with dma_addr $a size 4K dir DMA_TO_DEVICE
    Then there are no warnings
    When "nic" calls dma_unmap_page with dma_addr $a size 4K dir DMA_TO_DEVICE
    Then there are no warnings

  @R20 @DBG-2 @dma-core-6.5-8
  Scenario: §6.5-8: error_count never decreases and counts every finding
    Given "nic" calls dma_unmap_page with dma_addr 0x1000_0000 size 4K dir DMA_TO_DEVICE
    And "nic" calls dma_unmap_page with dma_addr 0x1000_0000 size 4K dir DMA_TO_DEVICE
    And "nic" calls dma_sync_single_for_cpu with dma_addr 0x1000_0000 size 4K dir DMA_TO_DEVICE
    When the kernel calls dma_debug_info
    Then the result has error_count 3
    When "nic" calls dma_map_page with phys 0x1000_0000 size 4K dir DMA_TO_DEVICE as ok
    And "nic" calls dma_mapping_error with dma_addr $ok
    And "nic" calls dma_unmap_page with dma_addr $ok size 4K dir DMA_TO_DEVICE
    And the kernel calls dma_debug_info
    Then the result has error_count 3

  @R23 @R22 @dma-core-6.2 @dma-core-6.7
  Scenario Outline: A failed dma_map_resource is recorded in 6.12 only (linux <linux>)
    In 6.12 debug_dma_map_resource() has no error-value filter: the failed map
    becomes an entry with dev_addr DMA_MAPPING_ERROR. Newest routes resources
    through debug_dma_map_phys(), which skips the error value like the page path.
    Given a platform with linux <linux> ram [{base 0x0, size 2G}]
    And a device "nic" with dma_mask DMA_BIT_MASK(32)
    When "nic" calls dma_map_resource with phys 0x1_0000_0000 size 4K dir DMA_TO_DEVICE
    Then it fails with DMA_MAPPING_ERROR
    When the kernel calls dma_debug_info
    Then the result has live_entries <live>

    Examples:
      | linux  | live |
      | 6.12   | 1    |
      | newest | 0    |

  @R20 @dma-core-6.1
  Scenario: Without CONFIG_DMA_API_DEBUG nothing is checked and there is nothing to read
    Given a platform with dma_debug false
    And a device "nic"
    When "nic" calls dma_unmap_page with dma_addr 0x1000_0000 size 4K dir DMA_TO_DEVICE
    Then there are no warnings
    When the kernel calls dma_debug_info
    Then it fails with -ENODEV
