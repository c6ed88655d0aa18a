Feature: swiotlb slots: pool geometry, the slot search and release
  The swiotlb pool is a run of 2 KiB slots (IO_TLB_SIZE), grouped into
  128-slot segments (IO_TLB_SEGSIZE, 256 KiB); a free run never crosses a
  segment, so one mapping takes at most 128 slots. The pool is split into
  areas, one per possible CPU rounded up to a power of two, each with its own
  lock, used count and next-fit cursor; a map starts searching in the area of
  the CPU it runs on (cpu & (nareas - 1)) and then tries the others.

  swiotlb_search_pool_area() places a mapping of size bytes
  (mapping size + offset) like this:
  - offset = orig & min_align_mask & (alloc_align_mask | 2047): the low bits
    the bounce address must share with the original (0 without a
    min_align_mask);
  - every run starts on a slot; a streaming map of at least PAGE_SIZE with no
    min_align_mask is page-aligned (the legacy rule), so it needs an even slot;
  - bits of min_align_mask above 2047 must match the original (NVMe's 0xFFF
    needs the slot parity of bit 11);
  - the run must not cross the device's segment boundary.
  swiotlb_release_slots() counts the slots from the stored alloc_size, never
  from the size passed to unmap, and merges the freed run with its free
  neighbours in the same segment.

  The pool of these scenarios is placed explicitly at 0x4000_0000, so slot
  positions can be read off the addresses.

  Background:
    Given a platform with ram [{base 0x0, size 4G}] swiotlb {size 64M, base 0x4000_0000, force true}
    And a device "dev" with dma_mask DMA_BIT_MASK(64)

  @INV-S1 @INV-S2 @dma-core-4.1
  Scenario Outline: Pool geometry: swiotlb=<size> on <ncpus> CPUs gives <nslabs> slots in <nareas> areas
    Unless the command line says otherwise there is one area per possible CPU,
    rounded up to a power of two. Every area needs at least one whole segment,
    and the slot count is rounded up to a power of two so areas are equal
    ("SWIOTLB bounce buffer size roundup to ...MB").
    Given a platform with ncpus <ncpus> swiotlb {size <size>}
    When the kernel calls swiotlb_info
    Then the result has nslabs <nslabs> nareas <nareas> used 0 force false

    Examples:
      | size | ncpus | nslabs | nareas |
      | 64M  | 1     | 32768  | 1      |
      | 64M  | 8     | 32768  | 8      |
      | 64M  | 6     | 32768  | 8      |
      | 64M  | 512   | 65536  | 512    |
      | 1M   | 8     | 1024   | 8      |
      | 3M   | 1     | 2048   | 1      |
      | 256K | 1     | 128    | 1      |

  @INV-S2 @INV-S3 @dma-core-4.2
  Scenario: Small maps take consecutive slots, next-fit
    A 100-byte map needs one slot; the area cursor moves on after it, so the
    next map lands in the following slot, 2 KiB further.
    When "dev" calls dma_map_single with phys 0x1000_0123 size 100 dir DMA_TO_DEVICE as a
    Then the result has dma_addr 0x4000_0000
    When "dev" calls dma_map_single with phys 0x1000_0200 size 100 dir DMA_TO_DEVICE as b
    Then the result's dma_addr is $a+0x800
    When the kernel calls swiotlb_info
    Then the result has used 2

  @INV-S4 @dma-core-4.2 @dma-core-4.8-4
  Scenario: Without a min_align_mask the low bits of the original are not kept
    0x1000_0123 becomes a slot-aligned bounce address: a device that relies on
    the offset inside a page must declare a min_align_mask.
    When "dev" calls dma_map_single with phys 0x1000_0123 size 100 dir DMA_TO_DEVICE
    Then the result's dma_addr & 0x7FF is 0

  @INV-S4 @dma-core-4.2
  Scenario Outline: min_align_mask <mask> keeps the low bits of 0x1000_0<low>
    Given a device "nvme" with dma_mask DMA_BIT_MASK(64) min_align_mask <mask>
    When "nvme" calls dma_map_single with phys 0x1000_0<low> size 100 dir DMA_TO_DEVICE
    Then the result's dma_addr & 0xFFF is <expected>

    Examples:
      | mask  | low | expected |
      | 0xFFF | A34 | 0xA34    |
      | 0xFFF | 234 | 0x234    |
      | 0xFFF | 800 | 0x800    |
      | 0x3   | A37 | 0x003    |
      | 0x7FF | A34 | 0x234    |

  @INV-S3 @dma-core-4.2 @dma-core-3.8-1
  Scenario: A map of a page or more starts on a page: the odd slot is skipped
    The first map takes slot 0. A 4 KiB map cannot start at slot 1
    (0x4000_0800 is not page-aligned), so it takes slots 2-3 and slot 1 stays
    free.
    When "dev" calls dma_map_single with phys 0x1000_0000 size 100 dir DMA_TO_DEVICE as a
    And "dev" calls dma_map_single with phys 0x2000_0000 size 4K dir DMA_TO_DEVICE as b
    Then the result's dma_addr is $a+0x1000
    When "dev" calls dma_map_single with phys 0x3000_0000 size 100 dir DMA_TO_DEVICE as c
    Then the result's dma_addr is $a+0x2000
    When the kernel calls swiotlb_info
    Then the result has used 4

  @INV-S3 @dma-core-4.1
  Scenario: Each CPU starts in its own area
    4 CPUs give 4 areas of 8192 slots (16 MiB). A map on CPU 1 is served from
    the second area, one on CPU 3 from the last.
    Given a platform with ncpus 4 ram [{base 0x0, size 4G}] swiotlb {size 64M, base 0x4000_0000, force true}
    And a device "dev" with dma_mask DMA_BIT_MASK(64)
    When the kernel calls swiotlb_info
    Then the result has nareas 4
    When "dev" calls dma_map_single with phys 0x1000_0000 size 100 dir DMA_TO_DEVICE cpu 1
    Then the result has dma_addr 0x4100_0000
    When "dev" calls dma_map_single with phys 0x1000_0000 size 100 dir DMA_TO_DEVICE cpu 3
    Then the result has dma_addr 0x4300_0000
    When "dev" calls dma_map_single with phys 0x1000_0000 size 100 dir DMA_TO_DEVICE cpu 0
    Then the result has dma_addr 0x4000_0000

  @INV-S2 @INV-S7 @dma-core-4.2
  Scenario: A full area sends the search on to the next one
    Two CPUs, a 512 KiB pool: two areas of one segment each. CPU 0 fills its
    area with a 256 KiB map; its next map comes from the area of CPU 1.
    Given a platform with ncpus 2 ram [{base 0x0, size 4G}] swiotlb {size 512K, base 0x4000_0000, force true}
    And a device "dev" with dma_mask DMA_BIT_MASK(64)
    When "dev" calls dma_map_single with phys 0x1000_0000 size 256K dir DMA_TO_DEVICE cpu 0
    Then the result has dma_addr 0x4000_0000
    When "dev" calls dma_map_single with phys 0x2000_0000 size 100 dir DMA_TO_DEVICE cpu 0
    Then the result has dma_addr 0x4004_0000
    When the kernel calls swiotlb_info
    Then the result has used 129

  @INV-S1 @INV-S6 @dma-core-4.6
  Scenario: Released slots merge with their free neighbours
    A one-segment pool (128 slots). A 5000-byte map takes slots 0-2 and moves
    the cursor to 3. After the unmap, slots 0-2 must merge again with 3-127:
    a 256 KiB map, which needs the whole segment, wraps around and gets slot 0.
    Given a platform with ram [{base 0x0, size 4G}] swiotlb {size 256K, base 0x4000_0000, force true}
    And a device "dev" with dma_mask DMA_BIT_MASK(64)
    When "dev" calls dma_map_single with phys 0x1_0000 size 5000 dir DMA_TO_DEVICE as a
    Then the result has dma_addr 0x4000_0000
    When "dev" calls dma_mapping_error with dma_addr $a
    And "dev" calls dma_unmap_single with dma_addr $a size 5000 dir DMA_TO_DEVICE
    Then there are no warnings
    When "dev" calls dma_map_single with phys 0x10_0000 size 256K dir DMA_TO_DEVICE
    Then the result has dma_addr 0x4000_0000
    When the kernel calls swiotlb_info
    Then the result has used 128

  @R20 @INV-S6 @dma-core-4.6
  Scenario: Unmap with the wrong size: dma-debug complains, swiotlb releases what was allocated
    swiotlb_release_slots() takes the slot count from alloc_size, so the 3
    slots of a 5000-byte map are freed even if the driver passes 100. The
    driver's bug is still a contract finding (R20).
    When "dev" calls dma_map_single with phys 0x1_0000 size 5000 dir DMA_TO_DEVICE as a
    And "dev" calls dma_mapping_error with dma_addr $a
    And "dev" calls dma_unmap_single with dma_addr $a size 100 dir DMA_TO_DEVICE
    Then the warnings are DEBUG_FREE_WRONG_SIZE
    When the kernel calls swiotlb_info
    Then the result has used 0

  @INV-S3 @dma-core-4.2
  Scenario: A bounce run does not cross the device's segment boundary
    The device cannot cross 64 KiB (segment_boundary_mask 0xFFFF: 32 slots).
    After a one-slot map, a 62 KiB map (31 slots, page-aligned) would fit from
    slot 2, but slots 2-32 cross 0x4001_0000; the search moves on to slot 32.
    Given a device "blk" with dma_mask DMA_BIT_MASK(64) segment_boundary_mask 0xFFFF
    When "blk" calls dma_map_single with phys 0x1000_0000 size 100 dir DMA_TO_DEVICE as a
    Then the result has dma_addr 0x4000_0000
    When "blk" calls dma_map_single with phys 0x2000_0000 size 62K dir DMA_TO_DEVICE
    Then the result has dma_addr 0x4001_0000

  @INV-S4 @INV-S6 @dma-core-4.3
  Scenario: An alloc_align_mask above 2 KiB adds padding slots in front (swiotlb_tbl_map_single)
    dma-iommu bounces with alloc_align_mask = IOVA granule - 1. With
    min_align_mask 0xFFF, orig 0x1_0000_0A34 keeps all 12 low bits, so the
    allocation is ALIGN(100 + 0xA34, 4096) = 4096 bytes (2 slots) starting on a
    page, and the data starts 0xA34 into it: one padding slot, then 0x234 into
    the second slot. Unmap releases both slots.
    Given a device "iommu-bounce" with dma_mask DMA_BIT_MASK(64) min_align_mask 0xFFF
    When "iommu-bounce" calls swiotlb_tbl_map_single with phys 0x1_0000_0A34 size 100 alloc_align_mask 0xFFF dir DMA_TO_DEVICE as t
    Then the result's tlb_addr & 0xFFF is 0xA34
    And there are no warnings
    When the kernel calls swiotlb_info
    Then the result has used 2
    When "iommu-bounce" calls swiotlb_tbl_unmap_single with tlb_addr $t size 100 dir DMA_TO_DEVICE
    And the kernel calls swiotlb_info
    Then the result has used 0

  @INV-S4 @dma-core-4.3
  Scenario: An alloc_align_mask beyond a page is warned about once
    "Alloc alignment may prevent fulfilling requests with max mapping_size":
    alignment padding then eats into the 256 KiB a segment can hold.
    When "dev" calls swiotlb_tbl_map_single with phys 0x1000_0000 size 100 alloc_align_mask 0x1FFF dir DMA_TO_DEVICE
    Then the result's tlb_addr & 0x1FFF is 0
    And the warnings are WARN_SWIOTLB_ALLOC_ALIGN
