Feature: dma_alloc_coherent and dma_free_coherent on the direct path

  dma_alloc_coherent(dev, size, &dma_handle, gfp) returns memory that the CPU
  and the device may use at the same time without any sync call
  (Documentation/core-api/dma-api-howto.rst, "Using Consistent DMA mappings").
  On the direct path dma_direct_alloc() (kernel/dma/direct.c):

    - rounds the size up to whole pages and takes 2^order pages from the page
      allocator, so the block is aligned to its own size (H11: an allocation of
      64 KiB or less never crosses a 64 KiB boundary);
    - picks the zone from min_not_zero(coherent_dma_mask, bus_dma_limit)
      (dma_direct_optimal_gfp_mask: ZONE_DMA at or below zone_dma_limit,
      ZONE_DMA32 at or below 4 GiB, else any RAM), and when the block it got is
      not dma_coherent_ok() retries in ZONE_DMA32, then in ZONE_DMA;
    - zeroes the memory;
    - for a non-coherent device (arm64, CONFIG_DMA_DIRECT_REMAP) cleans the
      pages' cacheable alias (arch_dma_prep_coherent) and hands the CPU an
      uncached mapping, so CPU stores reach memory at once.

  dma_free_coherent() must get the device, size, CPU address and DMA handle
  of the allocation (R1), and must be called with interrupts enabled (R2, H12).
  In the model cpu_addr is the buffer's physical address.

  @H11
  Scenario Outline: A <size> allocation is aligned to its order (<align>) and never crosses it
    A 4 KiB allocation first puts the allocator off any larger alignment.
    Given a platform
    And a device "nic" with coherent_dma_mask DMA_BIT_MASK(32)
    And "nic" calls dma_alloc_coherent with size 4K
    When "nic" calls dma_alloc_coherent with size <size> as c
    Then it succeeds
    And the result's dma_addr is a multiple of <align>
    And the result's cpu_addr is a multiple of <align>
    And the result's dma_addr & 0xffff is at most <last_start>

    Examples:
      | size | align | last_start |
      | 1    | 4K    | 0xf000     |
      | 4K   | 4K    | 0xf000     |
      | 5000 | 8K    | 0xe000     |
      | 12K  | 16K   | 0xd000     |
      | 33K  | 64K   | 0x0        |
      | 64K  | 64K   | 0x0        |
      | 100K | 128K  | 0x0        |
      | 1M   | 1M    | 0x0        |

  @H11
  Scenario: The memory comes back zeroed even when the pages held data before
    The second allocation gets the very pages the first one dirtied and freed.
    Given a platform
    And a device "nic"
    And "nic" calls dma_alloc_coherent with size 8K as c1
    And the CPU calls cpu_write with phys $c1.cpu_addr data {len 8192, fill 0xff}
    And "nic" calls dma_free_coherent with size 8K cpu_addr $c1.cpu_addr dma_addr $c1
    When "nic" calls dma_alloc_coherent with size 8K as c2
    Then the result's cpu_addr is $c1.cpu_addr
    When the CPU calls cpu_read with phys $c2.cpu_addr size 8K
    Then the result has data {len 8192, fill 0}

  @H7 @H9 @dma-core-3.7
  Scenario Outline: The coherent mask <mask> chooses the zone: the buffer ends at or below <limit>
    A driver that only allocates coherent memory sets (and checks) the coherent
    mask itself (H7, H9). RAM spans 0 to 8 GiB; zone_dma_limit is the default
    16 MiB. A 30-bit
    mask is served from ZONE_DMA32 first; that block is above 1 GiB, so
    __dma_direct_alloc_pages() frees it and retries in ZONE_DMA.
    Given a platform with ram [{base 0x0, size 4G}, {base 0x1_0000_0000, size 4G}]
    And a device "dev"
    When "dev" calls dma_set_coherent_mask with mask <mask>
    Then it succeeds
    When "dev" calls dma_alloc_coherent with size 64K
    Then it succeeds
    And the result's dma_addr is at most <limit>
    And the result's dma_addr is above <above>

    Examples:
      | mask             | limit         | above        |
      | DMA_BIT_MASK(64) | 0x1_ffff_0000 | 0xffff_ffff  |
      | DMA_BIT_MASK(33) | 0x1_ffff_0000 | 0xffff_ffff  |
      | DMA_BIT_MASK(32) | 0xffff_0000   | 0xff_ffff    |
      | DMA_BIT_MASK(30) | 0xff_0000     | 0x0          |
      | DMA_BIT_MASK(24) | 0xff_0000     | 0x0          |

  @H7 @dma-core-3.7
  Scenario: A mask between 4 GiB and the top of RAM retries in ZONE_DMA32
    RAM reaches 16 GiB; a 33-bit coherent mask first gets a block near the top,
    which is not dma_coherent_ok(), then one below 4 GiB.
    Given a platform with ram [{base 0x0, size 4G}, {base 0x1_0000_0000, size 12G}]
    And a device "dev" with dma_mask DMA_BIT_MASK(64) coherent_dma_mask DMA_BIT_MASK(33)
    When "dev" calls dma_alloc_coherent with size 64K
    Then it succeeds
    And the result's dma_addr is at most 0xffff_0000

  @H7 @dma-core-3.7
  Scenario: bus_dma_limit lowers the coherent limit like the mask does
    Given a platform with ram [{base 0x0, size 4G}, {base 0x1_0000_0000, size 4G}]
    And a device "dev" with dma_mask DMA_BIT_MASK(64) coherent_dma_mask DMA_BIT_MASK(64) bus_dma_limit 0xffff_ffff
    When "dev" calls dma_alloc_coherent with size 64K
    Then the result's dma_addr is at most 0xffff_0000

  @H22 @dma-core-3.7
  Scenario: An allocation larger than MAX_PAGE_ORDER fails with NULL
    Without CMA the page allocator is the only source, and order 10 (4 MiB of
    4 KiB pages) is its largest block. The driver must handle NULL (H22).
    Given a platform
    And a device "nic"
    When "nic" calls dma_alloc_coherent with size 8M
    Then it fails with NULL
    When "nic" calls dma_alloc_coherent with size 4M
    Then it succeeds

  @H14 @dma-core-3.7
  Scenario: A non-coherent device and the CPU see each other's writes at once
    The CPU reaches the buffer through an uncached mapping: no sync call exists
    for coherent memory, and none is needed; a coherent buffer is implicitly
    DMA_BIDIRECTIONAL (H14). Speculation and eviction do not touch uncached memory.
    Given a platform with arch arm64
    And a device "dev" with bus platform coherent false dma_mask DMA_BIT_MASK(64) coherent_dma_mask DMA_BIT_MASK(64)
    And "dev" calls dma_alloc_coherent with size 4K as ring
    When the CPU calls cpu_write with phys $ring.cpu_addr data {len 64, seed 60}
    And "dev" calls device_read with dma_addr $ring size 64
    Then the result has data {len 64, seed 60}
    When the CPU calls cpu_speculate with phys $ring.cpu_addr size 4K
    And "dev" calls device_write with dma_addr $ring+0x40 data {len 64, seed 61}
    And the CPU calls cpu_read with phys $ring.cpu_addr+0x40 size 64
    Then the result has data {len 64, seed 61}
    When the kernel calls platform_counters
    Then the result has flushes 0 invalidates 0

  @H14 @dma-core-5.2
  Scenario: arch_dma_prep_coherent cleans the pages, so an old dirty line cannot land on the buffer later
    The pages were a cached buffer a moment ago and the CPU left a dirty line in
    them. The allocation cleans that line before remapping the pages uncached;
    without the clean, its eviction would overwrite what the device writes.
    Given a platform with arch arm64
    And a device "dev" with bus platform coherent false dma_mask DMA_BIT_MASK(64) coherent_dma_mask DMA_BIT_MASK(64)
    And "dev" calls dma_alloc_coherent with size 4K as old
    And "dev" calls dma_free_coherent with size 4K cpu_addr $old.cpu_addr dma_addr $old
    And the CPU calls cpu_write with phys $old.cpu_addr data {len 64, fill 0xbd}
    When "dev" calls dma_alloc_coherent with size 4K as ring
    Then the result's cpu_addr is $old.cpu_addr
    When "dev" calls device_write with dma_addr $ring data {len 64, fill 0x42}
    And the CPU calls cpu_evict with phys $ring.cpu_addr size 4K
    And "dev" calls device_read with dma_addr $ring size 64
    Then the result has data {len 64, fill 0x42}
    When the CPU calls cpu_read with phys $ring.cpu_addr size 64
    Then the result has data {len 64, fill 0x42}

  @H11 @H12 @R2
  Scenario Outline: Allocating in <context> context is fine; freeing there is not: <free_warnings>
    dma_alloc_coherent() may run in interrupt context with GFP_ATOMIC (H11).
    dma_free_attrs() WARNs when interrupts are disabled (R2), and freeing from
    interrupt context breaks H12 (vunmap of the remap may sleep).
    Given a platform
    And a device "nic"
    When "nic" calls dma_alloc_coherent with size 4K context <context> as c
    Then it succeeds
    And there are no warnings
    When "nic" calls dma_free_coherent with size 4K cpu_addr $c.cpu_addr dma_addr $c context <context>
    Then the warnings are <free_warnings>

    Examples:
      | context       | free_warnings             |
      | atomic        | CONTEXT_FREE_IN_INTERRUPT |
      | irqs_disabled | WARN_FREE_IRQS_DISABLED   |

  @R1 @R2 @H12 @H18
  Scenario: A free in process context with the allocation's arguments is clean
    Given a platform
    And a device "nic"
    And "nic" calls dma_alloc_coherent with size 12K as c
    When "nic" calls dma_free_coherent with size 12K cpu_addr $c.cpu_addr dma_addr $c
    Then it succeeds
    And there are no warnings
    When the kernel calls dma_debug_info
    Then the result has live_entries 0 error_count 0
    When device "nic" is removed
    Then the result has leaks 0

  @R1 @R38 @H12
  Scenario Outline: Freeing with a different <what> is reported by dma-debug
    check_unmap() compares the free against the entry recorded at allocation
    time. A CPU address that is no live allocation of the device is not passed
    on to the page allocator: the kernel would corrupt it, the model refuses
    (MODEL_FREE_UNKNOWN_BUFFER).
    Given a platform
    And a device "nic"
    And a device "other"
    And "nic" calls dma_alloc_coherent with size 8K as c
    When "<dev>" calls dma_free_coherent with size <size> cpu_addr <cpu_addr> dma_addr <dma_addr>
    Then the warnings are <warnings>
    When the kernel calls dma_debug_info
    Then the result has error_count 1

    Examples:
      | what        | dev   | size | cpu_addr           | dma_addr  | warnings                                                |
      | size        | nic   | 4K   | $c.cpu_addr        | $c        | DEBUG_FREE_WRONG_SIZE                                   |
      | CPU address | nic   | 8K   | $c.cpu_addr+0x1000 | $c        | DEBUG_FREE_WRONG_CPU_ADDRESS, MODEL_FREE_UNKNOWN_BUFFER |
      | DMA handle  | nic   | 8K   | $c.cpu_addr        | $c+0x1000 | DEBUG_FREE_NOT_ALLOCATED                                |
      | device      | other | 8K   | $c.cpu_addr        | $c        | DEBUG_FREE_NOT_ALLOCATED, MODEL_FREE_UNKNOWN_BUFFER     |

  @R1 @H18
  Scenario: A coherent allocation never freed is a leak when the driver unbinds
    Given a platform
    And a device "nic"
    And "nic" calls dma_alloc_coherent with size 4K as c
    When device "nic" is removed
    Then the result has leaks 1
    And the warnings are DEBUG_LEAK_AT_REMOVE

  @A1 @R1 @dma-core-6.7
  Scenario Outline: DMA_ATTR_NO_KERNEL_MAPPING must be passed to the free as well (linux <linux>, free attrs <free_attrs>)
    With NO_KERNEL_MAPPING the returned pointer is an opaque cookie the driver
    must never dereference (dma-attributes.rst), and the free must carry the
    same attribute. Newest dma-debug stores the attrs and compares
    NO_KERNEL_MAPPING, FORCE_CONTIGUOUS, MMIO, REQUIRE_COHERENT, PRIVILEGED and
    CC_SHARED at free time; 6.12 does not look.
    Given a platform with linux <linux>
    And a device "nic"
    And "nic" calls dma_alloc_coherent with size 4K attrs [DMA_ATTR_NO_KERNEL_MAPPING] as c
    When "nic" calls dma_free_coherent with size 4K cpu_addr $c.cpu_addr dma_addr $c attrs <free_attrs>
    Then it succeeds
    And the warnings are <warnings>

    Examples:
      | linux  | free_attrs                    | warnings               |
      | newest | []                            | DEBUG_FREE_WRONG_ATTRS |
      | newest | [DMA_ATTR_WRITE_COMBINE]      | DEBUG_FREE_WRONG_ATTRS |

  @A1 @A3 @R1 @dma-core-6.7
  Scenario Outline: A free that dma-debug accepts (linux <linux>, free attrs <free_attrs>)
    Newest wants the allocation's NO_KERNEL_MAPPING back; hint attributes such
    as DMA_ATTR_NO_WARN are not compared. 6.12 compares no attributes at all.
    Given a platform with linux <linux>
    And a device "nic"
    And "nic" calls dma_alloc_coherent with size 4K attrs [DMA_ATTR_NO_KERNEL_MAPPING] as c
    When "nic" calls dma_free_coherent with size 4K cpu_addr $c.cpu_addr dma_addr $c attrs <free_attrs>
    Then it succeeds
    And there are no warnings
    When the kernel calls dma_debug_info
    Then the result has live_entries 0 error_count 0

    Examples:
      | linux  | free_attrs                                      |
      | newest | [DMA_ATTR_NO_KERNEL_MAPPING]                    |
      | newest | [DMA_ATTR_NO_KERNEL_MAPPING, DMA_ATTR_NO_WARN]  |
      | 6.12   | []                                              |
