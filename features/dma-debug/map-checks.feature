Feature: dma-debug checks at mapping time (dma-core.md §6.3, checks 1-7)

  With CONFIG_DMA_API_DEBUG, kernel/dma/debug.c records every mapping and checks
  the driver's side of the contract. At mapping time it looks at where the
  buffer lives and at the shape of each scatterlist segment:

    1  DEBUG_MAP_FROM_STACK        check_for_stack(): the buffer is on the task stack
                                   ("[addr=...]"; with CONFIG_VMAP_STACK matched by
                                   page, "[probable addr=...]")
    2  DEBUG_MAP_KERNEL_TEXT       check_for_illegal_area(): kernel text or rodata
    3  DEBUG_MAP_INVALID_AREA      debug_dma_map_single(): !virt_addr_valid()
    4  DEBUG_MAP_VMALLOC           debug_dma_map_single(): is_vmalloc_addr(), which
                                   dma_map_single_attrs() already refuses
    5  DEBUG_CACHELINE_OVERLAP     see overlap.feature
    6  DEBUG_SG_SEGMENT_TOO_LONG   a mapped segment longer than dma_get_max_seg_size()
    7  DEBUG_SG_SEGMENT_BOUNDARY   a mapped segment crossing dma_get_seg_boundary()

  Memory for DMA must come from the page allocator, kmalloc or kmem_cache; never
  from the stack, the kernel image, vmalloc or kmap (H2). `mem` tells the model
  where a buffer lives. Each finding goes through err_printk(), so it counts in
  error_count, and the mapping itself still succeeds: dma-debug reports, it does
  not refuse.

  Background:
    Given a platform
    And a device "nic"

  @H2 @dma-core-6.3-1
  Scenario Outline: Check 1: <call> of a buffer on the <mem> is reported
    When "nic" calls <call> with phys 0x1000_0000 size 256 dir DMA_TO_DEVICE mem <mem> as buf
    Then it succeeds
    And the warnings are DEBUG_MAP_FROM_STACK
    When the kernel calls dma_debug_info
    Then the result has error_count 1 live_entries 1

    Examples:
      | call           | mem        |
      | dma_map_page   | stack      |
      | dma_map_page   | vmap_stack |
      | dma_map_phys   | stack      |
      | dma_map_single | stack      |

  @H2 @dma-core-6.3-1 @dma-core-6.3-4
  Scenario: dma_map_single of a vmapped stack is refused before dma-debug sees it
    A CONFIG_VMAP_STACK stack lives in the vmalloc area, so
    dma_map_single_attrs() rejects it with "rejecting DMA map of vmalloc memory"
    and never calls debug_dma_map_single(). Check 1's "[probable addr]" form is
    reached through dma_map_page() and dma_map_sg() only.
    When "nic" calls dma_map_single with phys 0x1000_0000 size 256 dir DMA_TO_DEVICE mem vmap_stack
    Then it fails with DMA_MAPPING_ERROR
    And the warnings are WARN_VMALLOC_MAP_REJECTED
    When the kernel calls dma_debug_info
    Then the result has error_count 0 live_entries 0

  @H2 @dma-core-6.3-1 @dma-core-6.4
  Scenario: dma_map_sg checks every input element for the stack
    When "nic" calls dma_map_sg with sg [{phys 0x1000_0000, length 512}, {phys 0x1000_1000, length 512}] dir DMA_TO_DEVICE mem stack as s
    Then the result has nents 2
    And the warnings are DEBUG_MAP_FROM_STACK, DEBUG_MAP_FROM_STACK

  @H2 @dma-core-6.3-2
  Scenario Outline: Check 2: mapping kernel <mem> is reported
    When "nic" calls <call> with phys 0x0100_0000 size 4K dir DMA_TO_DEVICE mem <mem>
    Then it succeeds
    And the warnings are DEBUG_MAP_KERNEL_TEXT

    Examples:
      | call           | mem    |
      | dma_map_page   | text   |
      | dma_map_page   | rodata |
      | dma_map_single | text   |

  @H2 @dma-core-6.3-3
  Scenario: Check 3: dma_map_single of an address that is not a valid linear address
    When "nic" calls dma_map_single with phys 0x1000_0000 size 256 dir DMA_TO_DEVICE mem invalid
    Then it succeeds
    And the warnings are DEBUG_MAP_INVALID_AREA

  @H2 @dma-core-6.3-3
  Scenario: Check 3 belongs to dma_map_single: dma_map_page takes a struct page and checks nothing of the kind
    When "nic" calls dma_map_page with phys 0x1000_0000 size 256 dir DMA_TO_DEVICE mem invalid
    Then it succeeds
    And there are no warnings

  @H2 @dma-core-6.3-4 @dma-core-2.2
  Scenario: Check 4 never fires: dma_map_single_attrs refuses vmalloc memory first
    When "nic" calls dma_map_single with phys 0x1000_0000 size 256 dir DMA_TO_DEVICE mem vmalloc
    Then it fails with DMA_MAPPING_ERROR
    And the warnings are WARN_VMALLOC_MAP_REJECTED
    And the warnings do not include DEBUG_MAP_VMALLOC, DEBUG_MAP_INVALID_AREA

  @H2
  Scenario Outline: <call> of linear-map memory (kmalloc, page allocator) maps without a finding
    When "nic" calls <call> with phys 0x1000_0000 size 256 dir DMA_TO_DEVICE mem linear as buf
    Then it succeeds
    And there are no warnings

    Examples:
      | call           |
      | dma_map_single |
      | dma_map_page   |
      | dma_map_phys   |

  @R26 @dma-core-6.3-6
  Scenario Outline: Check 6: a <length>-byte segment with max_segment_size <max>
    DMA_API_DEBUG_SG compares each mapped segment with dma_get_max_seg_size()
    (64 KiB when the driver never set dma_parms). dma-direct does not split or
    merge, so the segment reaches the device as the driver built it.
    Given a device "disk" with max_segment_size <max>
    When "disk" calls dma_map_sg with sg [{phys 0x1000_0000, length <length>}] dir DMA_TO_DEVICE
    Then the result has nents 1
    And the warnings are <warnings>

    Examples:
      | length | max  | warnings                  |
      | 128K   | 64K  | DEBUG_SG_SEGMENT_TOO_LONG |
      | 65537  | 64K  | DEBUG_SG_SEGMENT_TOO_LONG |

  @R26 @dma-core-6.3-6
  Scenario: Check 6: a segment that fits max_segment_size is fine
    Given a device "disk" with max_segment_size 256K
    When "disk" calls dma_map_sg with sg [{phys 0x1000_0000, length 128K}, {phys 0x1010_0000, length 64K}] dir DMA_TO_DEVICE
    Then the result has nents 2
    And there are no warnings

  @R26 @dma-core-6.3-7
  Scenario Outline: Check 7: a segment from <start> of <length> bytes across boundary mask <mask>
    Given a platform with ram [{base 0x0, size 4G}, {base 0x1_0000_0000, size 4G}]
    And a device "disk" with dma_mask DMA_BIT_MASK(64) max_segment_size 1M segment_boundary_mask <mask>
    When "disk" calls dma_map_sg with sg [{phys <start>, length <length>}] dir DMA_TO_DEVICE
    Then the result has nents 1
    And the warnings are DEBUG_SG_SEGMENT_BOUNDARY

    Examples:
      | start       | length | mask        |
      | 0x1000_f000 | 8K     | 0xffff      |
      | 0xffff_f000 | 8K     | 0xffff_ffff |

  @R26 @dma-core-6.3-7
  Scenario: Check 7: a segment ending exactly at the boundary does not cross it
    Given a device "disk" with segment_boundary_mask 0xffff
    When "disk" calls dma_map_sg with sg [{phys 0x1000_e000, length 8K}] dir DMA_TO_DEVICE
    Then the result has nents 1
    And there are no warnings
