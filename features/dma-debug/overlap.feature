Feature: dma-debug's cacheline overlap check (dma-core.md §6.3 check 5) and the model's full-range verdict

  Two mappings the device may write, sharing a CPU cache line, are the VIS-3.1
  hazard on a non-coherent machine (see features/coherence/hazards.feature).
  dma-debug looks for them cheaply: active_cacheline_insert() keys each
  mapping, or each sg segment, by its FIRST cache line only
  (paddr >> L1_CACHE_SHIFT) in a radix tree, and reports "cacheline tracking
  EEXIST, overlapping mappings aren't supported" (DEBUG_CACHELINE_OVERLAP) when
  the key is taken. It does not look at the rest of the range, and it stays
  silent when:

    - the mapping is DMA_TO_DEVICE (never inserted: the device does not write);
    - the new mapping has DMA_ATTR_SKIP_CPU_SYNC;
    - CONFIG_DMA_BOUNCE_UNALIGNED_KMALLOC is set (arm64) and swiotlb is active;
    - [newest] both mappings carry DMA_ATTR_DEBUGGING_IGNORE_CACHELINES or
      DMA_ATTR_REQUIRE_COHERENT (U4);
    - [newest] dma_get_cache_alignment() < L1_CACHE_BYTES, i.e. on x86, where
      DMA is cache-coherent and sharing a line is harmless.

  A key may be shared by at most 7 extra mappings (3 radix-tree tag bits);
  beyond that the kernel warns once "exceeded 7 overlapping mappings".

  Because the first-line key misses overlaps further into a buffer, the model
  adds a stricter verdict of its own, DEBUG_CACHELINE_OVERLAP_FULL: any live
  mapping the device may write sharing ANY line with the new one. It is kept
  apart from the kernel's verdict (it does not count in error_count) and is
  silenced only by SKIP_CPU_SYNC and, in newest, by the U4 attributes on both.

  Lines are 64 bytes. Devices are arm64 non-coherent, mask 64, no swiotlb
  unless a row says otherwise; all sizes are 64 or more, so nothing is bounced.

  @H3 @R16 @dma-core-6.3-5 @dma-core-6.5-2
  Scenario Outline: §6.5-2: FROM_DEVICE mappings at 0x1000_0040 and 0x1000_0060 share key 0x400001 (<platform>)
    Given a platform with <platform>
    And a device "dev" with coherent <coherent> dma_mask DMA_BIT_MASK(64)
    And "dev" calls dma_map_page with phys 0x1000_0040 size 64 dir DMA_FROM_DEVICE as a
    When "dev" calls dma_map_page with phys 0x1000_0060 size 64 dir DMA_FROM_DEVICE as b
    Then it succeeds
    And the warnings are DEBUG_CACHELINE_OVERLAP
    When the kernel calls dma_debug_info
    Then the result has error_count 1 live_entries 2

    Examples:
      | platform                        | coherent |
      | arch arm64 linux newest         | false    |
      | arch arm64 linux 6.12           | false    |
      | arch x86_64 linux 6.12          | true     |

  @dma-core-6.3-5 @dma-core-6.7 @H25
  Scenario Outline: The kernel's verdict is exempt on <why>
    The model's full-range verdict still reports the shared line.
    Given a platform with <platform>
    And a device "dev" with coherent <coherent> dma_mask DMA_BIT_MASK(64)
    And "dev" calls dma_map_page with phys 0x1000_0040 size 64 dir DMA_FROM_DEVICE as a
    When "dev" calls dma_map_page with phys 0x1000_0060 size 64 dir DMA_FROM_DEVICE as b
    Then it succeeds
    And the warnings are DEBUG_CACHELINE_OVERLAP_FULL
    When the kernel calls dma_debug_info
    Then the result has error_count 0

    Examples:
      | platform                                        | coherent | why                                                  |
      | arch x86_64 linux newest                        | true     | newest x86, where dma_get_cache_alignment() is 1     |
      | arch arm64 linux newest swiotlb {size 64M}      | false    | arm64 with swiotlb active (kmalloc bounce blanket)   |
      | arch arm64 linux 6.12 swiotlb {size 64M}        | false    | arm64 6.12 with swiotlb active                       |

  @A2 @dma-core-6.3-5 @dma-core-6.5-2
  Scenario Outline: §6.5-2: the same pair with the second mapping <second> reports nothing
    Given a platform with arch arm64
    And a device "dev" with coherent false dma_mask DMA_BIT_MASK(64)
    And "dev" calls dma_map_page with phys 0x1000_0040 size 64 dir DMA_FROM_DEVICE as a
    When "dev" calls dma_map_page with phys 0x1000_0060 size 64 dir <dir> attrs <attrs> as b
    Then it succeeds
    And there are no warnings

    Examples:
      | second                  | dir             | attrs                    |
      | DMA_TO_DEVICE           | DMA_TO_DEVICE   | []                       |
      | with SKIP_CPU_SYNC      | DMA_FROM_DEVICE | [DMA_ATTR_SKIP_CPU_SYNC] |

  @H3 @R16 @dma-core-6.3-5 @dma-core-6.5-2 @dma-core-10-7
  Scenario: §6.5-2: 0x1000_0000 (128 bytes) and 0x1000_0040 do not collide for the kernel; the full-range verdict sees the shared line
    The first mapping covers lines 0x400000 and 0x400001 but is keyed by
    0x400000 only; the second is keyed by 0x400001. The kernel reports nothing,
    although the two share line 0x400001 (0x1000_0040..0x1000_007f).
    Given a platform with arch arm64
    And a device "dev" with coherent false dma_mask DMA_BIT_MASK(64)
    And "dev" calls dma_map_page with phys 0x1000_0000 size 128 dir DMA_FROM_DEVICE as a
    When "dev" calls dma_map_page with phys 0x1000_0040 size 64 dir DMA_FROM_DEVICE as b
    Then it succeeds
    And the warnings are DEBUG_CACHELINE_OVERLAP_FULL
    And the warnings do not include DEBUG_CACHELINE_OVERLAP
    When the kernel calls dma_debug_info
    Then the result has error_count 0 live_entries 2

  @H3 @dma-core-6.3-5
  Scenario: The full-range verdict does not repeat a pair the kernel already reported
    Given a platform with arch arm64
    And a device "dev" with coherent false dma_mask DMA_BIT_MASK(64)
    And "dev" calls dma_map_page with phys 0x1000_0040 size 64 dir DMA_FROM_DEVICE as a
    When "dev" calls dma_map_page with phys 0x1000_0040 size 64 dir DMA_FROM_DEVICE as b
    Then the warnings are DEBUG_CACHELINE_OVERLAP

  @H3 @dma-core-6.3-5
  Scenario: Adjacent line-aligned buffers share nothing
    Given a platform with arch arm64
    And a device "dev" with coherent false dma_mask DMA_BIT_MASK(64)
    And "dev" calls dma_map_page with phys 0x1000_0000 size 128 dir DMA_FROM_DEVICE as a
    When "dev" calls dma_map_page with phys 0x1000_0080 size 128 dir DMA_FROM_DEVICE as b
    Then there are no warnings

  @R18 @dma-core-6.3-5
  Scenario: The key is released by the unmap: a later mapping of the same line is fine
    Given a platform with arch arm64
    And a device "dev" with coherent false dma_mask DMA_BIT_MASK(64)
    And "dev" calls dma_map_page with phys 0x1000_0040 size 64 dir DMA_FROM_DEVICE as a
    And "dev" calls dma_mapping_error with dma_addr $a
    And "dev" calls dma_unmap_page with dma_addr $a size 64 dir DMA_FROM_DEVICE
    When "dev" calls dma_map_page with phys 0x1000_0060 size 64 dir DMA_FROM_DEVICE as b
    Then there are no warnings

  @U4 @dma-core-6.7
  Scenario Outline: U4: DMA_ATTR_DEBUGGING_IGNORE_CACHELINES must be on every mapping sharing the line (first <first>, second <second>)
    The attribute says "the CPU keeps these lines clean while they are mapped";
    dma-debug believes it only when both sides say so.
    Given a platform with arch arm64 linux newest
    And a device "dev" with coherent false dma_mask DMA_BIT_MASK(64)
    And "dev" calls dma_map_page with phys 0x1000_0040 size 64 dir DMA_FROM_DEVICE attrs <first> as a
    When "dev" calls dma_map_page with phys 0x1000_0060 size 64 dir DMA_FROM_DEVICE attrs <second> as b
    Then it succeeds
    And the warnings are <warnings>

    Examples:
      | first                                  | second                                 | warnings                |
      | []                                     | [DMA_ATTR_DEBUGGING_IGNORE_CACHELINES] | DEBUG_CACHELINE_OVERLAP |
      | [DMA_ATTR_DEBUGGING_IGNORE_CACHELINES] | []                                     | DEBUG_CACHELINE_OVERLAP |

  @U4 @dma-core-6.7
  Scenario Outline: U4: with the attribute on both mappings neither verdict fires (<pair>)
    Given a platform with arch arm64 linux newest
    And a device "dev" with coherent false dma_mask DMA_BIT_MASK(64)
    And "dev" calls dma_map_page with phys <a> size <size_a> dir DMA_FROM_DEVICE attrs [DMA_ATTR_DEBUGGING_IGNORE_CACHELINES] as a
    When "dev" calls dma_map_page with phys <b> size 64 dir DMA_FROM_DEVICE attrs [DMA_ATTR_DEBUGGING_IGNORE_CACHELINES] as b
    Then it succeeds
    And there are no warnings
    When the kernel calls dma_debug_info
    Then the result has error_count 0 live_entries 2

    Examples:
      | pair                    | a           | size_a | b           |
      | same first line         | 0x1000_0040 | 64     | 0x1000_0060 |
      | shared second line      | 0x1000_0000 | 128    | 0x1000_0040 |

  @dma-core-6.3-5 @DBG-3
  Scenario: More than 7 extra mappings of one line: the counter saturates and warns
    Nine sg segments start in line 0x400000. SKIP_CPU_SYNC silences the EEXIST
    error, but the counter still counts, and the ninth exceeds the 3 tag bits.
    Given a platform with arch arm64
    And a device "dev" with coherent false dma_mask DMA_BIT_MASK(64)
    When "dev" calls dma_map_sg with sg [{phys 0x1000_0000, length 64}, {phys 0x1000_0000, length 64}, {phys 0x1000_0000, length 64}, {phys 0x1000_0000, length 64}, {phys 0x1000_0000, length 64}, {phys 0x1000_0000, length 64}, {phys 0x1000_0000, length 64}, {phys 0x1000_0000, length 64}, {phys 0x1000_0000, length 64}] dir DMA_FROM_DEVICE attrs [DMA_ATTR_SKIP_CPU_SYNC]
    Then the result has nents 9
    And the warnings are DEBUG_CACHELINE_OVERLAP_LIMIT
    When the kernel calls dma_debug_info
    Then the result has error_count 0 live_entries 9

  @H3 @R16 @dma-core-6.3-5 @dma-core-6.4
  Scenario: sg segments are keyed one by one
    Each mapped segment gets its own entry and its own first-line key; two
    segments of one list starting in the same line collide like two mappings.
    Given a platform with arch arm64
    And a device "dev" with coherent false dma_mask DMA_BIT_MASK(64)
    When "dev" calls dma_map_sg with sg [{phys 0x1000_0000, length 64}, {phys 0x1000_0020, length 64}, {phys 0x1000_1000, length 4K}] dir DMA_FROM_DEVICE
    Then the result has nents 3
    And the warnings are DEBUG_CACHELINE_OVERLAP
