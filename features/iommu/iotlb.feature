Feature: IOMMU core: the IOTLB, the gather, iommu_iotlb_sync and iommu_flush_iotlb_all
  The SMMU caches translations in its IOTLB. Clearing a PTE does not remove
  a cached copy: until an invalidation covers it, the device can keep
  using the old translation. The core therefore collects what an unmap
  cleared in a struct iommu_iotlb_gather and invalidates it afterwards:

  - iommu_unmap() is __iommu_unmap() with a fresh gather, then
    iommu_iotlb_sync(): when it returns, nothing it unmapped translates
    (I-C4);
  - iommu_unmap_fast() only gathers; the caller syncs later (strict
    dma-iommu batches this way) or relies on a flush of the whole context
    (iommu_flush_iotlb_all(), the flush queue's lazy mode). In between,
    stale translations are live;
  - iommu_iotlb_gather_add_page() syncs early when a new page has another
    size or is neither overlapping nor adjacent to the gathered range;
  - tearing down a page-table page is invalidated at once
    (io_pgtable_tlb_flush_walk -> arm_smmu_tlb_inv_walk), because the walk
    caches could otherwise use freed memory.

  New mappings need no invalidation on SMMUv3; drivers whose IOMMU caches
  "not present" entries (VT-d, AMD) have an iotlb_sync_map op, called once
  per iommu_map() or iommu_map_sg().

  The device "gpu" sits in an IOMMU group attached to an UNMANAGED domain
  "vfio", as VFIO would arrange: its DMA translates through the page table
  the iommu_* calls build. iommu_info counts the driver's iotlb_sync and
  flush_iotlb_all calls and the entries the IOTLB holds.

  Background:
    Given a platform
    And the kernel calls iommu_add with name smmu
    And the kernel calls iommu_domain_alloc with name vfio iommu smmu type UNMANAGED
    And a device "gpu" with iommu smmu group vfio dma_mask DMA_BIT_MASK(64)
    And the kernel calls iommu_map with domain vfio iova 0x10_0000 paddr 0x8000_0000 size 4K prot [IOMMU_READ, IOMMU_WRITE]
    And the CPU calls cpu_write with phys 0x8000_0000 data c0ffee11

  @I-C4 @iommu-4.6 @iommu-6.2
  Scenario: After iommu_unmap_fast the device still reaches the page, until iommu_iotlb_sync
    The device's read fills the IOTLB. iommu_unmap_fast clears the PTE
    (iova_to_phys says 0 at once) but the cached translation keeps working;
    iommu_iotlb_sync invalidates the gathered page, and the next access
    faults.
    When "gpu" calls device_read with dma_addr 0x10_0000 size 4
    Then the result has data c0ffee11
    When the kernel calls iommu_info with domain vfio
    Then the result has iotlb_entries 1 iotlb_syncs 0
    When the kernel calls iommu_unmap_fast with domain vfio iova 0x10_0000 size 4K
    Then the result has unmapped 0x1000
    When the kernel calls iommu_iova_to_phys with domain vfio iova 0x10_0000
    Then the result has phys 0
    When "gpu" calls device_read with dma_addr 0x10_0000 size 4
    Then the result has data c0ffee11
    When the kernel calls iommu_iotlb_sync with domain vfio
    And the kernel calls iommu_info with domain vfio
    Then the result has iotlb_entries 0 iotlb_syncs 1
    When "gpu" calls device_read with dma_addr 0x10_0000 size 4
    Then the device faults

  @I-C4 @iommu-4.5 @iommu-4.6
  Scenario: iommu_unmap syncs before it returns
    When "gpu" calls device_read with dma_addr 0x10_0000 size 4
    And the kernel calls iommu_unmap with domain vfio iova 0x10_0000 size 4K
    Then the result has unmapped 0x1000
    When "gpu" calls device_read with dma_addr 0x10_0000 size 4
    Then the device faults
    When the kernel calls iommu_info with domain vfio
    Then the result has iotlb_syncs 1 iotlb_entries 0

  @iommu-4.6 @iommu-5.7
  Scenario: iommu_flush_iotlb_all invalidates the whole context, whatever was gathered
    Three pages read by the device, then unmapped without a sync (as the
    lazy flush queue does); one flush of everything ends all three stale
    translations, without a single iotlb_sync.
    When the kernel calls iommu_map with domain vfio iova 0x10_1000 paddr 0x8000_1000 size 8K prot [IOMMU_READ]
    And "gpu" calls device_read with dma_addr 0x10_0000 size 0x3000
    And the kernel calls iommu_unmap_fast with domain vfio iova 0x10_0000 size 0x3000
    Then the result has unmapped 0x3000
    When "gpu" calls device_read with dma_addr 0x10_2000 size 4
    Then it succeeds
    When the kernel calls iommu_info with domain vfio
    Then the result has iotlb_entries 3
    When the kernel calls iommu_flush_iotlb_all with domain vfio
    And the kernel calls iommu_info with domain vfio
    Then the result has iotlb_entries 0 flush_alls 1 iotlb_syncs 0
    When "gpu" calls device_read with dma_addr 0x10_0000 size 4
    Then the device faults

  @I-C4 @iommu-5.5 @iommu-5.7
  Scenario: A page-table page torn down by an unmap is invalidated at once, before any sync
    The lone 4K page at 0x20_0000 lives in its own level-3 table. A 2M
    unmap there drops the table whole, and __arm_lpae_unmap() flushes the
    walk for its whole range immediately: the stale entry is gone even
    though iommu_unmap_fast never syncs.
    When the kernel calls iommu_map with domain vfio iova 0x20_0000 paddr 0x8000_1000 size 4K prot [IOMMU_READ]
    And "gpu" calls device_read with dma_addr 0x20_0000 size 4
    And the kernel calls iommu_unmap_fast with domain vfio iova 0x20_0000 size 2M
    Then the result has unmapped 0x200000
    When the kernel calls iommu_info with domain vfio
    Then the result has iotlb_syncs 0 iotlb_entries 0
    When "gpu" calls device_read with dma_addr 0x20_0000 size 4
    Then the device faults

  @I-C4 @iommu-4.6
  Scenario Outline: A second unmap_fast of a <relation> page <syncs> early
    iommu_iotlb_gather_add_page() keeps one range per gather: a page that
    would leave a gap forces an iotlb_sync of what was gathered so far,
    which ends the first page's stale translation at once.
    When the kernel calls iommu_map with domain vfio iova <second> paddr 0x8000_1000 size 4K prot [IOMMU_READ]
    And "gpu" calls device_read with dma_addr 0x10_0000 size 4
    And "gpu" calls device_read with dma_addr <second> size 4
    And the kernel calls iommu_unmap_fast with domain vfio iova 0x10_0000 size 4K
    And the kernel calls iommu_unmap_fast with domain vfio iova <second> size 4K
    And the kernel calls iommu_info with domain vfio
    Then the result has iotlb_syncs <early> iotlb_entries <entries>
    When the kernel calls iommu_iotlb_sync with domain vfio
    And the kernel calls iommu_info with domain vfio
    Then the result has iotlb_syncs <total> iotlb_entries 0

    Examples:
      | relation | second    | syncs       | early | entries | total |
      | adjacent | 0x10_1000 | does not sync | 0   | 2       | 1     |
      | distant  | 0x30_0000 | syncs       | 1     | 1       | 2     |

  @iommu-4.6
  Scenario Outline: iommu_iotlb_sync with nothing gathered: Linux <linux> calls the driver <calls> time(s)
    6.12 calls the driver's iotlb_sync unconditionally; 7.2 only when the
    gather holds a range (start < end). The same goes for an iommu_unmap
    that hit a hole and unmapped nothing.
    Given a platform with linux <linux>
    And the kernel calls iommu_add with name smmu
    When the kernel calls iommu_iotlb_sync with domain smmu
    And the kernel calls iommu_info with domain smmu
    Then the result has iotlb_syncs <calls>
    When the kernel calls iommu_map with domain smmu iova 0x10_0000 paddr 0x8000_0000 size 4K prot [IOMMU_READ]
    And the kernel calls iommu_unmap with domain smmu iova 0x10_1000 size 4K
    Then the result has unmapped 0
    When the kernel calls iommu_info with domain smmu
    Then the result has iotlb_syncs <after_hole>

    Examples:
      | linux  | calls | after_hole |
      | 6.12   | 1     | 2          |
      | newest | 0     | 0          |

  @iommu-4.4 @iommu-4.6 @iommu-4.7
  Scenario Outline: iotlb_sync_map runs once per iommu_map or iommu_map_sg on a driver that has it (<has>)
    iommu_map_sg() maps each physically contiguous run with __iommu_map()
    and calls iotlb_sync_map once for the whole range; separate iommu_map
    calls sync each. SMMUv3 has no such op.
    Given the kernel calls iommu_add with name vtd has_iotlb_sync_map <has>
    When the kernel calls iommu_map_sg with domain vtd iova 0x40_0000 sg [{phys 0x8000_0000, length 4K}, {phys 0x8000_1000, length 4K}, {phys 0x9000_0000, length 8K}] prot [IOMMU_READ]
    Then the result has mapped 0x4000
    When the kernel calls iommu_info with domain vtd
    Then the result has sync_maps <after_sg> map_pages 2
    When the kernel calls iommu_map with domain vtd iova 0x50_0000 paddr 0x8000_0000 size 4K prot [IOMMU_READ]
    And the kernel calls iommu_map with domain vtd iova 0x60_0000 paddr 0x8000_0000 size 4K prot [IOMMU_READ]
    And the kernel calls iommu_info with domain vtd
    Then the result has sync_maps <after_maps> map_pages 4

    Examples:
      | has   | after_sg | after_maps |
      | true  | 1        | 3          |
      | false | 0        | 0          |

  @I-C2 @iommu-4.7
  Scenario: iommu_map_sg lays the runs back to back from iova
    Entries 0 and 1 are physically contiguous and form one 8K run; entry 2
    starts a new run right after it in IOVA space.
    Given the kernel calls iommu_add with name vtd has_iotlb_sync_map true
    When the kernel calls iommu_map_sg with domain vtd iova 0x40_0000 sg [{phys 0x8000_0000, length 4K}, {phys 0x8000_1000, length 4K}, {phys 0x9000_0000, length 8K}] prot [IOMMU_READ]
    Then the result has mapped 0x4000
    When the kernel calls iommu_iova_to_phys with domain vtd iova 0x40_1234
    Then the result has phys 0x8000_1234
    When the kernel calls iommu_iova_to_phys with domain vtd iova 0x40_2000
    Then the result has phys 0x9000_0000
    When the kernel calls iommu_iova_to_phys with domain vtd iova 0x40_3FFF
    Then the result has phys 0x9000_1FFF

  @I-C2 @iommu-4.7
  Scenario: A failing run unmaps the runs already mapped, and iotlb_sync_map is not called
    The second run starts at 0x9000_0800, not page-aligned: __iommu_map()
    returns -EINVAL and iommu_map_sg() unmaps the 4K it had mapped.
    Given the kernel calls iommu_add with name vtd has_iotlb_sync_map true
    When the kernel calls iommu_map_sg with domain vtd iova 0x40_0000 sg [{phys 0x8000_0000, length 4K}, {phys 0x9000_0800, length 4K}] prot [IOMMU_READ]
    Then it fails with -EINVAL
    And the warnings include WARN_IOMMU_UNALIGNED_MAP
    When the kernel calls iommu_iova_to_phys with domain vtd iova 0x40_0000
    Then the result has phys 0
    When the kernel calls iommu_info with domain vtd
    Then the result has sync_maps 0 leaves 0
