Feature: IOMMU core: how iommu_map chooses page sizes (iommu_pgsize)
  __iommu_map() cuts [iova, iova + size) into map_pages() calls. For each,
  iommu_pgsize() picks:

  1. the page sizes of pgsize_bitmap no larger than the largest power of
     two within the remaining size;
  2. of those, the ones no larger than the alignment iova and paddr share
     (the lowest set bit of iova | paddr);
  3. the largest of them, and as many pages of it as fit - except that,
     when the next larger supported size could be used later (iova and
     paddr sit at the same offset within it) and a whole larger page fits
     after the next boundary, the run stops at that boundary.

  So a mapping starts with small pages up to the first 2M boundary, uses
  blocks in the middle and ends with small pages. A 2M block is impossible
  when iova and paddr differ in their offset within 2M.

  The pgsizes result of iommu_map lists every map_pages() call as
  "<pgcount>x<pgsize>", the count being what iommu_pgsize asked for. The
  LPAE table never maps across the end of one table page in a call
  (arm_lpae_max_entries), so a request for 1024 4K pages maps 512 and the
  core loops for the rest: the next call asks again.

  The domain is the IOMMU's UNMANAGED domain with the SMMUv3 reference
  geometry: 4K granule, pgsize_bitmap 4K|2M|1G, 48-bit input addresses.

  Background:
    Given a platform
    And the kernel calls iommu_add with name smmu

  @I-C2 @I-C5 @iommu-4.3
  Scenario Outline: iommu_map(iova <iova>, paddr <paddr>, size <size>) issues <pgsizes>
    When the kernel calls iommu_map with domain smmu iova <iova> paddr <paddr> size <size> prot [IOMMU_READ, IOMMU_WRITE]
    Then the result has pgsizes "<pgsizes>"
    When the kernel calls iommu_info with domain smmu
    Then the result has map_pages <calls>
    When the kernel calls iommu_iova_to_phys with domain smmu iova <probe>
    Then the result has phys <probe_phys>

    Examples: the worked examples of iommu.md §4.3
      | iova       | paddr      | size       | pgsizes          | calls | probe      | probe_phys  |
      | 0x1000     | 0x1000     | 0x400000   | 511x4K 1x2M 1x4K | 3     | 0x200123   | 0x200123    |
      | 0x40000000 | 0x80000000 | 0x40201000 | 1x1G 1x2M 1x4K   | 3     | 0x80200FFF | 0xC0200FFF  |
      | 0x200000   | 0x201000   | 0x400000   | 1024x4K 512x4K   | 2     | 0x5FF000   | 0x600000    |

    Examples: more shapes
      | iova       | paddr      | size       | pgsizes          | calls | probe      | probe_phys  |
      | 0x0        | 0x0        | 0x200000   | 1x2M             | 1     | 0x1FFFFF   | 0x1FFFFF    |
      | 0x0        | 0x0        | 0x80000000 | 2x1G             | 1     | 0x7FFFFFFF | 0x7FFFFFFF  |
      | 0x0        | 0x0        | 0x201000   | 1x2M 1x4K        | 2     | 0x200000   | 0x200000    |
      | 0x1FF000   | 0x1FF000   | 0x202000   | 1x4K 1x2M 1x4K   | 3     | 0x3FF000   | 0x3FF000    |
      | 0x1000     | 0x3000     | 0x400000   | 1024x4K 513x4K 1x4K | 3  | 0x400FFF   | 0x402FFF    |
      | 0x200000   | 0x10200000 | 0x300000   | 1x2M 256x4K      | 2     | 0x4FF000   | 0x104FF000  |

  @I-C5 @iommu-4.3 @iommu-5.1
  Scenario Outline: With pgsize_bitmap <bitmap>, <size> at 0 is mapped as <pgsizes>
    Without 1G in the bitmap, 2M blocks run to the end of a level-2 table
    (512 entries, 1 GiB) per call; without 2M, 4K pages run to the end of a
    level-3 table (512 entries, 2 MiB) per call.
    Given the kernel calls iommu_add with name other pgsize_bitmap <bitmap>
    When the kernel calls iommu_map with domain other iova 0x0 paddr 0x0 size <size> prot [IOMMU_READ]
    Then the result has pgsizes "<pgsizes>"

    Examples:
      | bitmap     | size | pgsizes        |
      | 0x40201000 | 2G   | 2x1G           |
      | 0x201000   | 2G   | 1024x2M 512x2M |
      | 0x1000     | 4M   | 1024x4K 512x4K |

  @I-C3 @iommu-4.3 @iommu-4.5
  Scenario: Unmap chooses its page sizes from the IOVA alone
    __iommu_unmap() passes the IOVA as the physical address, so the run
    structure follows IOVA alignment only. The mapping of the example above
    with mismatched offsets (1024 4K pages) is unmapped by a single
    unmap_pages call of two 2M pages: it clears two level-2 entries, each a
    table of 512 pages, and drops the tables whole.
    When the kernel calls iommu_map with domain smmu iova 0x200000 paddr 0x201000 size 0x400000 prot [IOMMU_READ]
    And the kernel calls iommu_unmap with domain smmu iova 0x200000 size 0x400000
    Then the result has unmapped 0x400000
    When the kernel calls iommu_iova_to_phys with domain smmu iova 0x3FF000
    Then the result has phys 0
    When the kernel calls iommu_info with domain smmu
    Then the result has leaves 0
