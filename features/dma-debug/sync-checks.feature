Feature: dma-debug checks at sync time (dma-core.md §6.3, checks 16-21)

  check_sync() runs after every dma_sync_{single,single_range,sg}_for_{cpu,device}.
  It looks for a live entry of the device whose range CONTAINS the synced range
  (bucket_find_contain, stepping back one 8 KiB hash bucket at a time), so a
  sync may cover any sub-range of a mapping (R28) but not run past its end:

    16  DEBUG_SYNC_NOT_ALLOCATED      no mapping contains the range
    17  DEBUG_SYNC_OUTSIDE_RANGE      sync larger than the mapping: unreachable,
                                      because containment already implies it fits
    18  DEBUG_SYNC_WRONG_DIRECTION    direction differs (BIDIRECTIONAL mappings
                                      are exempt from 18-20)
    19  DEBUG_SYNC_DEVICE_READ_ONLY   for_cpu on a TO_DEVICE mapping with FROM or BIDI
    20  DEBUG_SYNC_DEVICE_WRITE_ONLY  for_device on a FROM_DEVICE mapping with TO or BIDI
    21  DEBUG_SYNC_WRONG_SG_COUNT     sg sync with an nents other than the map's (R28)

  The device "nic" sits on a coherent x86 machine, so dma_addr = phys.

  Background:
    Given a platform
    And a device "nic"

  @R28 @dma-core-6.3-16 @dma-core-6.5-3
  Scenario: §6.5-3: a sync that runs past the end of its mapping is "not allocated"
    Given "nic" calls dma_map_single with phys 0x10000 size 0x1000 dir DMA_FROM_DEVICE as rx
    And "nic" calls dma_mapping_error with dma_addr $rx
    When "nic" calls dma_sync_single_for_cpu with dma_addr 0x10800 size 0x1000 dir DMA_FROM_DEVICE
    Then the warnings are DEBUG_SYNC_NOT_ALLOCATED
    And the warnings do not include DEBUG_SYNC_OUTSIDE_RANGE
    When "nic" calls dma_sync_single_range_for_cpu with dma_addr 0x10000 offset 0x800 size 0x800 dir DMA_FROM_DEVICE
    Then there are no warnings

  @R28 @dma-core-6.3-16
  Scenario Outline: A sub-range sync at offset <offset>, <size> bytes, is contained
    Given "nic" calls dma_map_single with phys 0x10000 size 0x3000 dir DMA_FROM_DEVICE as rx
    And "nic" calls dma_mapping_error with dma_addr $rx
    When "nic" calls dma_sync_single_range_for_cpu with dma_addr $rx offset <offset> size <size> dir DMA_FROM_DEVICE
    Then there are no warnings

    Examples:
      | offset | size   |
      | 0      | 0x3000 |
      | 0x40   | 0x40   |
      | 0x2000 | 0x1000 |
      | 0x2fc0 | 0x40   |

  @R28 @dma-core-6.3-16
  Scenario: Syncing an address that was never mapped
    When "nic" calls dma_sync_single_for_device with dma_addr 0x2000_0000 size 4K dir DMA_TO_DEVICE
    Then the warnings are DEBUG_SYNC_NOT_ALLOCATED

  @R28 @dma-core-6.3-16
  Scenario: Syncing after the unmap
    Given "nic" calls dma_map_page with phys 0x2000_0000 size 4K dir DMA_FROM_DEVICE as rx
    And "nic" calls dma_mapping_error with dma_addr $rx
    And "nic" calls dma_unmap_page with dma_addr $rx size 4K dir DMA_FROM_DEVICE
    When "nic" calls dma_sync_single_for_cpu with dma_addr $rx size 4K dir DMA_FROM_DEVICE
    Then the warnings are DEBUG_SYNC_NOT_ALLOCATED

  @R28 @dma-core-6.3-17
  Scenario: Check 17 is unreachable: a sync one byte too long is reported by check 16
    Given "nic" calls dma_map_page with phys 0x2000_0000 size 4K dir DMA_FROM_DEVICE as rx
    And "nic" calls dma_mapping_error with dma_addr $rx
    When "nic" calls dma_sync_single_for_cpu with dma_addr $rx size 4097 dir DMA_FROM_DEVICE
    Then the warnings are DEBUG_SYNC_NOT_ALLOCATED

  @R28 @dma-core-6.3-17
  Scenario: Check 17 fires only when the sync's end wraps past 2^64
    containing_match() adds in u64: 0x2000_0000 + 0xffff_ffff_e000_0800 wraps to
    0x800, which the 4 KiB entry "contains". Only then does the size comparison
    get its turn. (On this coherent device the sync itself touches no cache.)
    Given "nic" calls dma_map_page with phys 0x2000_0000 size 4K dir DMA_FROM_DEVICE as rx
    And "nic" calls dma_mapping_error with dma_addr $rx
    When "nic" calls dma_sync_single_for_cpu with dma_addr $rx size 0xffff_ffff_e000_0800 dir DMA_FROM_DEVICE
    Then the warnings are DEBUG_SYNC_OUTSIDE_RANGE

  @R17 @R18 @dma-core-6.3-18 @dma-core-6.3-19 @dma-core-6.3-20 @dma-core-6.5-4
  Scenario Outline: A <map> mapping synced <call> with <sync>: <warnings>
    Given "nic" calls dma_map_page with phys 0x2000_0000 size 4K dir <map> as buf
    And "nic" calls dma_mapping_error with dma_addr $buf
    When "nic" calls <call> with dma_addr $buf size 4K dir <sync>
    Then the warnings are <warnings>

    Examples: wrong direction, and a sync the mapping's direction makes meaningless
      | map             | call                       | sync              | warnings                                                  |
      | DMA_TO_DEVICE   | dma_sync_single_for_cpu    | DMA_FROM_DEVICE   | DEBUG_SYNC_WRONG_DIRECTION, DEBUG_SYNC_DEVICE_READ_ONLY  |
      | DMA_TO_DEVICE   | dma_sync_single_for_cpu    | DMA_BIDIRECTIONAL | DEBUG_SYNC_WRONG_DIRECTION, DEBUG_SYNC_DEVICE_READ_ONLY  |
      | DMA_FROM_DEVICE | dma_sync_single_for_device | DMA_TO_DEVICE     | DEBUG_SYNC_WRONG_DIRECTION, DEBUG_SYNC_DEVICE_WRITE_ONLY |
      | DMA_FROM_DEVICE | dma_sync_single_for_device | DMA_BIDIRECTIONAL | DEBUG_SYNC_WRONG_DIRECTION, DEBUG_SYNC_DEVICE_WRITE_ONLY |

    Examples: wrong direction only
      | map             | call                       | sync              | warnings                   |
      | DMA_TO_DEVICE   | dma_sync_single_for_device | DMA_FROM_DEVICE   | DEBUG_SYNC_WRONG_DIRECTION |
      | DMA_FROM_DEVICE | dma_sync_single_for_cpu    | DMA_TO_DEVICE     | DEBUG_SYNC_WRONG_DIRECTION |
      | DMA_FROM_DEVICE | dma_sync_single_for_cpu    | DMA_BIDIRECTIONAL | DEBUG_SYNC_WRONG_DIRECTION |

  @R17 @R18 @R19 @dma-core-6.3-18 @dma-core-6.5-4
  Scenario Outline: A <map> mapping synced <call> with <sync> is fine
    Given "nic" calls dma_map_page with phys 0x2000_0000 size 4K dir <map> as buf
    And "nic" calls dma_mapping_error with dma_addr $buf
    When "nic" calls <call> with dma_addr $buf size 4K dir <sync>
    Then there are no warnings

    Examples: the mapping's own direction
      | map             | call                       | sync            |
      | DMA_TO_DEVICE   | dma_sync_single_for_cpu    | DMA_TO_DEVICE   |
      | DMA_TO_DEVICE   | dma_sync_single_for_device | DMA_TO_DEVICE   |
      | DMA_FROM_DEVICE | dma_sync_single_for_cpu    | DMA_FROM_DEVICE |
      | DMA_FROM_DEVICE | dma_sync_single_for_device | DMA_FROM_DEVICE |

    Examples: a BIDIRECTIONAL mapping may be synced with any direction
      | map               | call                       | sync              |
      | DMA_BIDIRECTIONAL | dma_sync_single_for_cpu    | DMA_TO_DEVICE     |
      | DMA_BIDIRECTIONAL | dma_sync_single_for_cpu    | DMA_FROM_DEVICE   |
      | DMA_BIDIRECTIONAL | dma_sync_single_for_device | DMA_FROM_DEVICE   |
      | DMA_BIDIRECTIONAL | dma_sync_single_for_device | DMA_BIDIRECTIONAL |

  @R28 @dma-core-6.3-21
  Scenario Outline: Check 21: <call> with nents 2 on a 3-entry mapping
    Each element synced is checked; both carry the wrong count.
    Given "nic" calls dma_map_sg with sg [{phys 0x1000_0000, length 4K}, {phys 0x1000_2000, length 4K}, {phys 0x1000_4000, length 4K}] dir DMA_FROM_DEVICE as s
    When "nic" calls <call> with sg $s nents 2 dir DMA_FROM_DEVICE
    Then the warnings are DEBUG_SYNC_WRONG_SG_COUNT, DEBUG_SYNC_WRONG_SG_COUNT
    When "nic" calls <call> with sg $s nents 3 dir DMA_FROM_DEVICE
    Then there are no warnings

    Examples:
      | call                   |
      | dma_sync_sg_for_cpu    |
      | dma_sync_sg_for_device |

  @R28 @dma-core-6.4
  Scenario: An sg list that was never mapped is synced without a word
    debug_dma_sync_sg_for_cpu() looks up element 0 first; when it is not found
    the mapped count is 0 and nothing at all is checked. The same address
    synced as a single buffer is reported.
    When "nic" calls dma_sync_sg_for_cpu with sg [{phys 0x3000_0000, length 4K, dma_address 0x3000_0000, dma_length 4K}] dir DMA_FROM_DEVICE
    Then there are no warnings
    When "nic" calls dma_sync_single_for_cpu with dma_addr 0x3000_0000 size 4K dir DMA_FROM_DEVICE
    Then the warnings are DEBUG_SYNC_NOT_ALLOCATED

  @R28 @dma-core-6.3-18
  Scenario: Every synced sg element is checked for its direction
    Given "nic" calls dma_map_sg with sg [{phys 0x1000_0000, length 4K}, {phys 0x1000_2000, length 4K}] dir DMA_TO_DEVICE as s
    When "nic" calls dma_sync_sg_for_cpu with sg $s dir DMA_FROM_DEVICE
    Then the warnings are DEBUG_SYNC_WRONG_DIRECTION, DEBUG_SYNC_DEVICE_READ_ONLY, DEBUG_SYNC_WRONG_DIRECTION, DEBUG_SYNC_DEVICE_READ_ONLY
