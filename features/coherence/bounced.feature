Feature: Cache coherence of bounced (swiotlb) mappings

  When dma-direct cannot hand the device the buffer itself (a 32-bit device and
  a buffer above 4 GiB here), swiotlb_map() gives it a bounce slot in the pool
  below 4 GiB instead. The device only ever touches the slot; the CPU copies
  between the original and the slot (swiotlb_bounce(), a plain memcpy through
  the cache):

    map                 orig -> slot, whatever the direction (CVE-2022-0854 fix)
    sync_for_device     orig -> slot for TO_DEVICE and BIDIRECTIONAL
    sync_for_cpu/unmap  slot -> orig for FROM_DEVICE and BIDIRECTIONAL

  For a non-coherent device the cache maintenance of dma-core.md §5.3 is done
  on the slot, never on the original, in this order: copy before clean,
  invalidate before copy back. Two guarantees follow (dma-core.md §5.4):

    VIS-4  after unmap the original holds the device's writes (FROM/BIDI) in the
           bytes the device wrote and its own earlier bytes everywhere else,
           on coherent and non-coherent devices alike.
    VIS-5  cache maintenance never touches the original buffer, and the device
           never accesses it.

  dma-debug is off (CONFIG_DMA_API_DEBUG=n); features/dma-debug covers it.

  Background:
    Given a platform with arch arm64 ram [{base 0x0, size 4G}, {base 0x1_0000_0000, size 4G}] swiotlb {size 64M} dma_debug false

  @VIS-4 @R18 @dma-core-4.8-5
  Scenario Outline: VIS-4: the original gets the device's bytes and keeps its own (<dir>, coherent <coherent>)
    The device writes only the first 100 bytes of a 4 KiB buffer. Because the
    map copied the whole original into the slot first, the unmap's copy back
    returns the untouched 3996 bytes unchanged.
    Given a device "dev" with bus platform coherent <coherent> dma_mask DMA_BIT_MASK(32)
    And the CPU calls cpu_write with phys 0x1_2345_6000 data {len 100, fill 0x11}
    And the CPU calls cpu_write with phys 0x1_2345_6064 data {len 3996, seed 7}
    When "dev" calls dma_map_phys with phys 0x1_2345_6000 size 4K dir <dir> as buf
    Then the result's dma_addr is in the swiotlb pool
    When "dev" calls device_write with dma_addr $buf data {len 100, fill 0xd0}
    And the CPU calls cpu_read with phys 0x1_2345_6000 size 100
    Then the result has data {len 100, fill 0x11}
    When "dev" calls dma_unmap_phys with dma_addr $buf size 4K dir <dir>
    And the CPU calls cpu_read with phys 0x1_2345_6000 size 100
    Then the result has data {len 100, fill 0xd0}
    When the CPU calls cpu_read with phys 0x1_2345_6064 size 3996
    Then the result has data {len 3996, seed 7}

    Examples:
      | dir               | coherent |
      | DMA_FROM_DEVICE   | false    |
      | DMA_BIDIRECTIONAL | false    |
      | DMA_FROM_DEVICE   | true     |
      | DMA_BIDIRECTIONAL | true     |

  @VIS-4 @R18 @R29
  Scenario: VIS-4 survives a stale cached copy of the bounce slot
    The CPU cache still holds the slot's lines from the copy at map time, and
    speculation may refill them while the device owns the slot. The unmap
    invalidates the slot before copying it back, so the copy reads memory.
    Given a device "dev" with bus platform coherent false dma_mask DMA_BIT_MASK(32)
    And the CPU calls cpu_write with phys 0x1_2345_6000 data {len 2048, fill 0x11}
    And "dev" calls dma_map_phys with phys 0x1_2345_6000 size 2K dir DMA_FROM_DEVICE as buf
    When the CPU calls cpu_speculate with phys $buf size 2K
    And "dev" calls device_write with dma_addr $buf data {len 2048, seed 30}
    And "dev" calls dma_unmap_phys with dma_addr $buf size 2K dir DMA_FROM_DEVICE
    And the CPU calls cpu_read with phys 0x1_2345_6000 size 2K
    Then the result has data {len 2048, seed 30}

  @VIS-4 @A2 @dma-core-4.8-5
  Scenario: DMA_ATTR_SKIP_CPU_SYNC on the unmap of a bounced buffer loses the device's data
    dma_direct_unmap_phys() skips dma_direct_sync_single_for_cpu() and frees the
    slot without copying: the original is exactly as it was before the map.
    Given a device "dev" with bus platform coherent false dma_mask DMA_BIT_MASK(32)
    And the CPU calls cpu_write with phys 0x1_2345_6000 data {len 4096, seed 8}
    And "dev" calls dma_map_phys with phys 0x1_2345_6000 size 4K dir DMA_FROM_DEVICE as buf
    When "dev" calls device_write with dma_addr $buf data {len 100, fill 0xd0}
    And "dev" calls dma_unmap_phys with dma_addr $buf size 4K dir DMA_FROM_DEVICE attrs [DMA_ATTR_SKIP_CPU_SYNC]
    And the CPU calls cpu_read with phys 0x1_2345_6000 size 4K
    Then the result has data {len 4096, seed 8}
    When the kernel calls swiotlb_info
    Then the result has used 0

  @VIS-5 @VIS-1 @R17
  Scenario: VIS-5: maintenance goes to the slot; the original's dirty lines are never cleaned
    A force-bounce device (a restricted DMA pool, or a confidential-computing
    guest) can address the original, which makes the point visible: after the
    map the device reads the CPU's data at the slot address, while memory at
    the original address still holds the old bytes, because the only clean was
    on the slot. The CPU itself still sees its own data.
    Given a device "dev" with bus platform coherent false dma_mask DMA_BIT_MASK(64) force_bounce true
    And the CPU calls cpu_write with phys 0x1_2345_6000 data {len 4096, seed 9}
    When "dev" calls dma_map_phys with phys 0x1_2345_6000 size 4K dir DMA_TO_DEVICE as buf
    Then the result's dma_addr is in the swiotlb pool
    When "dev" calls device_read with dma_addr $buf size 4K
    Then the result has data {len 4096, seed 9}
    When "dev" calls device_read with dma_addr 0x1_2345_6000 size 4K
    Then the result has data {len 4096, fill 0}
    When the CPU calls cpu_read with phys 0x1_2345_6000 size 4K
    Then the result has data {len 4096, seed 9}
    When the kernel calls platform_counters
    Then the result has cleans 1 invalidates 0 bounces 1

  @VIS-5 @R18
  Scenario: VIS-5: the device never writes the original; the copy back does
    Until the unmap, memory at the original address is untouched by the device.
    Given a device "dev" with bus platform coherent false dma_mask DMA_BIT_MASK(64) force_bounce true
    And the CPU calls cpu_write with phys 0x1_2345_6000 data {len 4096, fill 0x11}
    And the CPU calls cpu_evict with phys 0x1_2345_6000 size 4K
    And "dev" calls dma_map_phys with phys 0x1_2345_6000 size 4K dir DMA_FROM_DEVICE as buf
    When "dev" calls device_write with dma_addr $buf data {len 4096, fill 0x22}
    And "dev" calls device_read with dma_addr 0x1_2345_6000 size 4K
    Then the result has data {len 4096, fill 0x11}
    When "dev" calls dma_unmap_phys with dma_addr $buf size 4K dir DMA_FROM_DEVICE
    And the CPU calls cpu_read with phys 0x1_2345_6000 size 4K
    Then the result has data {len 4096, fill 0x22}
    When the kernel calls platform_counters
    Then the result has cleans 1 invalidates 1 bounces 2

  @R17 @VIS-3
  Scenario: A CPU write after the map never reaches a bounced device without sync_for_device
    On a direct mapping the late write may or may not reach the device
    (hazards.feature, VIS-3.4); with a bounce slot it certainly does not: the
    slot was filled at map time. dma_sync_single_for_device() copies it again.
    Given a device "dev" with bus platform coherent false dma_mask DMA_BIT_MASK(32)
    And the CPU calls cpu_write with phys 0x1_2345_6000 data {len 256, fill 0x11}
    And "dev" calls dma_map_phys with phys 0x1_2345_6000 size 256 dir DMA_TO_DEVICE as tx
    When the CPU calls cpu_write with phys 0x1_2345_6000 data {len 256, fill 0x99}
    And the CPU calls cpu_evict with phys 0x1_2345_6000 size 256
    And "dev" calls device_read with dma_addr $tx size 256
    Then the result has data {len 256, fill 0x11}
    When "dev" calls dma_sync_single_for_device with dma_addr $tx size 256 dir DMA_TO_DEVICE
    And "dev" calls device_read with dma_addr $tx size 256
    Then the result has data {len 256, fill 0x99}

  @H19 @H21 @VIS-4
  Scenario: Reusing a bounced receive buffer: each sync_for_cpu copies the slot back
    dma_sync_single_for_device() with DMA_FROM_DEVICE copies nothing
    (__swiotlb_sync_single_for_device), so an untouched receive buffer may be
    re-posted without it, as for a direct mapping.
    Given a device "dev" with bus platform coherent false dma_mask DMA_BIT_MASK(32)
    And "dev" calls dma_map_phys with phys 0x1_2345_6000 size 2K dir DMA_FROM_DEVICE as rx
    When "dev" calls device_write with dma_addr $rx data {len 2048, seed 31}
    And "dev" calls dma_sync_single_for_cpu with dma_addr $rx size 2K dir DMA_FROM_DEVICE
    And the CPU calls cpu_read with phys 0x1_2345_6000 size 2K
    Then the result has data {len 2048, seed 31}
    When "dev" calls device_write with dma_addr $rx data {len 2048, seed 32}
    And "dev" calls dma_sync_single_for_cpu with dma_addr $rx size 2K dir DMA_FROM_DEVICE
    And the CPU calls cpu_read with phys 0x1_2345_6000 size 2K
    Then the result has data {len 2048, seed 32}

  @H17 @VIS-4
  Scenario: A device write after the unmap goes to a freed slot and never reaches the buffer
    The unmap copied the slot back and released it; whatever the device still
    writes lands in swiotlb memory that another mapping may get next.
    Given a device "dev" with bus platform coherent false dma_mask DMA_BIT_MASK(32)
    And "dev" calls dma_map_phys with phys 0x1_2345_6000 size 512 dir DMA_FROM_DEVICE as rx
    And "dev" calls device_write with dma_addr $rx data {len 256, fill 0xa1}
    When "dev" calls dma_unmap_phys with dma_addr $rx size 512 dir DMA_FROM_DEVICE
    And "dev" calls device_write with dma_addr $rx+0x100 data {len 256, fill 0xa2}
    And the CPU calls cpu_read with phys 0x1_2345_6100 size 256
    Then the result has data {len 256, fill 0}
    When the CPU calls cpu_read with phys 0x1_2345_6000 size 256
    Then the result has data {len 256, fill 0xa1}
