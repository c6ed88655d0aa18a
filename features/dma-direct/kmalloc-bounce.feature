Feature: arm64 bounces small kmalloc buffers of non-coherent devices (CONFIG_DMA_BOUNCE_UNALIGNED_KMALLOC)
  A non-coherent device needs its buffer to own whole cache lines: the cache
  invalidate that hands a FROM_DEVICE buffer back to the CPU would otherwise
  throw away the CPU's writes to a neighbouring object in the same line (H3).
  Traditionally ARCH_DMA_MINALIGN (128 on arm64) made every kmalloc object
  line-aligned (H25). Since 6.5 arm64 lets kmalloc hand out 8-byte-aligned
  objects (kmalloc-8, -16, -32, -64, -96, -128, -192, ...) and instead bounces
  the small ones through swiotlb when they are mapped for a non-coherent
  device.

  dma_direct_map_page() bounces when dma_kmalloc_needs_bounce(dev, size, dir)
  holds:
  - the device is non-coherent and dir is not DMA_TO_DEVICE (a clean before
    the device reads is harmless to neighbours); and
  - size < 2 * ARCH_DMA_MINALIGN (256), and kmalloc_size_roundup(size) is not
    a multiple of dma_get_cache_alignment(), the CPU's cache writeback granule
    (CTR_EL0.CWG).
  The test sees only size and direction, never the pointer: an aligned
  96-byte buffer is bounced too.

  The SoC below has 64-byte cache lines and 4 GiB of RAM, all reachable. Even
  so, arm64's mem_init() sets up a small swiotlb pool for kmalloc bouncing:
  1 MiB per GiB of RAM, here 4 MiB.

  Background:
    Given a platform with arch arm64 cache_line 64 ram [{base 0x0, size 4G}] swiotlb {size 4M}
    And a device "dma" with dma_mask DMA_BIT_MASK(64) coherent false

  @H25 @H3 @R37 @INV-D1 @INV-D2 @dma-core-3.8-7
  Scenario Outline: <size> bytes <dir> (kmalloc-<class>) on 64-byte lines: the map <where> bounced
    When "dma" calls dma_map_single with phys 0x1000_0000 size <size> dir <dir>
    Then it succeeds
    And the result's dma_addr <where> in the swiotlb pool

    Examples: FROM_DEVICE maps of kmalloc classes that are not a multiple of 64 bytes are bounced
      | size | class | dir             | where  |
      | 96   | 96    | DMA_FROM_DEVICE | is     |
      | 65   | 96    | DMA_FROM_DEVICE | is     |
      | 8    | 8     | DMA_FROM_DEVICE | is     |
      | 32   | 32    | DMA_FROM_DEVICE | is     |
      | 96   | 96    | DMA_BIDIRECTIONAL | is   |

    Examples: classes that are a multiple of the cache line are left alone
      | size | class | dir             | where  |
      | 64   | 64    | DMA_FROM_DEVICE | is not |
      | 33   | 64    | DMA_FROM_DEVICE | is not |
      | 128  | 128   | DMA_FROM_DEVICE | is not |
      | 100  | 128   | DMA_FROM_DEVICE | is not |
      | 192  | 192   | DMA_FROM_DEVICE | is not |

    Examples: 256 bytes and more are always ARCH_DMA_MINALIGN-aligned by kmalloc
      | size | class | dir             | where  |
      | 256  | 256   | DMA_FROM_DEVICE | is not |
      | 255  | 256   | DMA_FROM_DEVICE | is not |
      | 4096 | 4096  | DMA_FROM_DEVICE | is not |

    Examples: TO_DEVICE maps are never bounced by this rule
      | size | class | dir           | where  |
      | 96   | 96    | DMA_TO_DEVICE | is not |
      | 8    | 8     | DMA_TO_DEVICE | is not |

  @H25 @R37 @dma-core-3.8-7
  Scenario Outline: With 128-byte cache lines kmalloc-<class> is <verdict> (<size> bytes FROM_DEVICE)
    Given a platform with arch arm64 cache_line 128 ram [{base 0x0, size 4G}] swiotlb {size 4M}
    And a device "dma" with dma_mask DMA_BIT_MASK(64) coherent false
    When the kernel calls dma_get_cache_alignment
    Then the result has size 128
    When "dma" calls dma_map_single with phys 0x1000_0000 size <size> dir DMA_FROM_DEVICE
    Then it succeeds
    And the result's dma_addr <where> in the swiotlb pool

    Examples:
      | size | class | verdict   | where  |
      | 64   | 64    | bounced   | is     |
      | 192  | 192   | bounced   | is     |
      | 128  | 128   | left alone | is not |
      | 256  | 256   | left alone | is not |

  @H25 @dma-core-3.3
  Scenario: A coherent device is never bounced for kmalloc alignment
    Given a device "snoop" with dma_mask DMA_BIT_MASK(64) coherent true
    When "snoop" calls dma_map_single with phys 0x1000_0000 size 96 dir DMA_FROM_DEVICE
    Then the result has dma_addr 0x1000_0000
    When the kernel calls platform_counters
    Then the result has bounces 0

  @H3 @H25 @INV-S5 @dma-core-3.8-7
  Scenario: The bounce protects the CPU's neighbour in the same cache line
    A 96-byte receive buffer at 0x1000_0000 shares the cache line
    [0x1000_0040, 0x1000_0080) with another kmalloc object at 0x1000_0060
    that the CPU updates while the device is busy. Because the buffer is
    bounced, the cache maintenance of the hand-back touches only the bounce
    slot; the copy back writes exactly 96 bytes, and the neighbour's bytes
    survive.
    When the CPU calls cpu_write with phys 0x1000_0000 data {len 128, fill 0}
    And "dma" calls dma_map_single with phys 0x1000_0000 size 96 dir DMA_FROM_DEVICE as rx
    Then the result's dma_addr is in the swiotlb pool
    When "dma" calls dma_mapping_error with dma_addr $rx
    Then it succeeds
    When the CPU calls cpu_write with phys 0x1000_0060 data {len 32, fill 170}
    And "dma" calls device_write with dma_addr $rx data {len 96, seed 77}
    And "dma" calls dma_unmap_single with dma_addr $rx size 96 dir DMA_FROM_DEVICE
    Then there are no warnings
    When the CPU calls cpu_read with phys 0x1000_0000 size 96
    Then the result has data {len 96, seed 77}
    When the CPU calls cpu_read with phys 0x1000_0060 size 32
    Then the result has data {len 32, fill 170}

  @H25 @INV-M1 @dma-core-3.3
  Scenario: Without a swiotlb pool the kmalloc heuristic alone makes the map fail
    dma_direct_map_page() reports it with the same "DMA addr ... overflow"
    text it uses for unreachable buffers, although the address is fine.
    Given a platform with arch arm64 cache_line 64 ram [{base 0x0, size 4G}]
    And a device "dma" with dma_mask DMA_BIT_MASK(64) coherent false
    When "dma" calls dma_map_single with phys 0x1000_0000 size 96 dir DMA_FROM_DEVICE
    Then it fails with DMA_MAPPING_ERROR
    And the warnings are WARN_DMA_ADDR_OVERFLOW
    When "dma" calls dma_map_single with phys 0x1000_0000 size 128 dir DMA_FROM_DEVICE
    Then the result has dma_addr 0x1000_0000
