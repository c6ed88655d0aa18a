Feature: Scatter-gather through an IOMMU: one IOVA allocation, laid out around segment boundaries, merged on the way out
  iommu_dma_map_sg() (drivers/iommu/dma-iommu.c, iommu.md §3.8) turns an
  arbitrary list into as few DMA segments as the device's limits allow:

  1. Layout: every entry is widened to whole granules (its offset and length
     are stashed in the DMA fields); where an entry would cross a segment
     boundary (dma_get_seg_boundary, 0xFFFF_FFFF on PCI) the previous entry is
     padded up to it.
  2. One iommu_dma_alloc_iova() for the total, then one iommu_map_sg(), which
     maps each physically contiguous run. Padding maps the memory that follows
     the previous entry's pages.
  3. __finalise_sg() walks the list again and merges entry i into the
     current segment when the segment is non-empty, entry i starts on a
     granule (offset 0), the IOVA is not on a segment boundary, and the sum
     stays within dma_get_max_seg_size() (64 KiB on PCI); an entry that does
     not end on a granule boundary closes its segment. Physical contiguity
     plays no part: unrelated pages merge because they are adjacent in IOVA.

  The return value is the number of segments; the remaining entries get
  dma_address DMA_MAPPING_ERROR and dma_length 0. The driver programs the
  returned count, and passes the original nents to unmap and sync (R26-R28).
  iommu_dma_unmap_sg() unmaps from the first segment's start to the last
  segment's end in one __iommu_dma_unmap(), which re-aligns and so takes the
  padding with it. Unlike the single-buffer path it has no iova_to_phys()
  guard: unmapping the same list twice would free the IOVA twice, so the
  model reports it and refuses (iommu.md §6.3).

  The machine is REF (iommu.md §1.1); dma-debug is off except where a
  scenario turns it on.

  Background:
    Given a platform with ram [{base 0x0, size 4G}, {base 0x1_0000_0000, size 4G}] swiotlb {size 64M} dma_debug false
    And the kernel calls iommu_add with name smmu
    And a device "nic" with iommu smmu dma_mask DMA_BIT_MASK(64)

  @S3.8 @I-D10 @I-D11 @iommu-3.8
  Scenario: S3.8: two contiguous pages and an unaligned tail become 2 segments in one 4-page allocation
    The layout needs 0x3000 bytes of IOVA, rounded to 4 pages: 0xFFFF_C000.
    iommu_map_sg() maps two physical runs: 0x1000_0000 + 0x2000 and
    0x2000_0000 + 0x1000. The third entry has an offset (0x200), so it starts
    a segment of its own, at 0xFFFF_E000 + 0x200.
    When "nic" calls dma_map_sg with sg [{phys 0x1000_0000, length 4K}, {phys 0x1000_1000, length 4K}, {phys 0x2000_0200, length 0x800}] dir DMA_TO_DEVICE as s
    Then the result has nents 2
    And the result has sg [{phys "0x10000000", length "0x1000", dma_address "0xffffc000", dma_length "0x2000"}, {phys "0x10001000", length "0x1000", dma_address "0xffffe200", dma_length "0x800"}, {phys "0x20000200", length "0x800", dma_address "0xffffffffffffffff", dma_length "0x0"}]
    And there are no warnings
    When the kernel calls iommu_info with domain nic
    Then the result has map_pages 2 leaves 3
    When the kernel calls iommu_iova_to_phys with domain nic iova 0xFFFF_D000
    Then the result has phys 0x1000_1000
    When the kernel calls iommu_iova_to_phys with domain nic iova 0xFFFF_E000
    Then the result has phys 0x2000_0000
    When the kernel calls iommu_iova_to_phys with domain nic iova 0xFFFF_F000
    Then the result has phys 0

  @S3.8 @I-D4 @iommu-3.8 @iova-2.10
  Scenario: S3.8 unmapped: 0xFFFF_C000-0xFFFF_EFFF unmapped in one go, pfn 0xFFFFC freed with size 3 into bucket 2
    When "nic" calls dma_map_sg with sg [{phys 0x1000_0000, length 4K}, {phys 0x1000_1000, length 4K}, {phys 0x2000_0200, length 0x800}] dir DMA_TO_DEVICE as s
    And "nic" calls dma_unmap_sg with sg $s dir DMA_TO_DEVICE
    Then there are no warnings
    When the kernel calls iommu_info with domain nic
    Then the result has leaves 0 iotlb_syncs 1
    When "nic" calls dma_map_page with phys 0x5000_0000 size 0x3000 dir DMA_TO_DEVICE
    Then the result has dma_addr 0xFFFF_C000
    When the kernel calls iova_info with domain nic
    Then the result has rcache_hits 1

  @S3.9 @I-D10 @iommu-3.8
  Scenario: S3.9: 17 unrelated pages with a 64 KiB maximum segment give 2 segments
    17 pages need 17 granules of IOVA, rounded to 32 and 32-aligned:
    0xFFFE_0000. The first 16 pages merge into one 64 KiB segment; the 17th
    would exceed max_segment_size and starts the second.
    When "nic" calls dma_map_sg with sg [{phys 0x10000000, length 4K}, {phys 0x10100000, length 4K}, {phys 0x10200000, length 4K}, {phys 0x10300000, length 4K}, {phys 0x10400000, length 4K}, {phys 0x10500000, length 4K}, {phys 0x10600000, length 4K}, {phys 0x10700000, length 4K}, {phys 0x10800000, length 4K}, {phys 0x10900000, length 4K}, {phys 0x10a00000, length 4K}, {phys 0x10b00000, length 4K}, {phys 0x10c00000, length 4K}, {phys 0x10d00000, length 4K}, {phys 0x10e00000, length 4K}, {phys 0x10f00000, length 4K}, {phys 0x11000000, length 4K}] dir DMA_TO_DEVICE as s
    Then the result has nents 2
    And the result has sg [{phys "0x10000000", length "0x1000", dma_address "0xfffe0000", dma_length "0x10000"}, {phys "0x10100000", length "0x1000", dma_address "0xffff0000", dma_length "0x1000"}, {phys "0x10200000", length "0x1000", dma_address "0xffffffffffffffff", dma_length "0x0"}, {phys "0x10300000", length "0x1000", dma_address "0xffffffffffffffff", dma_length "0x0"}, {phys "0x10400000", length "0x1000", dma_address "0xffffffffffffffff", dma_length "0x0"}, {phys "0x10500000", length "0x1000", dma_address "0xffffffffffffffff", dma_length "0x0"}, {phys "0x10600000", length "0x1000", dma_address "0xffffffffffffffff", dma_length "0x0"}, {phys "0x10700000", length "0x1000", dma_address "0xffffffffffffffff", dma_length "0x0"}, {phys "0x10800000", length "0x1000", dma_address "0xffffffffffffffff", dma_length "0x0"}, {phys "0x10900000", length "0x1000", dma_address "0xffffffffffffffff", dma_length "0x0"}, {phys "0x10a00000", length "0x1000", dma_address "0xffffffffffffffff", dma_length "0x0"}, {phys "0x10b00000", length "0x1000", dma_address "0xffffffffffffffff", dma_length "0x0"}, {phys "0x10c00000", length "0x1000", dma_address "0xffffffffffffffff", dma_length "0x0"}, {phys "0x10d00000", length "0x1000", dma_address "0xffffffffffffffff", dma_length "0x0"}, {phys "0x10e00000", length "0x1000", dma_address "0xffffffffffffffff", dma_length "0x0"}, {phys "0x10f00000", length "0x1000", dma_address "0xffffffffffffffff", dma_length "0x0"}, {phys "0x11000000", length "0x1000", dma_address "0xffffffffffffffff", dma_length "0x0"}]
    When the kernel calls iommu_iova_to_phys with domain nic iova $s+0xF000
    Then the result has phys 0x10F0_0000
    When the kernel calls iommu_iova_to_phys with domain nic iova $s[1]
    Then the result has phys 0x1100_0000

  @I-D10 @iommu-3.8
  Scenario Outline: A max_segment_size of <max> splits 4 unrelated pages into <n> segment(s)
    Given a device "dev" with iommu smmu dma_mask DMA_BIT_MASK(64) max_segment_size <max>
    When "dev" calls dma_map_sg with sg [{phys 0x1000_0000, length 4K}, {phys 0x2000_0000, length 4K}, {phys 0x3000_0000, length 4K}, {phys 0x4000_0000, length 4K}] dir DMA_TO_DEVICE as s
    Then the result has nents <n>
    When the kernel calls iommu_iova_to_phys with domain dev iova $s[<last>]
    Then the result has phys <last_phys>

    Examples:
      | max | n | last | last_phys   |
      | 64K | 1 | 0    | 0x1000_0000 |
      | 8K  | 2 | 1    | 0x3000_0000 |
      | 4K  | 4 | 3    | 0x4000_0000 |

  @S3.10 @I-D10 @I-D11 @iommu-3.8
  Scenario: S3.10: a 64 KiB segment boundary pads the first entry, and the padding translates to the memory after it
    Two 0xC000 entries under boundary mask 0xFFFF: the second would cross
    0x1_0000, so the first is padded by 0x4000 to end on the boundary.
    iova_len = 0x1C000, 28 pages rounded to 32: 0xFFFE_0000. The segments are
    (0xFFFE_0000, 0xC000) and (0xFFFF_0000, 0xC000), and IOVA
    0xFFFE_C000-0xFFFE_FFFF maps the 16 KiB of physical memory after the
    first buffer - bytes the device was never given, but can read.
    Given a device "blk" with iommu smmu dma_mask DMA_BIT_MASK(64) segment_boundary_mask 0xFFFF
    When the CPU calls cpu_write with phys 0x5000_C000 data {len 16384, seed 6}
    And "blk" calls dma_map_sg with sg [{phys 0x5000_0000, length 0xC000}, {phys 0x6000_0000, length 0xC000}] dir DMA_TO_DEVICE as s
    Then the result has nents 2
    And the result has sg [{phys "0x50000000", length "0xc000", dma_address "0xfffe0000", dma_length "0xc000"}, {phys "0x60000000", length "0xc000", dma_address "0xffff0000", dma_length "0xc000"}]
    When the kernel calls iommu_iova_to_phys with domain blk iova 0xFFFE_C000
    Then the result has phys 0x5000_C000
    When "blk" calls device_read with dma_addr 0xFFFE_C000 size 16K
    Then the result has data {len 16384, seed 6}
    When "blk" calls dma_unmap_sg with sg $s dir DMA_TO_DEVICE
    And "blk" calls device_read with dma_addr 0xFFFE_C000 size 4
    Then the device faults
    When the kernel calls iommu_info with domain blk
    Then the result has leaves 0

  @I-D10 @iommu-3.8
  Scenario: Unrelated pages merge: the device sees one 8 KiB buffer made of two distant pages
    When "nic" calls dma_map_sg with sg [{phys 0x1000_0000, length 4K}, {phys 0x3000_0000, length 4K}] dir DMA_FROM_DEVICE as s
    Then the result has nents 1
    And the result has sg [{phys "0x10000000", length "0x1000", dma_address "0xffffe000", dma_length "0x2000"}, {phys "0x30000000", length "0x1000", dma_address "0xffffffffffffffff", dma_length "0x0"}]
    When "nic" calls device_write with dma_addr $s data {len 4096, seed 7}
    And "nic" calls device_write with dma_addr $s+0x1000 data {len 4096, seed 8}
    And "nic" calls dma_unmap_sg with sg $s dir DMA_FROM_DEVICE
    And the CPU calls cpu_read with phys 0x1000_0000 size 4K
    Then the result has data {len 4096, seed 7}
    When the CPU calls cpu_read with phys 0x3000_0000 size 4K
    Then the result has data {len 4096, seed 8}

  @I-D10 @iommu-3.8
  Scenario Outline: <case>: <n> segment(s)
    An entry merges only if it starts on a granule and the segment before it
    ended on one; otherwise the granule-rounding gap in IOVA would show up
    inside the segment.
    When "nic" calls dma_map_sg with sg <sg> dir DMA_TO_DEVICE
    Then the result has nents <n>
    And the result has sg <out>

    Examples:
      | case                                | sg                                                                | n | out                                                                                                                                                                            |
      | the first entry ends mid-granule    | [{phys 0x1000_0000, length 0x800}, {phys 0x3000_0000, length 4K}] | 2 | [{phys "0x10000000", length "0x800", dma_address "0xffffe000", dma_length "0x800"}, {phys "0x30000000", length "0x1000", dma_address "0xfffff000", dma_length "0x1000"}]       |
      | the second entry starts mid-granule | [{phys 0x1000_0000, length 4K}, {phys 0x3000_0100, length 0x200}] | 2 | [{phys "0x10000000", length "0x1000", dma_address "0xffffe000", dma_length "0x1000"}, {phys "0x30000100", length "0x200", dma_address "0xfffff100", dma_length "0x200"}]       |
      | both aligned, the second one short  | [{phys 0x1000_0000, length 4K}, {phys 0x3000_0000, length 0x200}] | 1 | [{phys "0x10000000", length "0x1000", dma_address "0xffffe000", dma_length "0x1200"}, {phys "0x30000000", length "0x200", dma_address "0xffffffffffffffff", dma_length "0x0"}] |

  @I-D5 @iommu-3.4 @iommu-3.8
  Scenario: In a lazy domain the whole list is one flush-queue entry
    Given the kernel calls iommu_add with name lazy mode lazy
    And a device "fq" with iommu lazy dma_mask DMA_BIT_MASK(64)
    When "fq" calls dma_map_sg with sg [{phys 0x1000_0000, length 4K}, {phys 0x2000_0000, length 4K}, {phys 0x3000_0000, length 4K}] dir DMA_TO_DEVICE as s
    And "fq" calls dma_unmap_sg with sg $s dir DMA_TO_DEVICE
    And the kernel calls iommu_info with domain fq
    Then the result has fq_pending 1 leaves 0 iotlb_syncs 0

  @R28 @iommu-3.8 @dma-core-2.4
  Scenario: dma_sync_sg_for_cpu on a non-coherent device invalidates every entry's pages, merged or not
    On arm64 a device that does not snoop needs cache maintenance on the
    physical pages of each entry (iommu_dma_sync_sg_for_cpu walks the
    original list). The CPU pulled a stale line of the first page into its
    cache while the device owned it; only the sync drops it.
    Given a platform with arch arm64 ram [{base 0x0, size 4G}] swiotlb {size 64M} dma_debug false
    And the kernel calls iommu_add with name smmu
    And a device "dsp" with iommu smmu dma_mask DMA_BIT_MASK(64) coherent false
    When the CPU calls cpu_write with phys 0x1000_0000 data {len 4096, fill 0}
    And "dsp" calls dma_map_sg with sg [{phys 0x1000_0000, length 4K}, {phys 0x3000_0000, length 4K}] dir DMA_FROM_DEVICE as s
    Then the result has nents 1
    When the CPU calls cpu_speculate with phys 0x1000_0000 size 4K
    And "dsp" calls device_write with dma_addr $s data {len 4096, seed 9}
    And "dsp" calls device_write with dma_addr $s+0x1000 data {len 4096, seed 10}
    And the CPU calls cpu_read with phys 0x1000_0000 size 4
    Then the result has data 00000000
    When "dsp" calls dma_sync_sg_for_cpu with sg $s dir DMA_FROM_DEVICE
    And the CPU calls cpu_read with phys 0x1000_0000 size 4K
    Then the result has data {len 4096, seed 9}
    When the CPU calls cpu_read with phys 0x3000_0000 size 4K
    Then the result has data {len 4096, seed 10}

  @iommu-3.8 @iommu-6.3 @I-D3
  Scenario: Unmapping the same list twice is a precondition violation: reported, and the IOVA is not freed again
    The second dma_unmap_sg() finds nothing mapped (the page table warns, as
    does WARN_ON(unmapped != size)). The kernel would now free pfn 0xFFFFC a
    second time and the range cache would hold it twice, so two later
    3-page maps would both get 0xFFFF_C000. The model refuses the second free
    (MODEL_IOVA_DOUBLE_FREE); dma-debug, when on, reports the bogus unmap too.
    Given a platform with ram [{base 0x0, size 4G}] swiotlb {size 64M} dma_debug true
    And the kernel calls iommu_add with name smmu
    And a device "nic" with iommu smmu dma_mask DMA_BIT_MASK(64)
    When "nic" calls dma_map_sg with sg [{phys 0x1000_0000, length 4K}, {phys 0x1000_1000, length 4K}, {phys 0x2000_0200, length 0x800}] dir DMA_TO_DEVICE as s
    And "nic" calls dma_unmap_sg with sg $s dir DMA_TO_DEVICE
    Then there are no warnings
    When "nic" calls dma_unmap_sg with sg $s dir DMA_TO_DEVICE
    Then the warnings include WARN_IOMMU_DMA_UNMAP_SHORT, MODEL_IOVA_DOUBLE_FREE, DEBUG_FREE_NOT_ALLOCATED
    And the warning WARN_IOMMU_DMA_UNMAP_SHORT says "unmapped 0x0 of 0x3000 at 0xffffc000"
    When "nic" calls dma_map_sg with sg [{phys 0x3000_0000, length 12K}] dir DMA_TO_DEVICE
    Then the result has nents 1
    And the result has sg [{phys "0x30000000", length "0x3000", dma_address "0xffffc000", dma_length "0x3000"}]
    When "nic" calls dma_map_sg with sg [{phys 0x4000_0000, length 12K}] dir DMA_TO_DEVICE
    Then the result has nents 1
    And the result has sg [{phys "0x40000000", length "0x3000", dma_address "0xffff8000", dma_length "0x3000"}]

  @H22 @R25 @iommu-3.8
  Scenario Outline: <call> when the IOVA space is exhausted: <result>
    A 32-bit device whose 32-bit space is all reserved: iommu_dma_alloc_iova()
    returns 0, iommu_dma_map_sg() restores the list and returns -ENOMEM.
    dma_map_sg() folds every error into 0; dma_map_sgtable() passes -ENOMEM
    on, so the driver can tell "try again later" from a hard error.
    Given the kernel calls iommu_add with name full reserved [{start 0x1000, end 0xFFFF_FFFF}]
    And a device "old" with iommu full dma_mask DMA_BIT_MASK(32)
    When "old" calls <call> with sg [{phys 0x1000_0000, length 4K}] dir DMA_TO_DEVICE
    Then it fails with <result>

    Examples:
      | call            | result  |
      | dma_map_sg      | 0       |
      | dma_map_sgtable | -ENOMEM |
