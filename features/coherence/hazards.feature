@VIS-3
Feature: What goes wrong on a non-coherent device when a rule is broken

  dma-core.md §5.4 VIS-3 lists the hazards a cache model must be able to
  produce. Each scenario here breaks one rule and shows the damage byte by byte
  with the probes a real machine has: CPU stores and loads (cpu_write,
  cpu_read), the cache acting on its own (cpu_speculate pulls clean lines in,
  cpu_evict writes dirty lines back and drops them), and device accesses, which
  on a non-coherent device go straight to memory.

    VIS-3.1  a CPU write to a byte sharing a cache line with a DMA_FROM_DEVICE
             buffer, while the device owns it, destroys device data: the dirty
             line carries stale copies of the buffer's bytes, and either an
             eviction or the clean+invalidate of the partial edge line in
             dma_sync_*_for_cpu() (arm64 dcache_inval_poc uses DC CIVAC on
             edges) writes them over what the device wrote. This is why
             Documentation/core-api/dma-api-howto.rst wants cache-line-aligned
             buffers, why ARCH_DMA_MINALIGN exists and why arm64 bounces small
             kmalloc buffers (dma_kmalloc_needs_bounce, CONFIG_DMA_BOUNCE_UNALIGNED_KMALLOC).
    VIS-3.2  skipping dma_sync_*_for_cpu() lets the CPU read a stale copy that
             speculation pulled into the cache while the device owned the buffer.
    VIS-3.3  DMA_ATTR_SKIP_CPU_SYNC on the first mapping of a buffer the CPU just
             wrote lets the device read stale memory.
    VIS-3.4  a CPU write to a DMA_TO_DEVICE buffer after the map may or may not
             reach the device: the result is not defined.

  The layout used below is a driver structure at 0x1000_0000 whose first
  32 bytes hold a flag the CPU updates, followed by a receive buffer.
  dma-debug is off (CONFIG_DMA_API_DEBUG=n); its view of shared cache lines is
  in features/dma-debug/overlap.feature.

  Background:
    Given a platform with arch arm64 dma_debug false
    And a device "dev" with bus platform coherent false dma_mask DMA_BIT_MASK(64)

  @H3 @R16 @dma-core-5.2
  Scenario Outline: VIS-3.1: a CPU write next to a receive buffer destroys device data (<how>)
    The receive buffer starts 32 bytes into a cache line. The CPU stores the
    flag while the device owns the buffer; the store pulls the whole line in,
    including 32 stale bytes of the buffer, and marks it dirty.
    Given the CPU calls cpu_write with phys 0x1000_0020 data {len 256, fill 0xee}
    And "dev" calls dma_map_phys with phys 0x1000_0020 size 256 dir DMA_FROM_DEVICE as rx
    When the CPU calls cpu_write with phys 0x1000_0000 data 01
    And "dev" calls device_write with dma_addr $rx data {len 256, fill 0x55}
    And the CPU calls <cache_event> with phys 0x1000_0000 size 64
    And "dev" calls dma_unmap_phys with dma_addr $rx size 256 dir DMA_FROM_DEVICE
    And the CPU calls cpu_read with phys 0x1000_0020 size 32
    Then the result has data {len 32, fill 0xee}
    When the CPU calls cpu_read with phys 0x1000_0040 size 224
    Then the result has data {len 224, fill 0x55}
    When the CPU calls cpu_read with phys 0x1000_0000 size 1
    Then the result has data 01

    Examples:
      | cache_event   | how                                                              |
      | cpu_evict     | the cache evicts the dirty line on top of the device's data      |
      | cpu_speculate | the unmap's clean+invalidate of the partial edge line writes it back |

  @H3 @R16 @R21 @R37 @VIS-2
  Scenario Outline: A buffer aligned to dma_get_cache_alignment() keeps the flag out of its lines (<line>-byte lines)
    dma_get_cache_alignment() reports the line width (CTR_EL0.CWG on arm64);
    a buffer that starts and ends on that boundary shares no line with the
    flag, so the CPU may update the flag at any time.
    Given a platform with arch arm64 cache_line <line> dma_debug false
    And a device "dev" with bus platform coherent false dma_mask DMA_BIT_MASK(64)
    When the kernel calls dma_get_cache_alignment
    Then the result has size <line>
    Given the CPU calls cpu_write with phys <buffer> data {len 256, fill 0xee}
    And "dev" calls dma_map_phys with phys <buffer> size 256 dir DMA_FROM_DEVICE as rx
    When the CPU calls cpu_write with phys 0x1000_0000 data 01
    And "dev" calls device_write with dma_addr $rx data {len 256, fill 0x55}
    And the CPU calls cpu_evict with phys 0x1000_0000 size <line>
    And "dev" calls dma_unmap_phys with dma_addr $rx size 256 dir DMA_FROM_DEVICE
    And the CPU calls cpu_read with phys <buffer> size 256
    Then the result has data {len 256, fill 0x55}
    When the CPU calls cpu_read with phys 0x1000_0000 size 1
    Then the result has data 01

    Examples:
      | line | buffer      |
      | 64   | 0x1000_0040 |
      | 128  | 0x1000_0080 |

  @R21 @H3
  Scenario: Assuming 64-byte lines on a machine with 128-byte lines brings the hazard back
    R21: avoid partial-page mappings unless the cache line width is known. The
    buffer is 64-byte aligned, but on this machine the flag and the first 64
    bytes of the buffer share one 128-byte line.
    Given a platform with arch arm64 cache_line 128 dma_debug false
    And a device "dev" with bus platform coherent false dma_mask DMA_BIT_MASK(64)
    And the CPU calls cpu_write with phys 0x1000_0040 data {len 256, fill 0xee}
    And "dev" calls dma_map_phys with phys 0x1000_0040 size 256 dir DMA_FROM_DEVICE as rx
    When the CPU calls cpu_write with phys 0x1000_0000 data 01
    And "dev" calls device_write with dma_addr $rx data {len 256, fill 0x55}
    And the CPU calls cpu_evict with phys 0x1000_0000 size 128
    And "dev" calls dma_unmap_phys with dma_addr $rx size 256 dir DMA_FROM_DEVICE
    And the CPU calls cpu_read with phys 0x1000_0040 size 64
    Then the result has data {len 64, fill 0xee}
    When the CPU calls cpu_read with phys 0x1000_0080 size 192
    Then the result has data {len 192, fill 0x55}

  @H25 @H3 @VIS-4
  Scenario: arm64 bounces a small kmalloc buffer, so the shared line does no harm
    A 96-byte buffer comes from kmalloc-96, whose objects are not cache-line
    aligned. dma_direct_map_phys() sees dma_kmalloc_needs_bounce() and sends the
    mapping through swiotlb: the device writes a bounce slot, and the unmap
    copies the bytes back with the CPU, through the cache. The flag store and
    the eviction can no longer overwrite anything the device wrote.
    Given a platform with arch arm64 swiotlb {size 64M} dma_debug false
    And a device "dev" with bus platform coherent false dma_mask DMA_BIT_MASK(64)
    And the CPU calls cpu_write with phys 0x1000_0020 data {len 96, fill 0xee}
    When "dev" calls dma_map_phys with phys 0x1000_0020 size 96 dir DMA_FROM_DEVICE as rx
    Then the result's dma_addr is in the swiotlb pool
    When the CPU calls cpu_write with phys 0x1000_0000 data 01
    And "dev" calls device_write with dma_addr $rx data {len 96, fill 0x55}
    And the CPU calls cpu_evict with phys 0x1000_0000 size 128
    And "dev" calls dma_unmap_phys with dma_addr $rx size 96 dir DMA_FROM_DEVICE
    And the CPU calls cpu_read with phys 0x1000_0020 size 96
    Then the result has data {len 96, fill 0x55}
    When the CPU calls cpu_read with phys 0x1000_0000 size 1
    Then the result has data 01

  @H25 @R16 @dma-core-3.8-7
  Scenario Outline: dma_kmalloc_needs_bounce looks at size and direction only: <size> bytes <dir>
    arm64 selects CONFIG_DMA_BOUNCE_UNALIGNED_KMALLOC. A mapping of a
    non-coherent device bounces when dir is not DMA_TO_DEVICE, size is below
    2 * ARCH_DMA_MINALIGN (256) and kmalloc_size_roundup(size) is not a multiple
    of dma_get_cache_alignment() (64 here). The buffer below is line-aligned and
    would be safe, but the heuristic never looks at the pointer.
    Given a platform with arch arm64 swiotlb {size 64M} dma_debug false
    And a device "dev" with bus platform coherent false dma_mask DMA_BIT_MASK(64)
    When "dev" calls dma_map_phys with phys 0x1000_0000 size <size> dir <dir> as buf
    Then it succeeds
    And the result's dma_addr <where> in the swiotlb pool

    Examples: kmalloc classes that are not a multiple of the line bounce
      | size | dir               | where |
      | 8    | DMA_FROM_DEVICE   | is    |
      | 32   | DMA_FROM_DEVICE   | is    |
      | 65   | DMA_FROM_DEVICE   | is    |
      | 96   | DMA_FROM_DEVICE   | is    |
      | 96   | DMA_BIDIRECTIONAL | is    |

    Examples: line-multiple classes, 256 bytes and more, and DMA_TO_DEVICE never bounce
      | size | dir               | where  |
      | 64   | DMA_FROM_DEVICE   | is not |
      | 128  | DMA_FROM_DEVICE   | is not |
      | 192  | DMA_FROM_DEVICE   | is not |
      | 200  | DMA_FROM_DEVICE   | is not |
      | 256  | DMA_FROM_DEVICE   | is not |
      | 4096 | DMA_FROM_DEVICE   | is not |
      | 96   | DMA_TO_DEVICE     | is not |
      | 8    | DMA_TO_DEVICE     | is not |

  @H25 @dma-core-3.3
  Scenario: Without a swiotlb pool the kmalloc heuristic has nowhere to bounce
    dma_direct_map_phys() fails the map and warns with the same "DMA addr ...
    overflow" text it uses for an unreachable buffer.
    When "dev" calls dma_map_phys with phys 0x1000_0000 size 96 dir DMA_FROM_DEVICE
    Then it fails with DMA_MAPPING_ERROR
    And the warnings are WARN_DMA_ADDR_OVERFLOW

  @R18 @R29
  Scenario: VIS-3.2: reading without dma_sync_single_for_cpu returns the speculative copy
    The CPU speculatively fills the buffer's lines while the device owns it
    (nothing forbids that on normal memory). Only the invalidate of the for_cpu
    sync removes them.
    Given "dev" calls dma_map_phys with phys 0x1000_0000 size 4K dir DMA_FROM_DEVICE as rx
    And the CPU calls cpu_speculate with phys 0x1000_0000 size 4K
    When "dev" calls device_write with dma_addr $rx data {len 4096, seed 21}
    And the CPU calls cpu_read with phys 0x1000_0000 size 8
    Then the result has data 0000000000000000
    When "dev" calls dma_sync_single_for_cpu with dma_addr $rx size 4K dir DMA_FROM_DEVICE
    And the CPU calls cpu_read with phys 0x1000_0000 size 4K
    Then the result has data {len 4096, seed 21}

  @A2 @R17
  Scenario: VIS-3.3: DMA_ATTR_SKIP_CPU_SYNC on the first mapping lets the device read stale memory
    dma-attributes.rst: SKIP_CPU_SYNC is only for a buffer already in the device
    domain. Here the CPU's data is still in dirty lines, and nothing cleans them.
    Given the CPU calls cpu_write with phys 0x1000_0000 data {len 256, fill 0xc3}
    When "dev" calls dma_map_phys with phys 0x1000_0000 size 256 dir DMA_TO_DEVICE attrs [DMA_ATTR_SKIP_CPU_SYNC] as tx
    And "dev" calls device_read with dma_addr $tx size 256
    Then the result has data {len 256, fill 0}

  @A2 @VIS-1
  Scenario: DMA_ATTR_SKIP_CPU_SYNC used as intended: a second mapping of a buffer already handed over
    The first mapping cleans the buffer; a second device maps the same bytes
    with SKIP_CPU_SYNC and skips a second, useless clean.
    Given a device "dev2" with bus platform coherent false dma_mask DMA_BIT_MASK(64)
    And the CPU calls cpu_write with phys 0x1000_0000 data {len 256, fill 0xc3}
    When "dev" calls dma_map_phys with phys 0x1000_0000 size 256 dir DMA_TO_DEVICE as tx
    And "dev2" calls dma_map_phys with phys 0x1000_0000 size 256 dir DMA_TO_DEVICE attrs [DMA_ATTR_SKIP_CPU_SYNC] as tx2
    And "dev2" calls device_read with dma_addr $tx2 size 256
    Then the result has data {len 256, fill 0xc3}
    When the kernel calls platform_counters
    Then the result has cleans 1

  @A2 @R18
  Scenario: DMA_ATTR_SKIP_CPU_SYNC on unmap leaves the buffer in the device domain
    dma-attributes.rst: after an unmap with SKIP_CPU_SYNC the caller must do
    the sync itself. A driver that forgets reads the speculative copy.
    Given "dev" calls dma_map_phys with phys 0x1000_0000 size 256 dir DMA_FROM_DEVICE as rx
    And the CPU calls cpu_speculate with phys 0x1000_0000 size 256
    And "dev" calls device_write with dma_addr $rx data {len 256, fill 0x5a}
    When "dev" calls dma_unmap_phys with dma_addr $rx size 256 dir DMA_FROM_DEVICE attrs [DMA_ATTR_SKIP_CPU_SYNC]
    And the CPU calls cpu_read with phys 0x1000_0000 size 256
    Then the result has data {len 256, fill 0}

  @R17
  Scenario Outline: VIS-3.4: a CPU write after the map may or may not reach the device (<how>)
    The write lands in a dirty line. Whether the device sees it depends only on
    whether the cache happens to write that line back before the device reads,
    so the result is not defined; dma_sync_single_for_device() would make it so.
    Given the CPU calls cpu_write with phys 0x1000_0000 data {len 256, fill 0x11}
    And "dev" calls dma_map_phys with phys 0x1000_0000 size 256 dir DMA_TO_DEVICE as tx
    When the CPU calls cpu_write with phys 0x1000_0000 data {len 256, fill 0x99}
    And the CPU calls <cache_event> with phys 0x1000_0000 size 256
    And "dev" calls device_read with dma_addr $tx size 256
    Then the result has data {len 256, fill <seen>}

    Examples:
      | cache_event   | seen | how                                     |
      | cpu_speculate | 0x11 | the line stays dirty: the old bytes     |
      | cpu_evict     | 0x99 | the line is written back: the new bytes |
