Feature: The streaming map/unmap contract: check, unmap with the same arguments, give the exact direction
  dma_map_single()/dma_map_page() return a DMA address or DMA_MAPPING_ERROR
  (all ones). The only portable test is dma_mapping_error(), which returns
  -ENOMEM for the error value and 0 otherwise (R23, H16); dma-debug remembers
  whether it was called and complains at unmap if not (R39). The unmap must
  use the function matching the map and the same handle, size and direction
  (R20, R38), and every map needs its unmap (H18). The direction must be one of
  the three real ones: DMA_NONE hits BUG_ON(!valid_dma_direction(dir)) in every
  map, unmap and sync entry point (H14). Streaming map and unmap may be called
  from interrupt context (H15).

  The findings below come from CONFIG_DMA_API_DEBUG (kernel/dma/debug.c); a
  kernel without it would silently do the wrong thing.

  Background:
    Given a platform with ram [{base 0x0, size 3G}, {base 0x1_0000_0000, size 3G}] swiotlb {size 64M}
    And a device "nic" with dma_mask DMA_BIT_MASK(32)

  @R23 @H16 @dma-core-2.8-2
  Scenario Outline: dma_mapping_error(dev, <addr>) is <result>
    When "nic" calls dma_mapping_error with dma_addr <addr>
    Then <outcome>

    Examples:
      | addr                  | result  | outcome               |
      | 0xffff_ffff_ffff_ffff | -ENOMEM | it fails with -ENOMEM |
      | 0x1000                | 0       | it succeeds           |
      | 0x0                   | 0       | it succeeds           |

  @R23 @R39 @H16 @dma-core-6.3
  Scenario Outline: <map> checked with dma_mapping_error before the unmap: no finding
    When "nic" calls <map> with phys <phys> size 4K dir DMA_TO_DEVICE as buf
    And "nic" calls dma_mapping_error with dma_addr $buf
    Then it succeeds
    When "nic" calls <unmap> with dma_addr $buf size 4K dir DMA_TO_DEVICE
    Then there are no warnings

    Examples:
      | map              | unmap              | phys          |
      | dma_map_single   | dma_unmap_single   | 0x1000_0000   |
      | dma_map_page     | dma_unmap_page     | 0x1_0000_0000 |
      | dma_map_phys     | dma_unmap_phys     | 0x1000_0000   |
      | dma_map_resource | dma_unmap_resource | 0xE000_0000   |

  @R39 @H16 @R23 @dma-core-6.3
  Scenario Outline: <map> never checked: "device driver failed to check map error" at unmap
    When "nic" calls <map> with phys <phys> size 4K dir DMA_TO_DEVICE as buf
    Then it succeeds
    When "nic" calls <unmap> with dma_addr $buf size 4K dir DMA_TO_DEVICE
    Then the warnings are DEBUG_MAP_ERROR_NOT_CHECKED

    Examples:
      | map              | unmap              | phys          |
      | dma_map_single   | dma_unmap_single   | 0x1000_0000   |
      | dma_map_page     | dma_unmap_page     | 0x1_0000_0000 |
      | dma_map_resource | dma_unmap_resource | 0xE000_0000   |

  @H16 @R23 @dma-core-6.3
  Scenario: Unmapping the error value of a failed map is its own finding
    The driver ignored the failure and later unmapped what it got back.
    Given a platform with ram [{base 0x0, size 3G}, {base 0x1_0000_0000, size 3G}]
    And a device "nic" with dma_mask DMA_BIT_MASK(32)
    When "nic" calls dma_map_single with phys 0x1_0000_0000 size 4K dir DMA_TO_DEVICE
    Then it fails with DMA_MAPPING_ERROR
    When "nic" calls dma_unmap_single with dma_addr 0xffff_ffff_ffff_ffff size 4K dir DMA_TO_DEVICE
    Then the warnings are DEBUG_FREE_INVALID_ADDRESS

  @R20 @dma-core-6.3
  Scenario Outline: Unmap with a different <what> than the map: <finding>
    When "nic" calls dma_map_single with phys 0x1_0000_0000 size 4K dir DMA_FROM_DEVICE as buf
    And "nic" calls dma_mapping_error with dma_addr $buf
    And "nic" calls dma_unmap_single with dma_addr <handle> size <size> dir <dir>
    Then the warnings are <finding>

    Examples:
      | what      | handle     | size | dir               | finding                    |
      | size      | $buf       | 2K   | DMA_FROM_DEVICE   | DEBUG_FREE_WRONG_SIZE      |
      | direction | $buf       | 4K   | DMA_BIDIRECTIONAL | DEBUG_FREE_WRONG_DIRECTION |
      | handle    | $buf+0x800 | 2K   | DMA_FROM_DEVICE   | DEBUG_FREE_NOT_ALLOCATED   |

  @R38 @R20 @dma-core-6.3
  Scenario Outline: A DMA address released with the wrong function (<linux>: <map> / <unmap>)
    dma-debug records the kind of each mapping. In 6.12 page and single
    mappings are "single" and resources "resource"; upstream all three are
    "phy" and a resource differs by its DMA_ATTR_MMIO, which the newer unmap
    check compares.
    Given a platform with ram [{base 0x0, size 3G}, {base 0x1_0000_0000, size 3G}] swiotlb {size 64M} linux <linux>
    And a device "nic" with dma_mask DMA_BIT_MASK(32)
    When "nic" calls <map> with phys 0xE000_0000 size 4K dir DMA_TO_DEVICE as buf
    And "nic" calls dma_mapping_error with dma_addr $buf
    And "nic" calls <unmap> with dma_addr $buf size 4K dir DMA_TO_DEVICE
    Then the warnings are <finding>

    Examples:
      | linux  | map              | unmap              | finding                   |
      | 6.12   | dma_map_resource | dma_unmap_page     | DEBUG_FREE_WRONG_FUNCTION |
      | 6.12   | dma_map_page     | dma_unmap_resource | DEBUG_FREE_WRONG_FUNCTION |
      | newest | dma_map_resource | dma_unmap_page     | DEBUG_FREE_WRONG_ATTRS    |

  @R38 @dma-core-6.3
  Scenario: An sg mapping released with dma_unmap_single
    When "nic" calls dma_map_sg with sg [{phys 0x1000_0000, length 4K}] dir DMA_TO_DEVICE as s
    Then the result has nents 1
    When "nic" calls dma_unmap_single with dma_addr $s size 4K dir DMA_TO_DEVICE
    Then the warnings are DEBUG_FREE_WRONG_FUNCTION

  @R38 @dma-core-6.3
  Scenario: A coherent buffer released with dma_unmap_single
    When "nic" calls dma_alloc_coherent with size 4K as c
    Then it succeeds
    When "nic" calls dma_unmap_single with dma_addr $c size 4K dir DMA_BIDIRECTIONAL
    Then the warnings are DEBUG_FREE_WRONG_FUNCTION

  @H18 @dma-core-6.3
  Scenario: Every map needs its unmap: what is still mapped at unbind is reported
    Given a device "raid" with dma_mask DMA_BIT_MASK(64)
    When "raid" calls dma_map_page with phys 0x1000_0000 size 4K dir DMA_BIDIRECTIONAL as a
    And "raid" calls dma_mapping_error with dma_addr $a
    And "raid" calls dma_map_page with phys 0x1000_2000 size 4K dir DMA_BIDIRECTIONAL as b
    And "raid" calls dma_mapping_error with dma_addr $b
    And "raid" calls dma_unmap_page with dma_addr $a size 4K dir DMA_BIDIRECTIONAL
    Then there are no warnings
    When device "raid" is removed
    Then the warnings are DEBUG_LEAK_AT_REMOVE

  @H14 @dma-core-0.1
  Scenario Outline: DMA_NONE is a BUG in <op>
    When "nic" calls <op> with <args> dir DMA_NONE
    Then it fails with BUG
    And the warnings are BUG_INVALID_DIRECTION

    Examples:
      | op                          | args                                  |
      | dma_map_single              | phys 0x1000_0000 size 4K              |
      | dma_map_page                | phys 0x1000_0000 size 4K              |
      | dma_map_resource            | phys 0xE000_0000 size 4K              |
      | dma_unmap_single            | dma_addr 0x1000_0000 size 4K          |
      | dma_map_sg                  | sg [{phys 0x1000_0000, length 4K}]    |
      | dma_unmap_sg                | sg [{phys 0x1000_0000, length 4K}]    |
      | dma_sync_single_for_cpu     | dma_addr 0x1000_0000 size 4K          |
      | dma_sync_single_for_device  | dma_addr 0x1000_0000 size 4K          |
      | dma_sync_sg_for_cpu         | sg [{phys 0x1000_0000, length 4K}]    |

  @H14 @R13 @dma-core-2.4
  Scenario: Without dma-debug a coherent device's sync never gets far enough to BUG on DMA_NONE
    The inline dma_sync_single_for_cpu() returns at once when
    dma_dev_need_sync() is false, before __dma_sync_single_for_cpu() could
    check the direction. The bug is latent until the device bounces.
    Given a platform with ram [{base 0x0, size 3G}, {base 0x1_0000_0000, size 3G}] swiotlb {size 64M} dma_debug false
    And a device "nic" with dma_mask DMA_BIT_MASK(32)
    When "nic" calls dma_set_mask with mask DMA_BIT_MASK(32)
    And "nic" calls dma_sync_single_for_cpu with dma_addr 0x1000_0000 size 4K dir DMA_NONE
    Then it succeeds
    When "nic" calls dma_map_single with phys 0x1_0000_0000 size 4K dir DMA_TO_DEVICE
    And "nic" calls dma_sync_single_for_cpu with dma_addr 0x1000_0000 size 4K dir DMA_NONE
    Then it fails with BUG

  @H14 @R29 @dma-core-6.3
  Scenario Outline: A sync with another direction than the map (<map_dir> mapping, <sync> with <sync_dir>)
    When "nic" calls dma_map_single with phys 0x1_0000_0000 size 4K dir <map_dir> as buf
    And "nic" calls dma_mapping_error with dma_addr $buf
    And "nic" calls <sync> with dma_addr $buf size 4K dir <sync_dir>
    Then the warnings include <finding>

    Examples:
      | map_dir         | sync                       | sync_dir          | finding                      |
      | DMA_TO_DEVICE   | dma_sync_single_for_cpu    | DMA_FROM_DEVICE   | DEBUG_SYNC_WRONG_DIRECTION   |
      | DMA_TO_DEVICE   | dma_sync_single_for_cpu    | DMA_BIDIRECTIONAL | DEBUG_SYNC_DEVICE_READ_ONLY  |
      | DMA_FROM_DEVICE | dma_sync_single_for_device | DMA_TO_DEVICE     | DEBUG_SYNC_DEVICE_WRITE_ONLY |

  @H15 @dma-core-2.2
  Scenario Outline: Streaming map and unmap may run in <context> context
    Unlike dma_free_coherent(), the streaming calls never sleep, so a driver
    may map in its xmit path and unmap in its completion interrupt.
    When "nic" calls dma_map_single with phys 0x1_0000_0000 size 1500 dir DMA_TO_DEVICE context <context> as tx
    Then the result's dma_addr is in the swiotlb pool
    When "nic" calls dma_mapping_error with dma_addr $tx
    And "nic" calls dma_unmap_single with dma_addr $tx size 1500 dir DMA_TO_DEVICE context <context>
    Then there are no warnings
    When "nic" calls dma_map_sg with sg [{phys 0x1000_0000, length 4K}] dir DMA_FROM_DEVICE context <context> as s
    And "nic" calls dma_unmap_sg with sg $s dir DMA_FROM_DEVICE context <context>
    Then there are no warnings

    Examples:
      | context       |
      | atomic        |
      | irqs_disabled |
