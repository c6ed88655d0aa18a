@dma-core-5.3 @R29
Feature: Cache maintenance per direction on a non-coherent arm64 device

  A device that does not snoop the CPU caches (dev_is_dma_coherent() is false,
  which on arm64 means the firmware did not mark it dma-coherent) sees only
  memory. The streaming DMA API keeps the two views consistent by calling two
  arch hooks from dma-direct (arch/arm64/mm/dma-mapping.c, arch/arm64/mm/cache.S):

    arch_sync_dma_for_device()  dcache_clean_poc over the buffer: dirty lines are
                                written back to the point of coherency and stay
                                valid. Used for EVERY direction.
    arch_sync_dma_for_cpu()     nothing for DMA_TO_DEVICE (the device only read);
                                otherwise dcache_inval_poc: lines wholly inside
                                the buffer are dropped, a partly covered first or
                                last line is cleaned and invalidated (DC CIVAC).

  dma_map_*() and dma_sync_*_for_device() hand the buffer to the device and
  clean; dma_unmap_*() and dma_sync_*_for_cpu() hand it back and invalidate.
  Why clean even for DMA_FROM_DEVICE? A dirty line still in the cache could be
  evicted at any moment, on top of what the device writes. DMA_ATTR_SKIP_CPU_SYNC
  on map or unmap skips the maintenance of that call.

  platform_counters counts the maintenance operations issued since boot, so each
  row of the table in dma-core.md §5.3 becomes a pair of numbers here. The table
  is the 6.12 one; the batched-sync series of newest upstream changes when the
  operations complete, not which ones are issued (see features/batched-sync).
  dma-debug is off here (CONFIG_DMA_API_DEBUG=n): these scenarios are about the
  cache, and features/dma-debug covers the contract checker.

  Background:
    Given a platform with arch arm64 linux 6.12 dma_debug false
    And a device "dev" with bus platform coherent false dma_mask DMA_BIT_MASK(64)

  @R17
  Scenario Outline: dma_map_phys cleans the buffer for <dir>
    When "dev" calls dma_map_phys with phys 0x1000_0000 size 4K dir <dir> as buf
    Then it succeeds
    And there are no warnings
    When the kernel calls platform_counters
    Then the result has cleans 1 invalidates 0 bounces 0

    Examples:
      | dir               |
      | DMA_TO_DEVICE     |
      | DMA_FROM_DEVICE   |
      | DMA_BIDIRECTIONAL |

  @R17 @R18
  Scenario Outline: <call> with <dir> after the map: <what>
    Given "dev" calls dma_map_phys with phys 0x1000_0000 size 4K dir <dir> as buf
    When "dev" calls <call> with dma_addr $buf size 4K dir <dir>
    Then it succeeds
    And there are no warnings
    When the kernel calls platform_counters
    Then the result has cleans <cleans> invalidates <invalidates>

    Examples: handing the buffer (back) to the device always cleans
      | call                       | dir               | cleans | invalidates | what  |
      | dma_sync_single_for_device | DMA_TO_DEVICE     | 2      | 0           | clean |
      | dma_sync_single_for_device | DMA_FROM_DEVICE   | 2      | 0           | clean |
      | dma_sync_single_for_device | DMA_BIDIRECTIONAL | 2      | 0           | clean |

    Examples: handing the buffer to the CPU invalidates unless the device only read it
      | call                    | dir               | cleans | invalidates | what       |
      | dma_sync_single_for_cpu | DMA_TO_DEVICE     | 1      | 0           | nothing    |
      | dma_sync_single_for_cpu | DMA_FROM_DEVICE   | 1      | 1           | invalidate |
      | dma_sync_single_for_cpu | DMA_BIDIRECTIONAL | 1      | 1           | invalidate |
      | dma_unmap_phys          | DMA_TO_DEVICE     | 1      | 0           | nothing    |
      | dma_unmap_phys          | DMA_FROM_DEVICE   | 1      | 1           | invalidate |
      | dma_unmap_phys          | DMA_BIDIRECTIONAL | 1      | 1           | invalidate |

  @A2
  Scenario Outline: DMA_ATTR_SKIP_CPU_SYNC on map and unmap does no maintenance (<dir>)
    When "dev" calls dma_map_phys with phys 0x1000_0000 size 4K dir <dir> attrs [DMA_ATTR_SKIP_CPU_SYNC] as buf
    And "dev" calls dma_unmap_phys with dma_addr $buf size 4K dir <dir> attrs [DMA_ATTR_SKIP_CPU_SYNC]
    Then it succeeds
    When the kernel calls platform_counters
    Then the result has cleans 0 invalidates 0

    Examples:
      | dir               |
      | DMA_TO_DEVICE     |
      | DMA_FROM_DEVICE   |
      | DMA_BIDIRECTIONAL |

  @A2
  Scenario: DMA_ATTR_SKIP_CPU_SYNC does not apply to explicit syncs
    The attribute belongs to map and unmap only; dma_sync_single_for_{cpu,device}()
    take no attrs and always do their maintenance.
    When "dev" calls dma_map_phys with phys 0x1000_0000 size 4K dir DMA_BIDIRECTIONAL attrs [DMA_ATTR_SKIP_CPU_SYNC] as buf
    And "dev" calls dma_sync_single_for_device with dma_addr $buf size 4K dir DMA_BIDIRECTIONAL
    And "dev" calls dma_sync_single_for_cpu with dma_addr $buf size 4K dir DMA_BIDIRECTIONAL
    And the kernel calls platform_counters
    Then the result has cleans 1 invalidates 1

  @R13
  Scenario: A coherent device on the same machine needs no maintenance at all
    dma-direct tests dev_is_dma_coherent() before every arch hook; a device that
    snoops the caches sees dirty lines directly. dma_need_sync() tells the driver
    so (dma_direct_need_sync: non-coherent, or a swiotlb address).
    Given a device "snoop" with bus platform coherent true dma_mask DMA_BIT_MASK(64)
    When the CPU calls cpu_write with phys 0x2000_0000 data {len 4096, seed 11}
    And "snoop" calls dma_map_phys with phys 0x2000_0000 size 4K dir DMA_BIDIRECTIONAL as buf
    And "snoop" calls device_read with dma_addr $buf size 4K
    Then the result has data {len 4096, seed 11}
    When "snoop" calls device_write with dma_addr $buf data {len 4096, seed 12}
    And "snoop" calls dma_unmap_phys with dma_addr $buf size 4K dir DMA_BIDIRECTIONAL
    And the CPU calls cpu_read with phys 0x2000_0000 size 4K
    Then the result has data {len 4096, seed 12}
    When the kernel calls platform_counters
    Then the result has cleans 0 invalidates 0
    When "snoop" calls dma_need_sync with dma_addr 0x2000_0000
    Then the result has value false
    When "dev" calls dma_need_sync with dma_addr 0x2000_0000
    Then the result has value true

  @R17 @VIS-1
  Scenario: The clean at map time writes the CPU's dirty lines to memory
    The data effect behind the counters: before the map the CPU's bytes live
    only in dirty cache lines, which the device cannot see.
    Given the CPU calls cpu_write with phys 0x1000_0000 data {len 256, fill 0xa5}
    When "dev" calls device_read with dma_addr 0x1000_0000 size 256
    Then the result has data {len 256, fill 0}
    When "dev" calls dma_map_phys with phys 0x1000_0000 size 256 dir DMA_TO_DEVICE as buf
    And "dev" calls device_read with dma_addr $buf size 256
    Then the result has data {len 256, fill 0xa5}

  @R18 @VIS-2
  Scenario: The invalidate at unmap drops the CPU's stale copy of the buffer
    The CPU read the buffer before the device wrote it, so the lines sit clean
    in the cache; the clean at map time keeps them valid. Only the invalidate
    of the hand-back makes the next CPU read go to memory.
    Given the CPU calls cpu_read with phys 0x1000_0000 size 256
    And "dev" calls dma_map_phys with phys 0x1000_0000 size 256 dir DMA_FROM_DEVICE as buf
    When "dev" calls device_write with dma_addr $buf data {len 256, fill 0x3c}
    And the CPU calls cpu_read with phys 0x1000_0000 size 4
    Then the result has data 00000000
    When "dev" calls dma_unmap_phys with dma_addr $buf size 256 dir DMA_FROM_DEVICE
    And the CPU calls cpu_read with phys 0x1000_0000 size 256
    Then the result has data {len 256, fill 0x3c}
