Feature: dma_alloc_coherent through an IOMMU: pages from anywhere, an IOVA under the coherent mask
  For a device with a DMA or DMA_FQ domain, dma_alloc_coherent() ends in
  iommu_dma_alloc() (drivers/iommu/dma-iommu.c, iommu.md §3.10). The pages
  can come from anywhere in RAM - the IOMMU will translate - and are zeroed
  (__GFP_ZERO / memset); the IOVA is allocated under dev->coherent_dma_mask,
  not the streaming mask, with the same 32-bit-first policy, and mapped
  READ|WRITE (+CACHE for a coherent device). dma_free_coherent() unmaps it with
  __iommu_dma_unmap(), strictly or through the flush queue like any unmap.

  Blocking callers get iommu_dma_alloc_remap() (scattered pages, one IOVA,
  iommu_map_sg); atomic or DMA_ATTR_FORCE_CONTIGUOUS callers get one
  contiguous buffer. The model always takes the contiguous path; the IOVA is
  the same either way.

  Background:
    Given a platform with ram [{base 0x0, size 4G}, {base 0x1_0000_0000, size 4G}] swiotlb {size 64M} dma_debug false
    And the kernel calls iommu_add with name smmu

  @I-D1 @I-D8 @MASK-RESPECTED @iommu-3.10
  Scenario Outline: coherent_dma_mask <cmask>, streaming mask <smask>: a 12 KiB allocation gets IOVA <iova>
    3 pages are allocated as 4, 4-aligned, from the top of the 32-bit space
    first. The buffer's own pages lie above 4 GiB: only the IOVA must fit
    the mask.
    Given a device "nic" with iommu smmu dma_mask <smask> coherent_dma_mask <cmask>
    When "nic" calls dma_alloc_coherent with size 12K as c
    Then the result has dma_addr <iova>
    And the result's cpu_addr is above 0xFFFF_FFFF
    And there are no warnings

    Examples:
      | cmask            | smask            | iova        |
      | DMA_BIT_MASK(32) | DMA_BIT_MASK(64) | 0xFFFF_C000 |
      | DMA_BIT_MASK(64) | DMA_BIT_MASK(32) | 0xFFFF_C000 |
      | DMA_BIT_MASK(64) | DMA_BIT_MASK(64) | 0xFFFF_C000 |
      | DMA_BIT_MASK(28) | DMA_BIT_MASK(64) | 0xFFF_C000  |

  @I-D8 @I-D9 @iommu-3.3 @iommu-3.10
  Scenario: The coherent mask decides whether the 48-bit fallback applies
    With the 32-bit space reserved, a 64-bit coherent mask falls back to
    IOVAs below 2^48 (with the notice), while a 32-bit coherent mask has no
    fallback: the allocation fails and dma_alloc_coherent() returns NULL.
    Given the kernel calls iommu_add with name full reserved [{start 0x1000, end 0xFFFF_FFFF}]
    And a device "wide" with iommu full dma_mask DMA_BIT_MASK(64) coherent_dma_mask DMA_BIT_MASK(64)
    And a device "narrow" with iommu full dma_mask DMA_BIT_MASK(64) coherent_dma_mask DMA_BIT_MASK(32)
    When "wide" calls dma_alloc_coherent with size 4K
    Then the result has dma_addr 0xFFFF_FFFF_F000
    And the warnings are NOTICE_USING_64BIT_DMA
    When "narrow" calls dma_alloc_coherent with size 4K
    Then it fails with NULL

  @I-D1 @COHERENT-DATA-TO-DEVICE @iommu-3.10
  Scenario: The memory is zeroed, even when the pages held other data before
    The first allocation is filled with 0xEE and freed; the second gets the
    same pages back and both the CPU and the device read zeros.
    Given a device "nic" with iommu smmu dma_mask DMA_BIT_MASK(64) coherent_dma_mask DMA_BIT_MASK(32)
    When "nic" calls dma_alloc_coherent with size 12K as c
    And the CPU calls cpu_write with phys $c.cpu_addr data {len 12288, fill 0xEE}
    And "nic" calls dma_free_coherent with size 12K cpu_addr $c.cpu_addr dma_addr $c
    And "nic" calls dma_alloc_coherent with size 12K as d
    Then the result's cpu_addr is $c.cpu_addr
    When "nic" calls device_read with dma_addr $d size 12K
    Then the result has data {len 12288, fill 0}
    When the CPU calls cpu_read with phys $d.cpu_addr size 12K
    Then the result has data {len 12288, fill 0}

  @I-D1 @I-D11 @COHERENT-DATA-TO-DEVICE @COHERENT-DATA-FROM-DEVICE @iommu-3.10
  Scenario Outline: A <kind> device and the CPU see each other's writes without any sync
    Coherent memory needs no ownership hand-over: on a non-coherent arm64
    device the buffer is remapped uncached, so neither side's data sits in a
    cache the other cannot see. Only the 3 pages of the buffer are mapped:
    the 4th granule of the allocation faults.
    Given a platform with arch <arch> ram [{base 0x0, size 4G}, {base 0x1_0000_0000, size 4G}] dma_debug false
    And the kernel calls iommu_add with name smmu
    And a device "dev" with iommu smmu dma_mask DMA_BIT_MASK(64) coherent <coherent>
    When "dev" calls dma_alloc_coherent with size 12K as c
    And the CPU calls cpu_write with phys $c.cpu_addr+0x2000 data {len 64, seed 21}
    And "dev" calls device_read with dma_addr $c+0x2000 size 64
    Then the result has data {len 64, seed 21}
    When "dev" calls device_write with dma_addr $c data {len 64, seed 22}
    And the CPU calls cpu_read with phys $c.cpu_addr size 64
    Then the result has data {len 64, seed 22}
    When "dev" calls device_read with dma_addr $c+0x3000 size 4
    Then the device faults

    Examples:
      | kind         | arch   | coherent |
      | coherent     | x86_64 | true     |
      | non-coherent | arm64  | false    |

  @I-D4 @I-D5 @iommu-3.4 @iommu-3.10
  Scenario Outline: dma_free_coherent in a <mode> domain: <what>
    Given the kernel calls iommu_add with name mmu mode <mode>
    And a device "dev" with iommu mmu dma_mask DMA_BIT_MASK(64)
    When "dev" calls dma_alloc_coherent with size 4K as c
    And "dev" calls device_read with dma_addr $c size 4
    And "dev" calls dma_free_coherent with size 4K cpu_addr $c.cpu_addr dma_addr $c
    And the kernel calls iommu_info with domain dev
    Then the result has leaves 0 iotlb_syncs <syncs> fq_pending <pending>
    When "dev" calls device_read with dma_addr $c size 4
    Then <access>

    Examples:
      | mode   | what                                                  | syncs | pending | access            |
      | strict | unmapped and invalidated at once                      | 1     | 0       | the device faults |
      | lazy   | unmapped, the IOVA queued, the stale entry still live | 0     | 1       | it succeeds       |

  @R5 @I-A8 @fuzz
  Scenario: dma_pool blocks come from coherent pages mapped through the IOMMU (a fuzz finding)
    The first campaign found the checker losing track of the IOVA a pool's
    backing page takes: dma_pool_alloc calls dma_alloc_coherent itself, so
    no op names that allocation.
    Given a platform
    And the kernel calls iommu_add with name iommu1
    And a device "d2" with iommu iommu1
    When "d2" calls dma_pool_create with name pool0 size 1
    And the kernel calls dma_pool_alloc with pool pool0 as b
    Then the result has dma_addr 0xFFFFF000
    When "d2" calls device_write with dma_addr $b data 5a
    Then it succeeds
