Feature: IOMMU core: iommu_map, iommu_unmap and their error cases
  iommu_map(domain, iova, paddr, size, prot) either maps the whole range
  and returns 0, or fails having removed everything it added (I-C2):
  __iommu_map() checks that iova, paddr and size are multiples of the
  smallest page size (-EINVAL, with a pr_err "unaligned: ..."), then calls
  the driver's map_pages() per iommu_pgsize() chunk, and on an error
  unmaps the bytes mapped so far. The page table adds its own errors:
  -EEXIST when a leaf is in the way, -EINVAL for a prot with neither
  IOMMU_READ nor IOMMU_WRITE, -ERANGE for an IOVA beyond ias or a paddr
  beyond oas (io-pgtable-arm.c: arm_lpae_map_pages).

  iommu_unmap(domain, iova, size) returns the bytes unmapped from iova
  onward. __iommu_unmap() walks in iommu_pgsize() chunks, using only the
  IOVA's alignment, and stops at the first chunk the page table unmaps
  nothing of: a hole. Because an unmap at a block size clears whatever the
  entry holds, a whole sub-table included, it can remove more than the
  caller mapped there (I-C3).

  The domain is the IOMMU's UNMANAGED domain (the SMMUv3 reference: 4K
  granule, 4K|2M|1G, 48-bit ias and oas). iommu_info counts the page-table
  pages (the pgd included) and the leaf entries.

  Background:
    Given a platform
    And the kernel calls iommu_add with name smmu

  @S4.1 @I-C1 @I-C2 @I-C5 @I-P1 @iommu-4.4
  Scenario: S4.1, 4 MiB at 0x1000 takes three map_pages calls and translates 1:1
    When the kernel calls iommu_map with domain smmu iova 0x1000 paddr 0x1000 size 0x400000 prot [IOMMU_READ, IOMMU_WRITE]
    Then it succeeds
    And the result has pgsizes "511x4K 1x2M 1x4K"
    When the kernel calls iommu_iova_to_phys with domain smmu iova 0x200123
    Then the result has phys 0x200123
    When the kernel calls iommu_iova_to_phys with domain smmu iova 0x0
    Then the result has phys 0
    When the kernel calls iommu_iova_to_phys with domain smmu iova 0x400FFF
    Then the result has phys 0x400FFF
    When the kernel calls iommu_iova_to_phys with domain smmu iova 0x401000
    Then the result has phys 0
    When the kernel calls iommu_info with domain smmu
    Then the result has map_pages 3 leaves 513 pgtables 5

  @S4.2 @I-C2 @iommu-4.4
  Scenario Outline: S4.2, an unaligned <what> is refused with -EINVAL and maps nothing
    When the kernel calls iommu_map with domain smmu iova <iova> paddr <paddr> size <size> prot [IOMMU_READ]
    Then it fails with -EINVAL
    And the warnings are WARN_IOMMU_UNALIGNED_MAP
    When the kernel calls iommu_iova_to_phys with domain smmu iova 0x1000
    Then the result has phys 0
    When the kernel calls iommu_info with domain smmu
    Then the result has map_pages 0 leaves 0 pgtables 1

    Examples:
      | what  | iova   | paddr  | size   |
      | iova  | 0x1800 | 0x1000 | 0x1000 |
      | paddr | 0x1000 | 0x1800 | 0x1000 |
      | size  | 0x1000 | 0x1000 | 0x1800 |

  @S4.3 @I-C3 @iommu-4.5 @iommu-5.5
  Scenario Outline: S4.3, iommu_unmap(<iova>, <size>) after S4.1 unmaps <unmapped> bytes
    (a) the exact range: 4K x 511, 2M x 1, 4K x 1 again.
    (b) from 0: iommu_pgsize picks 4K x 2 at IOVA 0, whose level-3 entry is
        empty; unmap_pages returns 0 at once (WARN_ON(!pte)) and 0x1000
        stays mapped.
    (c) from 0 for 4 MiB: 2M x 2 at IOVA 0. The level-2 entry for
        0-0x1FFFFF is a table: it is dropped whole with its 511 pages, then
        the 2M block goes; the 4K page at 0x400000 stays.
    When the kernel calls iommu_map with domain smmu iova 0x1000 paddr 0x1000 size 0x400000 prot [IOMMU_READ, IOMMU_WRITE]
    And the kernel calls iommu_unmap with domain smmu iova <iova> size <size>
    Then the result has unmapped <unmapped>
    And the warnings are <warnings>
    When the kernel calls iommu_iova_to_phys with domain smmu iova 0x1000
    Then the result has phys <at_1000>
    When the kernel calls iommu_iova_to_phys with domain smmu iova 0x300000
    Then the result has phys <at_300000>
    When the kernel calls iommu_iova_to_phys with domain smmu iova 0x400000
    Then the result has phys <at_400000>
    When the kernel calls iommu_info with domain smmu
    Then the result has leaves <leaves>

    Examples:
      | iova   | size     | unmapped | warnings                  | at_1000 | at_300000 | at_400000 | leaves |
      | 0x1000 | 0x400000 | 0x400000 | none                      | 0       | 0         | 0         | 0      |
      | 0x0    | 0x2000   | 0        | WARN_ARM_LPAE_UNMAP_EMPTY | 0x1000  | 0x300000  | 0x400000  | 513    |
      | 0x0    | 0x400000 | 0x400000 | none                      | 0       | 0         | 0x400000  | 1      |

  @S4.4 @I-C2 @I-P3 @iommu-4.4 @iommu-5.3
  Scenario: S4.4, mapping over an existing page fails with -EEXIST and adds nothing
    iommu_pgsize asks for 4K x 3 from 0x4000; arm_lpae_init_pte() checks
    all three entries before writing any, finds the leaf at 0x5000 and
    returns -EEXIST (with a WARN). The original mapping is untouched.
    When the kernel calls iommu_map with domain smmu iova 0x5000 paddr 0x8000_5000 size 4K prot [IOMMU_READ]
    And the kernel calls iommu_map with domain smmu iova 0x4000 paddr 0x9000_4000 size 0x3000 prot [IOMMU_READ]
    Then it fails with -EEXIST
    And the warnings are WARN_ARM_LPAE_EEXIST
    When the kernel calls iommu_iova_to_phys with domain smmu iova 0x4000
    Then the result has phys 0
    When the kernel calls iommu_iova_to_phys with domain smmu iova 0x5000
    Then the result has phys 0x8000_5000
    When the kernel calls iommu_iova_to_phys with domain smmu iova 0x6000
    Then the result has phys 0
    When the kernel calls iommu_info with domain smmu
    Then the result has leaves 1

  @I-C2 @iommu-4.4
  Scenario: A failure in a later chunk unmaps the chunks already mapped
    A 2M block already sits at 0x200000. The S4.1 mapping maps its first
    chunk (511 pages), then meets the block with its 2M chunk: -EEXIST.
    __iommu_map() unmaps the 0x1FF000 bytes it had mapped; the block stays.
    When the kernel calls iommu_map with domain smmu iova 0x200000 paddr 0x4000_0000 size 2M prot [IOMMU_READ]
    And the kernel calls iommu_map with domain smmu iova 0x1000 paddr 0x1000 size 0x400000 prot [IOMMU_READ, IOMMU_WRITE]
    Then it fails with -EEXIST
    When the kernel calls iommu_iova_to_phys with domain smmu iova 0x1000
    Then the result has phys 0
    When the kernel calls iommu_iova_to_phys with domain smmu iova 0x1FF000
    Then the result has phys 0
    When the kernel calls iommu_iova_to_phys with domain smmu iova 0x200000
    Then the result has phys 0x4000_0000
    When the kernel calls iommu_info with domain smmu
    Then the result has map_pages 3 leaves 1

  @S4.5 @I-C3 @I-P6 @iommu-4.5 @iommu-5.5
  Scenario Outline: S4.5, unmapping 4K out of a 2M block on Linux <linux>: <unmapped> bytes
    6.12 splits the block (arm_lpae_split_blk_unmap): a new level-3 table
    reproduces the other 511 pages with the block's attributes. Since v6.13
    (commit 33729a5fc0ca) the split is gone: the unmap returns 0 with a
    one-time warning and the block stays.
    Given a platform with linux <linux>
    And the kernel calls iommu_add with name smmu
    When the kernel calls iommu_map with domain smmu iova 0x200000 paddr 0x4000_0000 size 2M prot [IOMMU_READ, IOMMU_WRITE]
    And the kernel calls iommu_unmap with domain smmu iova 0x201000 size 0x1000
    Then the result has unmapped <unmapped>
    And the warnings are <warnings>
    When the kernel calls iommu_iova_to_phys with domain smmu iova 0x201234
    Then the result has phys <at_201234>
    When the kernel calls iommu_iova_to_phys with domain smmu iova 0x3FF000
    Then the result has phys 0x401F_F000
    When the kernel calls iommu_info with domain smmu
    Then the result has leaves <leaves> pgtables <pgtables>

    Examples:
      | linux  | unmapped | warnings                    | at_201234   | leaves | pgtables |
      | 6.12   | 0x1000   | none                        | 0           | 511    | 4        |
      | newest | 0        | WARN_ARM_LPAE_PARTIAL_UNMAP | 0x4000_1234 | 1      | 3        |

  @S4.6 @I-C3 @iommu-4.5 @iommu-5.5
  Scenario: S4.6, a 2M unmap over a lone 4K page drops the whole table and reports 2M
    The chosen page size for (0x200000, 0x200000) is 2M; the level-2 entry
    there is a table, and a table under an entry of the unmap's size is
    cleared whole, whatever it maps. The caller mapped 4K and is told 2M.
    When the kernel calls iommu_map with domain smmu iova 0x200000 paddr 0x200000 size 4K prot [IOMMU_READ]
    And the kernel calls iommu_unmap with domain smmu iova 0x200000 size 0x200000
    Then the result has unmapped 0x200000
    When the kernel calls iommu_info with domain smmu
    Then the result has leaves 0 pgtables 3

  @S4.6 @I-C3 @iommu-4.5
  Scenario: S4.6, a 4K unmap of one page leaves its neighbours in the same table
    When the kernel calls iommu_map with domain smmu iova 0x200000 paddr 0x200000 size 4K prot [IOMMU_READ]
    And the kernel calls iommu_map with domain smmu iova 0x3FF000 paddr 0x3FF000 size 4K prot [IOMMU_READ]
    And the kernel calls iommu_unmap with domain smmu iova 0x200000 size 0x1000
    Then the result has unmapped 0x1000
    When the kernel calls iommu_iova_to_phys with domain smmu iova 0x3FF000
    Then the result has phys 0x3FF000
    When the kernel calls iommu_iova_to_phys with domain smmu iova 0x200000
    Then the result has phys 0

  @S4.7 @I-P5 @iommu-4.4 @iommu-5.3
  Scenario Outline: S4.7, prot <prot> has neither IOMMU_READ nor IOMMU_WRITE: -EINVAL from the page table
    arm_lpae_map_pages() refuses it silently, before walking: no table is
    allocated.
    When the kernel calls iommu_map with domain smmu iova 0x1000 paddr 0x1000 size 4K prot <prot>
    Then it fails with -EINVAL
    And there are no warnings
    When the kernel calls iommu_info with domain smmu
    Then the result has pgtables 1 leaves 0

    Examples:
      | prot                          |
      | 0                             |
      | []                            |
      | [IOMMU_CACHE]                 |
      | [IOMMU_NOEXEC, IOMMU_PRIV]    |

  @I-P4 @iommu-4.4 @iommu-5.3
  Scenario Outline: <what> beyond the table's reach is -ERANGE
    With ias and oas 48, IOVAs and physical addresses must be below 2^48.
    The check is a WARN_ON in arm_lpae_map_pages().
    When the kernel calls iommu_map with domain smmu iova <iova> paddr <paddr> size 4K prot [IOMMU_READ]
    Then it fails with -ERANGE
    And the warnings are WARN_ARM_LPAE_ERANGE
    When the kernel calls iommu_info with domain smmu
    Then the result has leaves 0

    Examples:
      | what     | iova               | paddr              |
      | an IOVA  | 0x1_0000_0000_0000 | 0x1000             |
      | a paddr  | 0x1000             | 0x1_0000_0000_0000 |

  @I-C2 @iommu-4.4
  Scenario: A zero-length map succeeds and maps nothing
    When the kernel calls iommu_map with domain smmu iova 0x1000 paddr 0x1000 size 0 prot [IOMMU_READ]
    Then it succeeds
    And the result has pgsizes ""
    When the kernel calls iommu_info with domain smmu
    Then the result has map_pages 0 pgtables 1

  @I-C3 @iommu-4.5
  Scenario: An unmap stops at the first hole and reports how far it got
    Three pages at 0x10000, a hole at 0x13000, a page at 0x14000. One
    unmap_pages call of 4K x 5 clears three entries and stops at the hole
    (WARN_ON(!pte)); the core asks again at 0x13000, gets 0, and stops. The
    page beyond the hole stays mapped.
    When the kernel calls iommu_map with domain smmu iova 0x10000 paddr 0x8001_0000 size 0x3000 prot [IOMMU_READ]
    And the kernel calls iommu_map with domain smmu iova 0x14000 paddr 0x8001_4000 size 0x1000 prot [IOMMU_READ]
    And the kernel calls iommu_unmap with domain smmu iova 0x10000 size 0x5000
    Then the result has unmapped 0x3000
    And the warnings include WARN_ARM_LPAE_UNMAP_EMPTY
    When the kernel calls iommu_iova_to_phys with domain smmu iova 0x14000
    Then the result has phys 0x8001_4000
    When the kernel calls iommu_iova_to_phys with domain smmu iova 0x12000
    Then the result has phys 0

  @I-C3 @iommu-4.5
  Scenario: An unaligned unmap is refused: 0 bytes, with the core's pr_err
    When the kernel calls iommu_map with domain smmu iova 0x1000 paddr 0x1000 size 0x2000 prot [IOMMU_READ]
    And the kernel calls iommu_unmap with domain smmu iova 0x1800 size 0x1000
    Then the result has unmapped 0
    And the warnings are WARN_IOMMU_UNALIGNED_UNMAP
    When the kernel calls iommu_iova_to_phys with domain smmu iova 0x1000
    Then the result has phys 0x1000
