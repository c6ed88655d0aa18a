Feature: What the CPU and a non-coherent device see when the driver follows the rules

  Documentation/core-api/dma-api.rst (Part Id) gives every streaming buffer one
  owner at a time. dma_map_*() and dma_sync_*_for_device() hand it to the
  device; dma_unmap_*() and dma_sync_*_for_cpu() hand it back. A driver that
  syncs at exactly those points gets two guarantees on a non-coherent device
  (dma-core.md §5.4):

    VIS-1 (DMA_TO_DEVICE)   what the CPU wrote before the hand-over is what the
                            device reads, because the clean pushed every dirty
                            line to memory and nothing older can be evicted later.
    VIS-2 (DMA_FROM_DEVICE) what the device wrote is what the CPU reads after the
                            hand-back, provided the CPU wrote nothing in any line
                            the buffer touches meanwhile: the clean at map left no
                            dirty line to evict on top of the device's data, and
                            the invalidate at hand-back discards whatever the CPU
                            pulled in speculatively while the device owned it.

  Every scenario below gives the CPU cache a chance to cheat: stale lines are
  pulled in (cpu_speculate, which a real CPU may do at any time on normal
  memory) or pushed out (cpu_evict). The results hold anyway. The hazards when
  a sync is missing are in hazards.feature. dma-debug is off
  (CONFIG_DMA_API_DEBUG=n): the contract checker has its own features.

  @R17 @R29 @VIS-1
  Scenario Outline: VIS-1: the device reads what the CPU wrote before dma_map_phys (linux <linux>)
    Given a platform with arch arm64 linux <linux> dma_debug false
    And a device "dev" with bus platform coherent false dma_mask DMA_BIT_MASK(64)
    When the CPU calls cpu_write with phys 0x1000_0000 data {len 4096, seed 1}
    And "dev" calls dma_map_phys with phys 0x1000_0000 size 4K dir DMA_TO_DEVICE as buf
    And the CPU calls cpu_evict with phys 0x1000_0000 size 4K
    And "dev" calls device_read with dma_addr $buf size 4K
    Then the result has data {len 4096, seed 1}

    Examples:
      | linux  |
      | 6.12   |
      | newest |

  @R18 @R29 @VIS-2
  Scenario Outline: VIS-2: the CPU reads what the device wrote after <handback> (linux <linux>)
    The buffer held old CPU data in dirty lines when it was mapped, and the CPU
    speculatively pulls the whole buffer into its cache while the device owns it.
    Given a platform with arch arm64 linux <linux> dma_debug false
    And a device "dev" with bus platform coherent false dma_mask DMA_BIT_MASK(64)
    And the CPU calls cpu_write with phys 0x1000_0000 data {len 4096, fill 0xee}
    When "dev" calls dma_map_phys with phys 0x1000_0000 size 4K dir DMA_FROM_DEVICE as buf
    And the CPU calls cpu_speculate with phys 0x1000_0000 size 4K
    And "dev" calls device_write with dma_addr $buf data {len 4096, seed 2}
    And the CPU calls cpu_evict with phys 0x1000_0000 size 4K
    And the CPU calls cpu_speculate with phys 0x1000_0000 size 4K
    And "dev" calls <handback> with dma_addr $buf size 4K dir DMA_FROM_DEVICE
    And the CPU calls cpu_read with phys 0x1000_0000 size 4K
    Then the result has data {len 4096, seed 2}

    Examples:
      | handback                | linux  |
      | dma_unmap_phys          | 6.12   |
      | dma_sync_single_for_cpu | 6.12   |
      | dma_unmap_phys          | newest |
      | dma_sync_single_for_cpu | newest |

  @R19 @R29 @VIS-1 @VIS-2
  Scenario: DMA_BIDIRECTIONAL: a command goes out, the reply comes back, a new command goes out
    A BIDIRECTIONAL buffer needs both syncs: for_device after the CPU's last write
    and for_cpu before it reads what the device wrote. Maintenance is a clean on
    the way out and an invalidate on the way back.
    Given a platform with arch arm64 dma_debug false
    And a device "dev" with bus platform coherent false dma_mask DMA_BIT_MASK(64)
    And the CPU calls cpu_write with phys 0x1000_0000 data {len 512, seed 3}
    When "dev" calls dma_map_phys with phys 0x1000_0000 size 512 dir DMA_BIDIRECTIONAL as buf
    And "dev" calls device_read with dma_addr $buf size 512
    Then the result has data {len 512, seed 3}
    When the CPU calls cpu_speculate with phys 0x1000_0000 size 512
    And "dev" calls device_write with dma_addr $buf data {len 512, seed 4}
    And "dev" calls dma_sync_single_for_cpu with dma_addr $buf size 512 dir DMA_BIDIRECTIONAL
    And the CPU calls cpu_read with phys 0x1000_0000 size 512
    Then the result has data {len 512, seed 4}
    When the CPU calls cpu_write with phys 0x1000_0000 data {len 512, seed 5}
    And "dev" calls dma_sync_single_for_device with dma_addr $buf size 512 dir DMA_BIDIRECTIONAL
    And "dev" calls device_read with dma_addr $buf size 512
    Then the result has data {len 512, seed 5}

  @H19 @R17 @R29 @VIS-1
  Scenario: Reusing a DMA_TO_DEVICE mapping: write, sync_for_device, transmit, repeat
    Documentation/core-api/dma-api-howto.rst "Using Streaming DMA mappings": the
    mapping may stay in place across transfers as long as each new content is
    handed over with dma_sync_single_for_device(). For DMA_TO_DEVICE the
    for_cpu sync in between does no cache maintenance at all on arm64.
    Given a platform with arch arm64 dma_debug false
    And a device "dev" with bus platform coherent false dma_mask DMA_BIT_MASK(64)
    And the CPU calls cpu_write with phys 0x1000_0000 data {len 1024, seed 6}
    And "dev" calls dma_map_phys with phys 0x1000_0000 size 1K dir DMA_TO_DEVICE as buf
    When "dev" calls device_read with dma_addr $buf size 1K
    Then the result has data {len 1024, seed 6}
    When "dev" calls dma_sync_single_for_cpu with dma_addr $buf size 1K dir DMA_TO_DEVICE
    And the CPU calls cpu_write with phys 0x1000_0000 data {len 1024, seed 7}
    And "dev" calls dma_sync_single_for_device with dma_addr $buf size 1K dir DMA_TO_DEVICE
    And "dev" calls device_read with dma_addr $buf size 1K
    Then the result has data {len 1024, seed 7}

  @H19 @H21 @R18 @VIS-2
  Scenario: Re-posting an untouched DMA_FROM_DEVICE buffer needs no sync_for_device
    dma-api-howto.rst: the CPU must not write a FROM_DEVICE area, so after
    dma_sync_single_for_cpu() the lines it read are clean and the next
    dma_sync_single_for_cpu() can simply drop them again. No for_device sync is
    needed between the two receives.
    Given a platform with arch arm64 dma_debug false
    And a device "dev" with bus platform coherent false dma_mask DMA_BIT_MASK(64)
    And "dev" calls dma_map_phys with phys 0x1000_0000 size 2K dir DMA_FROM_DEVICE as buf
    When "dev" calls device_write with dma_addr $buf data {len 2048, seed 8}
    And "dev" calls dma_sync_single_for_cpu with dma_addr $buf size 2K dir DMA_FROM_DEVICE
    And the CPU calls cpu_read with phys 0x1000_0000 size 2K
    Then the result has data {len 2048, seed 8}
    When "dev" calls device_write with dma_addr $buf data {len 2048, seed 9}
    And "dev" calls dma_sync_single_for_cpu with dma_addr $buf size 2K dir DMA_FROM_DEVICE
    And the CPU calls cpu_read with phys 0x1000_0000 size 2K
    Then the result has data {len 2048, seed 9}

  @H21 @R19
  Scenario: A BIDIRECTIONAL buffer the CPU modified does need sync_for_device before re-posting
    The CPU's new request sits in dirty lines. Without the for_device clean the
    device reads what memory still holds: its own previous reply.
    Given a platform with arch arm64 dma_debug false
    And a device "dev" with bus platform coherent false dma_mask DMA_BIT_MASK(64)
    And "dev" calls dma_map_phys with phys 0x1000_0000 size 256 dir DMA_BIDIRECTIONAL as buf
    And "dev" calls device_write with dma_addr $buf data {len 256, fill 0x11}
    And "dev" calls dma_sync_single_for_cpu with dma_addr $buf size 256 dir DMA_BIDIRECTIONAL
    When the CPU calls cpu_write with phys 0x1000_0000 data {len 256, fill 0x22}
    And "dev" calls device_read with dma_addr $buf size 256
    Then the result has data {len 256, fill 0x11}
    When "dev" calls dma_sync_single_for_device with dma_addr $buf size 256 dir DMA_BIDIRECTIONAL
    And "dev" calls device_read with dma_addr $buf size 256
    Then the result has data {len 256, fill 0x22}

  @R28 @VIS-2
  Scenario: A partial sync covers exactly the bytes the device has finished
    dma_sync_single_range_for_cpu() hands back a sub-range; here the first 1 KiB
    of a 4 KiB receive buffer, line-aligned as R37 asks (dma_get_cache_alignment()
    is 64 on this platform). Bytes outside the synced range stay stale.
    Given a platform with arch arm64 dma_debug false
    And a device "dev" with bus platform coherent false dma_mask DMA_BIT_MASK(64)
    And "dev" calls dma_map_phys with phys 0x1000_0000 size 4K dir DMA_FROM_DEVICE as buf
    And the CPU calls cpu_speculate with phys 0x1000_0000 size 4K
    When "dev" calls device_write with dma_addr $buf data {len 4096, fill 0x77}
    And "dev" calls dma_sync_single_range_for_cpu with dma_addr $buf offset 0 size 1K dir DMA_FROM_DEVICE
    And the CPU calls cpu_read with phys 0x1000_0000 size 1K
    Then the result has data {len 1024, fill 0x77}
    When the CPU calls cpu_read with phys 0x1000_0400 size 4
    Then the result has data 00000000

  @H17
  Scenario: Unmapping before the device has finished loses the late part of the transfer
    dma-api-howto.rst: unmap only once the device is done (for example in the
    completion interrupt). The unmap invalidates the buffer; the next CPU read
    refills the lines from memory, and a device write arriving after that is
    never seen by the CPU, which keeps reading its cached copy.
    Given a platform with arch arm64 dma_debug false
    And a device "dev" with bus platform coherent false dma_mask DMA_BIT_MASK(64)
    And "dev" calls dma_map_phys with phys 0x1000_0000 size 512 dir DMA_FROM_DEVICE as buf
    And "dev" calls device_write with dma_addr $buf data {len 256, fill 0xa1}
    When "dev" calls dma_unmap_phys with dma_addr $buf size 512 dir DMA_FROM_DEVICE
    And the CPU calls cpu_read with phys 0x1000_0000 size 512
    And "dev" calls device_write with dma_addr 0x1000_0100 data {len 256, fill 0xa2}
    And the CPU calls cpu_read with phys 0x1000_0100 size 4
    Then the result has data 00000000
