Feature: ARM LPAE stage-1 page tables (io-pgtable-arm.c)
  SMMUv3 DMA domains use the 64-bit LPAE stage-1 format with a 4K granule:
  every table is one 4 KiB page of 512 eight-byte entries, each level
  resolves 9 IOVA bits, and a 48-bit input address needs four levels
  (level 0: bits 39-47, level 1: 30-38, level 2: 21-29, level 3: 12-20).
  Leaves are 4K pages at level 3, 2M blocks at level 2 and 1G blocks at
  level 1 (arm_lpae_restrict_pgsizes: 4K|2M|1G).

  arm_lpae_map_pages() walks down, allocating missing tables, to the level
  whose block size is the page size, and writes at most the entries left in
  that table. A leaf in the way is -EEXIST; a *table* in the way of a block
  is torn down and freed, whatever it still maps, and replaced by the
  block. Tables are never freed when they become empty: only an unmap at
  their parent's size, or a block replacing them, frees them.

  Unmapping part of a block differs between versions: 6.12 splits the block
  into a next-level table (arm_lpae_split_blk_unmap); since v6.13 the
  unmap returns 0 with a one-time WARN "Unmap of a partial large IOPTE is
  not allowed" and the block stays.

  Permissions (arm_lpae_prot_to_pte): READ without WRITE sets AP[2]
  (read-only); stage 1 has no write-only encoding, so WRITE alone gives a
  PTE the device can read *and* write. The DMA API maps DMA_TO_DEVICE as
  READ, DMA_FROM_DEVICE as WRITE and DMA_BIDIRECTIONAL as READ|WRITE
  (dma_info_to_prot).

  Device "gpu" is in a group attached to the UNMANAGED domain "vfio", so
  its DMA goes through the tables built here; iommu_info counts the live
  table pages (the pgd included) and leaves.

  Background:
    Given a platform
    And the kernel calls iommu_add with name smmu
    And the kernel calls iommu_domain_alloc with name vfio iommu smmu type UNMANAGED
    And a device "gpu" with iommu smmu group vfio dma_mask DMA_BIT_MASK(64)

  @S5.1 @I-P1 @I-P2 @I-P5 @iommu-5.3 @iommu-5.4
  Scenario: S5.1, one read-only 4K page in an empty table builds three tables
    Level-0 entry 0 gets a level-1 table, its entry 0 a level-2 table, and
    that one's entry 0 a level-3 table, whose entry 1 becomes the page.
    The page is read-only and unprivileged: a device read reaches phys
    0x5234, a device write faults.
    When the kernel calls iommu_info with domain vfio
    Then the result has pgtables 1 leaves 0
    When the kernel calls iommu_map with domain vfio iova 0x1000 paddr 0x5000 size 4K prot [IOMMU_READ]
    Then the result has pgsizes "1x4K"
    When the kernel calls iommu_info with domain vfio
    Then the result has pgtables 4 leaves 1
    When the kernel calls iommu_iova_to_phys with domain vfio iova 0x1234
    Then the result has phys 0x5234
    When the CPU calls cpu_write with phys 0x5234 data 0badcafe
    And "gpu" calls device_read with dma_addr 0x1234 size 4
    Then the result has data 0badcafe
    When "gpu" calls device_write with dma_addr 0x1234 data ffffffff
    Then the device faults
    When the CPU calls cpu_read with phys 0x5234 size 4
    Then the result has data 0badcafe

  @S5.2 @I-P1 @I-P2 @iommu-5.3 @iommu-5.6
  Scenario: S5.2, a 2M block is a level-2 leaf
    When the kernel calls iommu_map with domain vfio iova 0x4000_0000 paddr 0x8000_0000 size 2M prot [IOMMU_READ, IOMMU_WRITE]
    Then the result has pgsizes "1x2M"
    When the kernel calls iommu_iova_to_phys with domain vfio iova 0x400F_F00F
    Then the result has phys 0x800F_F00F
    When the kernel calls iommu_info with domain vfio
    Then the result has pgtables 3 leaves 1
    When "gpu" calls device_write with dma_addr 0x401F_FFFC data 12345678
    Then it succeeds
    When the CPU calls cpu_read with phys 0x801F_FFFC size 4
    Then the result has data 12345678

  @S5.3 @I-P3 @iommu-5.3
  Scenario: S5.3, a 4K page inside an existing 2M block is -EEXIST
    The walk for 0x4000_1000 meets a leaf at level 2 where it needs a table.
    When the kernel calls iommu_map with domain vfio iova 0x4000_0000 paddr 0x8000_0000 size 2M prot [IOMMU_READ, IOMMU_WRITE]
    And the kernel calls iommu_map with domain vfio iova 0x4000_1000 paddr 0x1000 size 4K prot [IOMMU_READ]
    Then it fails with -EEXIST
    And the warnings are WARN_ARM_LPAE_EEXIST
    When the kernel calls iommu_iova_to_phys with domain vfio iova 0x4000_1000
    Then the result has phys 0x8000_1000
    When the kernel calls iommu_info with domain vfio
    Then the result has pgtables 3 leaves 1

  @S5.4 @I-P3 @iommu-5.3 @iommu-6.3
  Scenario: S5.4, a 1G block silently replaces the table holding a 2M block
    At level 1 the entry for 0x4000_0000 is a table (it holds S5.2's 2M
    block). arm_lpae_init_pte() unmaps and frees it and installs the 1G
    block: the 2M mapping disappears without an error. The kernel returns
    0; the model flags the lost mapping (iommu.md §6.3). Replacing an
    *empty* table, which tables become after their last page is unmapped,
    is normal and not flagged.
    When the kernel calls iommu_map with domain vfio iova 0x4000_0000 paddr 0x8000_0000 size 2M prot [IOMMU_READ, IOMMU_WRITE]
    And the kernel calls iommu_map with domain vfio iova 0x4000_0000 paddr 0xC000_0000 size 1G prot [IOMMU_READ, IOMMU_WRITE]
    Then it succeeds
    And the warnings are MODEL_OVERLAPPING_MAP
    When the kernel calls iommu_iova_to_phys with domain vfio iova 0x400F_F00F
    Then the result has phys 0xC00F_F00F
    When the kernel calls iommu_info with domain vfio
    Then the result has pgtables 2 leaves 1

  @I-P3 @iommu-5.3
  Scenario: An empty table left behind by unmaps is replaced by a block without complaint
    When the kernel calls iommu_map with domain vfio iova 0x20_0000 paddr 0x20_0000 size 4K prot [IOMMU_READ]
    And the kernel calls iommu_unmap with domain vfio iova 0x20_0000 size 4K
    And the kernel calls iommu_info with domain vfio
    Then the result has pgtables 4 leaves 0
    When the kernel calls iommu_map with domain vfio iova 0x20_0000 paddr 0x4000_0000 size 2M prot [IOMMU_READ]
    Then it succeeds
    And there are no warnings
    When the kernel calls iommu_info with domain vfio
    Then the result has pgtables 3 leaves 1

  @S5.5 @I-P6 @I-C3 @iommu-5.5
  Scenario Outline: S5.5, unmapping 4K from S5.2's block on Linux <linux>
    6.12: the block becomes a level-3 table of 511 pages, the unmapped page
    faults, its neighbours translate as before. Newest: nothing changes.
    Given a platform with linux <linux>
    And the kernel calls iommu_add with name smmu
    And the kernel calls iommu_domain_alloc with name vfio iommu smmu type UNMANAGED
    And a device "gpu" with iommu smmu group vfio dma_mask DMA_BIT_MASK(64)
    When the kernel calls iommu_map with domain vfio iova 0x4000_0000 paddr 0x8000_0000 size 2M prot [IOMMU_READ, IOMMU_WRITE]
    And the kernel calls iommu_unmap with domain vfio iova 0x4000_1000 size 4K
    Then the result has unmapped <unmapped>
    And the warnings are <warnings>
    When the kernel calls iommu_info with domain vfio
    Then the result has leaves <leaves> pgtables <pgtables>
    When the kernel calls iommu_iova_to_phys with domain vfio iova 0x4000_1000
    Then the result has phys <at_1000>
    When the kernel calls iommu_iova_to_phys with domain vfio iova 0x4000_0FFF
    Then the result has phys 0x8000_0FFF
    When the kernel calls iommu_iova_to_phys with domain vfio iova 0x4000_2000
    Then the result has phys 0x8000_2000
    When "gpu" calls device_read with dma_addr 0x4000_1000 size 4
    Then <device>

    Examples:
      | linux  | unmapped | warnings                    | leaves | pgtables | at_1000     | device            |
      | 6.12   | 0x1000   | none                        | 511    | 4        | 0           | the device faults |
      | newest | 0        | WARN_ARM_LPAE_PARTIAL_UNMAP | 1      | 3        | 0x8000_1000 | it succeeds       |

  @I-P6 @iommu-5.5
  Scenario: Newest warns about a partial-block unmap only once
    Given a platform with linux newest
    And the kernel calls iommu_add with name smmu
    When the kernel calls iommu_map with domain smmu iova 0x4000_0000 paddr 0x8000_0000 size 2M prot [IOMMU_READ]
    And the kernel calls iommu_unmap with domain smmu iova 0x4000_1000 size 4K
    Then the result has unmapped 0
    And the warnings are WARN_ARM_LPAE_PARTIAL_UNMAP
    When the kernel calls iommu_unmap with domain smmu iova 0x4000_3000 size 4K
    Then the result has unmapped 0
    And there are no warnings

  @I-P6 @I-P2 @iommu-5.5
  Scenario: 6.12 splits a 1G block twice for a 4K unmap: 511 2M blocks and 511 pages remain
    The 1G block becomes a level-2 table of 512 2M blocks (none removed),
    and the walk continues: the 2M block holding 0x4000_1000 becomes a
    level-3 table of 511 pages.
    Given a platform with linux 6.12
    And the kernel calls iommu_add with name smmu
    When the kernel calls iommu_map with domain smmu iova 0x4000_0000 paddr 0x8000_0000 size 1G prot [IOMMU_READ]
    And the kernel calls iommu_unmap with domain smmu iova 0x4000_1000 size 4K
    Then the result has unmapped 0x1000
    When the kernel calls iommu_info with domain smmu
    Then the result has leaves 1022 pgtables 4
    When the kernel calls iommu_iova_to_phys with domain smmu iova 0x7FFF_FFFF
    Then the result has phys 0xBFFF_FFFF
    When the kernel calls iommu_iova_to_phys with domain smmu iova 0x4000_1FFF
    Then the result has phys 0

  @S5.6 @I-P5 @iommu-5.4
  Scenario: S5.6, a WRITE-only mapping can also be read by the device
    Stage 1 cannot express write-only: without READ the read-only bit is
    simply not set, and the page is readable and writable.
    When the kernel calls iommu_map with domain vfio iova 0x10_0000 paddr 0x8000_0000 size 4K prot [IOMMU_WRITE]
    And the CPU calls cpu_write with phys 0x8000_0010 data a5a5a5a5
    And "gpu" calls device_read with dma_addr 0x10_0010 size 4
    Then the result has data a5a5a5a5
    When "gpu" calls device_write with dma_addr 0x10_0010 data 5a5a5a5a
    Then it succeeds
    When the CPU calls cpu_read with phys 0x8000_0010 size 4
    Then the result has data 5a5a5a5a

  @S5.1 @S5.6 @I-P5 @iommu-5.4 @iommu-3.2
  Scenario Outline: A <dir> mapping through the DMA API: device reads <read>, device writes <write>
    A device behind an IOMMU in strict mode uses its DMA domain; dma-iommu
    turns the direction into IOMMU_READ / IOMMU_WRITE (dma_info_to_prot).
    Given a platform
    And the kernel calls iommu_add with name smmu mode strict
    And a device "nic" with iommu smmu dma_mask DMA_BIT_MASK(64)
    When "nic" calls dma_map_phys with phys 0x8000_0000 size 4K dir <dir> as buf
    Then it succeeds
    When "nic" calls device_read with dma_addr $buf size 4
    Then <read_check>
    When "nic" calls device_write with dma_addr $buf data 01020304
    Then <write_check>

    Examples:
      | dir               | read    | write   | read_check  | write_check       |
      | DMA_TO_DEVICE     | succeed | fault   | it succeeds | the device faults |
      | DMA_FROM_DEVICE   | succeed | succeed | it succeeds | it succeeds       |
      | DMA_BIDIRECTIONAL | succeed | succeed | it succeeds | it succeeds       |

  @I-P4 @iommu-5.1
  Scenario Outline: ias <ias> gives <levels> levels; IOVAs from <first_bad> are -ERANGE
    The start level is 4 - ceil((ias - 12) / 9); with ias 32 the top table
    has only 4 entries. The pgd counts as one table page.
    Given the kernel calls iommu_add with name small ias <ias>
    When the kernel calls iommu_map with domain small iova <last_page> paddr 0x1000 size 4K prot [IOMMU_READ]
    Then it succeeds
    When the kernel calls iommu_info with domain small
    Then the result has pgtables <levels>
    When the kernel calls iommu_map with domain small iova <first_bad> paddr 0x1000 size 4K prot [IOMMU_READ]
    Then it fails with -ERANGE
    And the warnings are WARN_ARM_LPAE_ERANGE

    Examples:
      | ias | levels | last_page            | first_bad          |
      | 48  | 4      | 0xFFFF_FFFF_F000     | 0x1_0000_0000_0000 |
      | 39  | 3      | 0x7F_FFFF_F000       | 0x80_0000_0000     |
      | 32  | 3      | 0xFFFF_F000          | 0x1_0000_0000      |

  @I-P4 @iommu-5.3
  Scenario: With oas 40, output addresses from 2^40 are -ERANGE
    Given the kernel calls iommu_add with name small oas 40
    When the kernel calls iommu_map with domain small iova 0x1000 paddr 0xFF_FFFF_F000 size 4K prot [IOMMU_READ]
    Then it succeeds
    When the kernel calls iommu_map with domain small iova 0x2000 paddr 0x100_0000_0000 size 4K prot [IOMMU_READ]
    Then it fails with -ERANGE
