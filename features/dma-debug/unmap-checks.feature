Feature: dma-debug checks at unmap and free time (dma-core.md §6.3, checks 8-15)

  check_unmap() (kernel/dma/debug.c) looks the unmap up in the hash by device and
  DMA address (bucket_find_exact: a perfect match on size, type, direction and
  sg entry count wins; otherwise the best match, but only if it is the only
  candidate). Then every applicable check fires and the entry is removed anyway:

     8  DEBUG_FREE_INVALID_ADDRESS    no entry, and the address is DMA_MAPPING_ERROR
     9  DEBUG_FREE_NOT_ALLOCATED      no (unique) entry: double unmap, wrong handle
    10  DEBUG_FREE_WRONG_SIZE         size differs
    11  DEBUG_FREE_WRONG_FUNCTION     entry type differs (single/phy, sg, coherent, resource)
    12  DEBUG_FREE_WRONG_CPU_ADDRESS  coherent free with another CPU address
    13  DEBUG_FREE_WRONG_SG_COUNT     dma_unmap_sg nents differs from the map's
    14  DEBUG_FREE_WRONG_DIRECTION    direction differs
    15  DEBUG_MAP_ERROR_NOT_CHECKED   the handle never went through dma_mapping_error()

  Newest upstream adds DEBUG_FREE_WRONG_ATTRS (dma-core.md §6.7): map and unmap
  must agree on NO_KERNEL_MAPPING, FORCE_CONTIGUOUS, MMIO, REQUIRE_COHERENT,
  PRIVILEGED and CC_SHARED. Rules: unmap with exactly the map's parameters
  (R20) through the matching function (R38), and check every single mapping
  with dma_mapping_error() first (R23, R39, H16).

  Background:
    Given a platform
    And a device "nic"

  @R20 @R38 @R39 @H16
  Scenario: A well-behaved driver: map, check, unmap with the same arguments
    When "nic" calls dma_map_single with phys 0x1000_0000 size 1500 dir DMA_TO_DEVICE as tx
    And "nic" calls dma_mapping_error with dma_addr $tx
    Then it succeeds
    When "nic" calls dma_unmap_single with dma_addr $tx size 1500 dir DMA_TO_DEVICE
    Then there are no warnings
    When the kernel calls dma_debug_info
    Then the result has error_count 0 live_entries 0

  @R20 @H22 @dma-core-6.3-8 @dma-core-6.5-6
  Scenario: Check 8: unmapping DMA_MAPPING_ERROR itself
    A driver that ignores a failed map passes the error value on to the unmap.
    When "nic" calls dma_unmap_single with dma_addr 0xffff_ffff_ffff_ffff size 4K dir DMA_TO_DEVICE
    Then the warnings are DEBUG_FREE_INVALID_ADDRESS

  @R20 @H18 @dma-core-6.3-9
  Scenario: Check 9: unmapping twice
    Given "nic" calls dma_map_page with phys 0x1000_0000 size 4K dir DMA_FROM_DEVICE as rx
    And "nic" calls dma_mapping_error with dma_addr $rx
    And "nic" calls dma_unmap_page with dma_addr $rx size 4K dir DMA_FROM_DEVICE
    When "nic" calls dma_unmap_page with dma_addr $rx size 4K dir DMA_FROM_DEVICE
    Then the warnings are DEBUG_FREE_NOT_ALLOCATED

  @R20 @dma-core-6.3-9
  Scenario: Check 9: unmapping a handle that was never returned
    Given "nic" calls dma_map_page with phys 0x1000_0000 size 4K dir DMA_FROM_DEVICE as rx
    And "nic" calls dma_mapping_error with dma_addr $rx
    When "nic" calls dma_unmap_page with dma_addr $rx+0x100 size 4K dir DMA_FROM_DEVICE
    Then the warnings are DEBUG_FREE_NOT_ALLOCATED

  @R20 @dma-core-6.3-9 @dma-core-6.1
  Scenario: Check 9: two mappings of one address and an unmap that matches neither exactly
    Without an IOMMU the same buffer mapped twice gets the same DMA address.
    bucket_find_exact() scores both candidates 3 of 4 (the size differs from
    both) and, with two candidates and no perfect match, finds nothing.
    Given "nic" calls dma_map_page with phys 0x1000_0000 size 4K dir DMA_TO_DEVICE as a
    And "nic" calls dma_mapping_error with dma_addr $a
    And "nic" calls dma_map_page with phys 0x1000_0000 size 8K dir DMA_TO_DEVICE as b
    And "nic" calls dma_mapping_error with dma_addr $b
    When "nic" calls dma_unmap_page with dma_addr $a size 2K dir DMA_TO_DEVICE
    Then the warnings are DEBUG_FREE_NOT_ALLOCATED
    When "nic" calls dma_unmap_page with dma_addr $a size 4K dir DMA_TO_DEVICE
    Then there are no warnings
    When "nic" calls dma_unmap_page with dma_addr $a size 2K dir DMA_TO_DEVICE
    Then the warnings are DEBUG_FREE_WRONG_SIZE

  @R20 @R38 @dma-core-6.3-10
  Scenario: Check 10: unmapping with a different size
    Given "nic" calls dma_map_single with phys 0x1000_0000 size 1500 dir DMA_TO_DEVICE as tx
    And "nic" calls dma_mapping_error with dma_addr $tx
    When "nic" calls dma_unmap_single with dma_addr $tx size 2K dir DMA_TO_DEVICE
    Then the warnings are DEBUG_FREE_WRONG_SIZE
    When the kernel calls dma_debug_info
    Then the result has live_entries 0 error_count 1

  @R38 @dma-core-6.3-11
  Scenario: Check 11: a coherent buffer released with dma_unmap_page
    Given "nic" calls dma_alloc_coherent with size 4K as c
    When "nic" calls dma_unmap_page with dma_addr $c size 4K dir DMA_BIDIRECTIONAL
    Then the warnings are DEBUG_FREE_WRONG_FUNCTION

  @R38 @dma-core-6.3-11
  Scenario: Check 11: an sg segment released with dma_unmap_page
    Given "nic" calls dma_map_sg with sg [{phys 0x1000_0000, length 4K}] dir DMA_TO_DEVICE as s
    When "nic" calls dma_unmap_page with dma_addr $s size 4K dir DMA_TO_DEVICE
    Then the warnings are DEBUG_FREE_WRONG_FUNCTION

  @R38 @dma-core-6.3-11 @dma-core-6.7
  Scenario Outline: A dma_map_page mapping released with dma_unmap_resource (linux <linux>)
    6.12 records the two as different entry types. Newest upstream funnels both
    into the "phy" type and tells them apart by DMA_ATTR_MMIO instead.
    Given a platform with linux <linux>
    And a device "nic"
    And "nic" calls dma_map_page with phys 0x1000_0000 size 4K dir DMA_TO_DEVICE as p
    And "nic" calls dma_mapping_error with dma_addr $p
    When "nic" calls dma_unmap_resource with dma_addr $p size 4K dir DMA_TO_DEVICE
    Then the warnings are <warnings>

    Examples:
      | linux  | warnings                  |
      | 6.12   | DEBUG_FREE_WRONG_FUNCTION |
      | newest | DEBUG_FREE_WRONG_ATTRS    |

  @R38 @dma-core-6.3-11
  Scenario Outline: dma_unmap_single of a dma_map_page mapping goes unnoticed (linux <linux>)
    In 6.12 both record the type "single", in newest both "phy": mixing the
    page and single variants is not detected (dma-core.md §6.3 check 11).
    Given a platform with linux <linux>
    And a device "nic"
    And "nic" calls dma_map_page with phys 0x1000_0000 size 4K dir DMA_TO_DEVICE as p
    And "nic" calls dma_mapping_error with dma_addr $p
    When "nic" calls dma_unmap_single with dma_addr $p size 4K dir DMA_TO_DEVICE
    Then there are no warnings
    When the kernel calls dma_debug_info
    Then the result has live_entries 0

    Examples:
      | linux  |
      | 6.12   |
      | newest |

  @R1 @dma-core-6.3-12
  Scenario: Check 12: a coherent free with another CPU address
    Given "nic" calls dma_alloc_coherent with size 8K as c
    When "nic" calls dma_free_coherent with size 8K cpu_addr $c.cpu_addr+0x1000 dma_addr $c
    Then the warnings include DEBUG_FREE_WRONG_CPU_ADDRESS

  @R27 @dma-core-6.3-13 @dma-core-6.5-5
  Scenario: Check 13: dma_unmap_sg with the returned count instead of the nents passed in
    dma-direct maps 3 entries and returns 3. The driver passes 2: entries 0 and 1
    are checked and removed, each with the finding; entry 2 stays behind and is
    the leak dma-debug reports when the driver unbinds.
    Given "nic" calls dma_map_sg with sg [{phys 0x1000_0000, length 4K}, {phys 0x1000_2000, length 4K}, {phys 0x1000_4000, length 4K}] dir DMA_TO_DEVICE as s
    When "nic" calls dma_unmap_sg with sg $s nents 2 dir DMA_TO_DEVICE
    Then the warnings are DEBUG_FREE_WRONG_SG_COUNT, DEBUG_FREE_WRONG_SG_COUNT
    When the kernel calls dma_debug_info
    Then the result has live_entries 1 error_count 2
    When device "nic" is removed
    Then the result has leaks 1
    And the warnings are DEBUG_LEAK_AT_REMOVE

  @R27 @dma-core-6.3-13
  Scenario: dma_unmap_sg with the nents given to dma_map_sg is clean
    Given "nic" calls dma_map_sg with sg [{phys 0x1000_0000, length 4K}, {phys 0x1000_2000, length 4K}, {phys 0x1000_4000, length 4K}] dir DMA_TO_DEVICE as s
    When "nic" calls dma_unmap_sg with sg $s nents 3 dir DMA_TO_DEVICE
    Then there are no warnings
    When the kernel calls dma_debug_info
    Then the result has live_entries 0

  @R20 @dma-core-6.3-14
  Scenario Outline: Check 14: mapped <map>, unmapped <unmap>
    Given "nic" calls dma_map_page with phys 0x1000_0000 size 4K dir <map> as buf
    And "nic" calls dma_mapping_error with dma_addr $buf
    When "nic" calls dma_unmap_page with dma_addr $buf size 4K dir <unmap>
    Then the warnings are DEBUG_FREE_WRONG_DIRECTION

    Examples:
      | map               | unmap             |
      | DMA_TO_DEVICE     | DMA_FROM_DEVICE   |
      | DMA_FROM_DEVICE   | DMA_BIDIRECTIONAL |
      | DMA_BIDIRECTIONAL | DMA_TO_DEVICE     |

  @R23 @R39 @H16 @dma-core-6.3-15
  Scenario Outline: Check 15: <call> result never checked with dma_mapping_error
    Given "nic" calls <call> with phys <phys> size 4K dir DMA_TO_DEVICE as buf
    When "nic" calls <unmap> with dma_addr $buf size 4K dir DMA_TO_DEVICE
    Then the warnings are DEBUG_MAP_ERROR_NOT_CHECKED

    Examples:
      | call           | unmap            | phys        |
      | dma_map_single | dma_unmap_single | 0x1000_0000 |
      | dma_map_page   | dma_unmap_page   | 0x1000_0000 |
      | dma_map_phys   | dma_unmap_phys   | 0x1000_0000 |

  @R23 @R22 @dma-core-6.3-15
  Scenario Outline: Check 15 covers dma_map_resource too (linux <linux>)
    A device's BAR at 0xc000_0000, above the 2 GiB of RAM, mapped for another
    device's DMA (peer-to-peer).
    Given a platform with linux <linux> ram [{base 0x0, size 2G}]
    And a device "nic"
    And "nic" calls dma_map_resource with phys 0xc000_0000 size 4K dir DMA_TO_DEVICE as bar
    When "nic" calls dma_unmap_resource with dma_addr $bar size 4K dir DMA_TO_DEVICE
    Then the warnings are DEBUG_MAP_ERROR_NOT_CHECKED

    Examples:
      | linux  |
      | 6.12   |
      | newest |

  @R23 @R39 @dma-core-6.3-15 @dma-core-6.2
  Scenario: Check 15 never fires for scatterlists or coherent buffers
    Their entries are recorded as "not applicable": a 0 from dma_map_sg and a
    NULL from dma_alloc_coherent are the error checks (R25, H22).
    Given "nic" calls dma_map_sg with sg [{phys 0x1000_0000, length 4K}] dir DMA_TO_DEVICE as s
    And "nic" calls dma_alloc_coherent with size 4K as c
    When "nic" calls dma_unmap_sg with sg $s dir DMA_TO_DEVICE
    Then there are no warnings
    When "nic" calls dma_free_coherent with size 4K cpu_addr $c.cpu_addr dma_addr $c
    Then there are no warnings

  @R20 @R39 @dma-core-6.3
  Scenario: Several mistakes in one unmap are all reported, in check order
    Given "nic" calls dma_map_page with phys 0x1000_0000 size 4K dir DMA_TO_DEVICE as buf
    When "nic" calls dma_unmap_page with dma_addr $buf size 2K dir DMA_FROM_DEVICE
    Then the warnings are DEBUG_FREE_WRONG_SIZE, DEBUG_FREE_WRONG_DIRECTION, DEBUG_MAP_ERROR_NOT_CHECKED
    When the kernel calls dma_debug_info
    Then the result has error_count 3 live_entries 0
