@dma-core-5.5
Feature: Batched DMA sync keeps the ownership guarantees

  With batching, arch_sync_dma_for_device/_for_cpu only issue cache operations;
  they take effect when arch_sync_dma_flush() (dsb(sy) on arm64) completes
  them. The model treats an issued operation as not applied until that flush,
  the most pessimistic reading the hardware allows. The series is correct only
  if every flush sits where the data needs it (dma-core.md §5.5):

    BAT-1  no call that hands a buffer to the device returns while a clean of
           that buffer is still incomplete, so the device reads the CPU's data;
    BAT-2  no CPU read of device-written bytes happens while an invalidate of
           them is incomplete. That includes swiotlb's own copy from the bounce
           slot back to the original, which is why v3 of the series flushes in
           swiotlb_bounce() before the memcpy of a DMA_FROM_DEVICE bounce: in v2
           the copy could read stale cached lines of the slot (Robin Murphy's
           review);
    BAT-3  where arch_sync_dma_flush() is the empty stub (6.12, x86, coherent
           devices) everything behaves exactly as before.

  Each scenario runs on 6.12 and on newest and must give the same bytes.
  A flush waits only for the operations of the CPU it runs on, so the calls
  are also made from CPU 1 of a two-CPU machine.

  The scatterlist has a direct entry at 0x1000_0000 and, for the 32-bit
  device, a bounced entry at 0x1_0000_0000. dma-debug is off.

  @BAT-1 @BAT-3 @VIS-1 @R17
  Scenario Outline: BAT-1: after dma_map_sg returns the device reads the CPU's data (linux <linux>, CPU <cpu>)
    Given a platform with arch arm64 linux <linux> ncpus 2 ram [{base 0x0, size 4G}, {base 0x1_0000_0000, size 4G}] swiotlb {size 64M} dma_debug false
    And a device "dev" with bus platform coherent false dma_mask DMA_BIT_MASK(32)
    And the CPU calls cpu_write with phys 0x1_0000_0000 data {len 4096, seed 50} cpu <cpu>
    And the CPU calls cpu_write with phys 0x1000_0000 data {len 4096, seed 51} cpu <cpu>
    When "dev" calls dma_map_sg with sg [{phys 0x1_0000_0000, length 4K}, {phys 0x1000_0000, length 4K}] dir DMA_TO_DEVICE cpu <cpu> as s
    Then the result has nents 2
    When "dev" calls device_read with dma_addr $s size 4K
    Then the result has data {len 4096, seed 50}
    When "dev" calls device_read with dma_addr 0x1000_0000 size 4K
    Then the result has data {len 4096, seed 51}

    Examples:
      | linux  | cpu |
      | 6.12   | 0   |
      | newest | 0   |
      | newest | 1   |

  @BAT-1 @BAT-3 @H19 @R28
  Scenario Outline: BAT-1: after dma_sync_sg_for_device returns the device reads the CPU's new data (linux <linux>)
    Given a platform with arch arm64 linux <linux> ram [{base 0x0, size 4G}, {base 0x1_0000_0000, size 4G}] swiotlb {size 64M} dma_debug false
    And a device "dev" with bus platform coherent false dma_mask DMA_BIT_MASK(32)
    And "dev" calls dma_map_sg with sg [{phys 0x1_0000_0000, length 4K}, {phys 0x1000_0000, length 4K}] dir DMA_BIDIRECTIONAL as s
    When "dev" calls dma_sync_sg_for_cpu with sg $s dir DMA_BIDIRECTIONAL
    And the CPU calls cpu_write with phys 0x1_0000_0000 data {len 4096, seed 52}
    And the CPU calls cpu_write with phys 0x1000_0000 data {len 4096, seed 53}
    And "dev" calls dma_sync_sg_for_device with sg $s dir DMA_BIDIRECTIONAL
    And "dev" calls device_read with dma_addr $s size 4K
    Then the result has data {len 4096, seed 52}
    When "dev" calls device_read with dma_addr 0x1000_0000 size 4K
    Then the result has data {len 4096, seed 53}

    Examples:
      | linux  |
      | 6.12   |
      | newest |

  @BAT-2 @BAT-3 @VIS-2 @VIS-4 @R18
  Scenario Outline: BAT-2: after <handback> the CPU reads the device's data, bounced entry included (linux <linux>, CPU <cpu>)
    The CPU cache holds stale lines of both entries: of the direct entry from a
    speculative fill, of the bounce slot from swiotlb's own copy at map time
    (the copy writes the slot through the cache, the clean leaves the lines
    valid). The invalidates must complete before anyone reads.
    Given a platform with arch arm64 linux <linux> ncpus 2 ram [{base 0x0, size 4G}, {base 0x1_0000_0000, size 4G}] swiotlb {size 64M} dma_debug false
    And a device "dev" with bus platform coherent false dma_mask DMA_BIT_MASK(32)
    And the CPU calls cpu_write with phys 0x1_0000_0000 data {len 4096, fill 0xee}
    And the CPU calls cpu_write with phys 0x1000_0000 data {len 4096, fill 0xee}
    And "dev" calls dma_map_sg with sg [{phys 0x1_0000_0000, length 4K}, {phys 0x1000_0000, length 4K}] dir DMA_FROM_DEVICE cpu <cpu> as s
    And the CPU calls cpu_speculate with phys 0x1000_0000 size 4K
    When "dev" calls device_write with dma_addr $s data {len 4096, seed 54}
    And "dev" calls device_write with dma_addr 0x1000_0000 data {len 4096, seed 55}
    And "dev" calls <handback> with sg $s dir DMA_FROM_DEVICE cpu <cpu>
    And the CPU calls cpu_read with phys 0x1_0000_0000 size 4K cpu <cpu>
    Then the result has data {len 4096, seed 54}
    When the CPU calls cpu_read with phys 0x1000_0000 size 4K cpu <cpu>
    Then the result has data {len 4096, seed 55}

    Examples:
      | handback            | linux  | cpu |
      | dma_unmap_sg        | 6.12   | 0   |
      | dma_sync_sg_for_cpu | 6.12   | 0   |
      | dma_unmap_sg        | newest | 0   |
      | dma_sync_sg_for_cpu | newest | 0   |
      | dma_unmap_sg        | newest | 1   |
      | dma_sync_sg_for_cpu | newest | 1   |

  @BAT-2 @BAT-3 @VIS-4 @R18
  Scenario Outline: BAT-2: a bounced single unmap flushes before swiotlb copies the slot back (linux <linux>)
    dma_direct_unmap_phys() issues the invalidate of the slot and flushes; the
    copy back in swiotlb_bounce() then reads memory, not the stale lines.
    Given a platform with arch arm64 linux <linux> ram [{base 0x0, size 4G}, {base 0x1_0000_0000, size 4G}] swiotlb {size 64M} dma_debug false
    And a device "dev" with bus platform coherent false dma_mask DMA_BIT_MASK(32)
    And the CPU calls cpu_write with phys 0x1_2345_6000 data {len 4096, fill 0xee}
    And "dev" calls dma_map_phys with phys 0x1_2345_6000 size 4K dir DMA_FROM_DEVICE as buf
    And the CPU calls cpu_speculate with phys $buf size 4K
    When "dev" calls device_write with dma_addr $buf data {len 4096, seed 56}
    And "dev" calls dma_unmap_phys with dma_addr $buf size 4K dir DMA_FROM_DEVICE
    And the CPU calls cpu_read with phys 0x1_2345_6000 size 4K
    Then the result has data {len 4096, seed 56}

    Examples:
      | linux  |
      | 6.12   |
      | newest |
