@dma-core-5.5
Feature: Batched DMA cache sync: one barrier per call instead of one per cache operation

  In 6.12 every arm64 cache-maintenance routine used by the DMA API
  (dcache_clean_poc, dcache_inval_poc) ends with its own DSB, so a 2,560-entry
  scatterlist waits for completion 2,560 times. Barry Song's batched-sync series
  (queued in the dma-mapping tree in March 2026, "dma-mapping: Separate DMA sync
  issuing and completion waiting", "dma-mapping: Support batch mode for
  dma_direct_{map,unmap}_sg") splits issue from completion:

    arch_sync_dma_for_device/_for_cpu  only issue (dcache_*_poc_nosync, no DSB)
    arch_sync_dma_flush()              waits (arm64: dsb(sy)); an empty stub on
                                       architectures without
                                       CONFIG_ARCH_HAS_BATCHED_DMA_SYNC

  Where the flush goes (dma-core.md §5.5):

    single calls (map, unmap, sync)    one flush right after the call's own arch op
    dma_{map,unmap,sync}_sg*           one flush after the loop over the entries
    swiotlb_map                        one flush right after cleaning the slot,
                                       even inside an sg map
    swiotlb_bounce of FROM_DEVICE data one flush before the memcpy reads the slot
                                       (Robin Murphy's review of v2)

  BAT-4 counts them: one per sg call on the direct path, plus one per
  swiotlb_map and one per bounced FROM_DEVICE copy. A bounced single map has
  just the one of its swiotlb_map, because dma_direct_map_phys() returns
  swiotlb_map()'s result at once. BAT-3: with the stub (linux 6.12, or a
  coherent device, which issues no maintenance) no flush is ever counted.
  platform_counters reports the flushes since boot; the numbers in the tables
  are running totals after each step.

  The platform has RAM above 4 GiB and a 32-bit device, so a buffer at
  0x1_0000_0000 or above is bounced and one at 0x1000_0000 is not.

  @BAT-4 @BAT-3
  Scenario Outline: Single calls on a <where> <dir> mapping: flushes <m>, <c>, <d>, <u> (linux <linux>, coherent <coherent>)
    Given a platform with arch arm64 linux <linux> ram [{base 0x0, size 4G}, {base 0x1_0000_0000, size 4G}] swiotlb {size 64M} dma_debug false
    And a device "dev" with bus platform coherent <coherent> dma_mask DMA_BIT_MASK(32)
    When "dev" calls dma_map_phys with phys <phys> size 4K dir <dir> as buf
    And the kernel calls platform_counters
    Then the result has flushes <m>
    When "dev" calls dma_sync_single_for_cpu with dma_addr $buf size 4K dir <dir>
    And the kernel calls platform_counters
    Then the result has flushes <c>
    When "dev" calls dma_sync_single_for_device with dma_addr $buf size 4K dir <dir>
    And the kernel calls platform_counters
    Then the result has flushes <d>
    When "dev" calls dma_unmap_phys with dma_addr $buf size 4K dir <dir>
    And the kernel calls platform_counters
    Then the result has flushes <u>

    Examples: newest, non-coherent: one flush per call, plus one per bounced FROM_DEVICE copy
      | linux  | coherent | where    | phys          | dir               | m | c | d | u |
      | newest | false    | direct   | 0x1000_0000   | DMA_TO_DEVICE     | 1 | 2 | 3 | 4 |
      | newest | false    | direct   | 0x1000_0000   | DMA_FROM_DEVICE   | 1 | 2 | 3 | 4 |
      | newest | false    | direct   | 0x1000_0000   | DMA_BIDIRECTIONAL | 1 | 2 | 3 | 4 |
      | newest | false    | bounced  | 0x1_2345_6000 | DMA_TO_DEVICE     | 1 | 2 | 3 | 4 |
      | newest | false    | bounced  | 0x1_2345_6000 | DMA_FROM_DEVICE   | 1 | 3 | 4 | 6 |
      | newest | false    | bounced  | 0x1_2345_6000 | DMA_BIDIRECTIONAL | 1 | 3 | 4 | 6 |

    Examples: the stub: 6.12, or a coherent device, never flushes
      | linux  | coherent | where    | phys          | dir               | m | c | d | u |
      | 6.12   | false    | direct   | 0x1000_0000   | DMA_FROM_DEVICE   | 0 | 0 | 0 | 0 |
      | 6.12   | false    | bounced  | 0x1_2345_6000 | DMA_BIDIRECTIONAL | 0 | 0 | 0 | 0 |
      | newest | true     | direct   | 0x1000_0000   | DMA_FROM_DEVICE   | 0 | 0 | 0 | 0 |
      | newest | true     | bounced  | 0x1_2345_6000 | DMA_BIDIRECTIONAL | 0 | 0 | 0 | 0 |

  @BAT-4 @BAT-3
  Scenario Outline: Scatterlist calls with <n> bounced of 4 entries, <dir>: flushes <m>, <c>, <d>, <u> (linux <linux>)
    Entries 0 and 1 are at 0x1000_0000 and 0x1000_2000; entries 2 and 3 at <e2> and <e3>.
    Given a platform with arch arm64 linux <linux> ram [{base 0x0, size 4G}, {base 0x1_0000_0000, size 4G}] swiotlb {size 64M} dma_debug false
    And a device "dev" with bus platform coherent false dma_mask DMA_BIT_MASK(32)
    When "dev" calls dma_map_sg with sg [{phys 0x1000_0000, length 4K}, {phys 0x1000_2000, length 4K}, {phys <e2>, length 4K}, {phys <e3>, length 4K}] dir <dir> as s
    Then the result has nents 4
    When the kernel calls platform_counters
    Then the result has flushes <m>
    When "dev" calls dma_sync_sg_for_cpu with sg $s dir <dir>
    And the kernel calls platform_counters
    Then the result has flushes <c>
    When "dev" calls dma_sync_sg_for_device with sg $s dir <dir>
    And the kernel calls platform_counters
    Then the result has flushes <d>
    When "dev" calls dma_unmap_sg with sg $s dir <dir>
    And the kernel calls platform_counters
    Then the result has flushes <u>

    Examples: newest: one per sg call, plus one per swiotlb_map and per bounced FROM_DEVICE copy
      | linux  | n    | e2            | e3            | dir               | m | c | d | u  |
      | newest | none | 0x2000_0000   | 0x2000_2000   | DMA_TO_DEVICE     | 1 | 2 | 3 | 4  |
      | newest | none | 0x2000_0000   | 0x2000_2000   | DMA_FROM_DEVICE   | 1 | 2 | 3 | 4  |
      | newest | two  | 0x1_0000_0000 | 0x1_0000_2000 | DMA_TO_DEVICE     | 3 | 4 | 5 | 6  |
      | newest | two  | 0x1_0000_0000 | 0x1_0000_2000 | DMA_FROM_DEVICE   | 3 | 6 | 7 | 10 |
      | newest | two  | 0x1_0000_0000 | 0x1_0000_2000 | DMA_BIDIRECTIONAL | 3 | 6 | 7 | 10 |

    Examples: 6.12: every maintenance operation completes itself
      | linux  | n    | e2            | e3            | dir               | m | c | d | u |
      | 6.12   | none | 0x2000_0000   | 0x2000_2000   | DMA_FROM_DEVICE   | 0 | 0 | 0 | 0 |
      | 6.12   | two  | 0x1_0000_0000 | 0x1_0000_2000 | DMA_BIDIRECTIONAL | 0 | 0 | 0 | 0 |

  @BAT-4
  Scenario Outline: The barrier count of a direct sg map does not grow with the list (<n> entries)
    The cover letter's figures (dma_map_sg 64.61% faster, dma_unmap_sg 66.60%
    for a 10 MB buffer of 4 KiB entries) come from this: <n> cleans issued, one DSB.
    Given a platform with arch arm64 dma_debug false
    And a device "dev" with bus platform coherent false dma_mask DMA_BIT_MASK(64)
    When "dev" calls dma_map_sg with sg <sg> dir DMA_TO_DEVICE as s
    Then the result has nents <n>
    When the kernel calls platform_counters
    Then the result has flushes 1 cleans <n>
    When "dev" calls dma_unmap_sg with sg $s dir DMA_TO_DEVICE
    And the kernel calls platform_counters
    Then the result has flushes 2 cleans <n> invalidates 0

    Examples:
      | n | sg                                                                                                                                                                           |
      | 1 | [{phys 0x1000_0000, length 4K}]                                                                                                                                              |
      | 3 | [{phys 0x1000_0000, length 4K}, {phys 0x1000_3000, length 4K}, {phys 0x1000_6000, length 4K}]                                                                                |
      | 6 | [{phys 0x1000_0000, length 4K}, {phys 0x1000_2000, length 4K}, {phys 0x1000_4000, length 4K}, {phys 0x1000_6000, length 4K}, {phys 0x1000_8000, length 4K}, {phys 0x1000_a000, length 4K}] |

  @BAT-3 @BAT-4
  Scenario: x86 has no non-coherent DMA: the flush is the empty stub
    Given a platform with ram [{base 0x0, size 4G}, {base 0x1_0000_0000, size 4G}] swiotlb {size 64M} dma_debug false
    And a device "nic" with dma_mask DMA_BIT_MASK(32)
    When "nic" calls dma_map_sg with sg [{phys 0x1000_0000, length 4K}, {phys 0x1_0000_0000, length 4K}] dir DMA_FROM_DEVICE as s
    And "nic" calls dma_unmap_sg with sg $s dir DMA_FROM_DEVICE
    And the kernel calls platform_counters
    Then the result has flushes 0 cleans 0 invalidates 0 bounces 2
