Feature: dma-iommu single mappings: granules, kept offsets, rounding and padding
  When a device sits behind an IOMMU with a DMA (or DMA_FQ) default domain,
  dma_map_page()/dma_map_phys() go to iommu_dma_map_page() (6.12; newest:
  iommu_dma_map_phys()). The mapping itself is __iommu_dma_map():

    off  = phys & (G - 1)                  G = the IOVA granule, the smallest
    size = iova_align(size + off)              page size of the IOMMU (4 KiB here)
    iova = iommu_dma_alloc_iova(size, dma_get_mask(dev))
    iommu_map(iova, phys - off, size, prot)
    return iova + off

  so the handle keeps the buffer's offset within its granule (I-D2) and the
  whole granules around the buffer are mapped (I-D1). The IOVA allocator
  (alloc_iova_fast) rounds every request below 32 granules up to a power of
  two and aligns it to that size, but only the granules the buffer covers are
  mapped: the rest of the allocation is IOVA nobody can reach (I-D11).

  prot comes from dma_info_to_prot(): READ for DMA_TO_DEVICE, WRITE for
  DMA_FROM_DEVICE, both for DMA_BIDIRECTIONAL, plus IOMMU_CACHE for a coherent
  device. An ARM LPAE stage-1 table cannot say "write-only", so a
  DMA_FROM_DEVICE mapping is readable by the device too.

  In a strict (DMA) domain, iommu_dma_unmap_page() clears the PTEs, syncs the
  IOTLB, and only then frees the IOVA into the per-CPU range cache, where the
  next map of the same size class finds it (I-D4).

  The machine is the REF configuration of iommu.md §1.1: an SMMUv3-like IOMMU
  (4K|2M|1G pages, 48-bit input addresses), one CPU, a trusted coherent PCI
  device with 64-bit masks. dma-debug is off here; debug.feature shows it on
  this path.

  Background:
    Given a platform with ram [{base 0x0, size 4G}, {base 0x1_0000_0000, size 4G}] swiotlb {size 64M} dma_debug false
    And the kernel calls iommu_add with name smmu mode strict
    And a device "nic" with iommu smmu dma_mask DMA_BIT_MASK(64) coherent_dma_mask DMA_BIT_MASK(64)

  @S3.1 @I-D1 @I-D4 @I-D8 @iommu-3.5 @iommu-3.6
  Scenario: One page, strict: mapped at the top of the 32-bit space, unmapped completely, reused at once
    The first IOVA of a fresh domain is the highest free granule below 4 GiB
    (32-bit first, iova-policy.feature). After the unmap the page table and
    the IOTLB hold nothing for it, and pfn 0xFFFFF sits in bucket 0 of the
    range cache, so the same map gets the same handle back from the cache.
    When the CPU calls cpu_write with phys 0x8000_0000 data {len 4096, seed 1}
    And "nic" calls dma_map_page with phys 0x8000_0000 size 4K dir DMA_TO_DEVICE as buf
    Then the result has dma_addr 0xFFFF_F000
    And there are no warnings
    When the kernel calls iommu_iova_to_phys with domain nic iova 0xFFFF_F000
    Then the result has phys 0x8000_0000
    When "nic" calls device_read with dma_addr $buf size 4K
    Then the result has data {len 4096, seed 1}
    When "nic" calls dma_unmap_page with dma_addr $buf size 4K dir DMA_TO_DEVICE
    Then there are no warnings
    When the kernel calls iommu_iova_to_phys with domain nic iova 0xFFFF_F000
    Then the result has phys 0
    When "nic" calls device_read with dma_addr 0xFFFF_F000 size 4
    Then the device faults
    When the kernel calls iommu_info with domain nic
    Then the result has type DMA iotlb_entries 0 fq_pending 0
    When "nic" calls dma_map_page with phys 0x8000_0000 size 4K dir DMA_TO_DEVICE
    Then the result has dma_addr 0xFFFF_F000
    When the kernel calls iova_info with domain nic
    Then the result has rcache_hits 1 rcache_misses 1

  @S3.2 @I-D1 @I-D2 @iommu-3.5
  Scenario: The offset within the granule is kept, and a buffer straddling two granules maps both
    phys 0x8000_0100 + 0x1000 bytes touches two granules: the aligned size is
    0x2000, allocated 2-aligned at 0xFFFF_E000, and the handle is that plus
    the offset 0x100. The device sees the buffer's bytes at the handle.
    When the CPU calls cpu_write with phys 0x8000_0100 data {len 4096, seed 2}
    And "nic" calls dma_map_page with phys 0x8000_0100 size 0x1000 dir DMA_TO_DEVICE as buf
    Then the result has dma_addr 0xFFFF_E100
    When the kernel calls iommu_iova_to_phys with domain nic iova 0xFFFF_E000
    Then the result has phys 0x8000_0000
    When the kernel calls iommu_iova_to_phys with domain nic iova 0xFFFF_F000
    Then the result has phys 0x8000_1000
    When "nic" calls device_read with dma_addr $buf size 0x1000
    Then the result has data {len 4096, seed 2}

  @I-D2 @I-D8 @iommu-3.5 @iova-2.10
  Scenario Outline: phys <phys>, <size> bytes: <granules> granule(s), <alloc> allocated, handle <handle>
    The low 12 bits of the handle are always those of phys. The allocation
    is the granule count rounded up to a power of two and aligned to it, taken
    top-down below 4 GiB.
    When "nic" calls dma_map_page with phys <phys> size <size> dir DMA_BIDIRECTIONAL
    Then the result has dma_addr <handle>
    And the result's dma_addr & 0xFFF is <low>
    When the kernel calls iommu_info with domain nic
    Then the result has leaves <granules>

    Examples:
      | phys        | size    | granules | alloc | handle      | low   |
      | 0x8000_0000 | 0x1000  | 1        | 1     | 0xFFFF_F000 | 0     |
      | 0x8000_0800 | 0x800   | 1        | 1     | 0xFFFF_F800 | 0x800 |
      | 0x8000_0FFF | 2       | 2        | 2     | 0xFFFF_EFFF | 0xFFF |
      | 0x8000_0100 | 0x2000  | 3        | 4     | 0xFFFF_C100 | 0x100 |
      | 0x8000_0000 | 0x5000  | 5        | 8     | 0xFFFF_8000 | 0     |
      | 0x8000_0004 | 0x1F000 | 32       | 32    | 0xFFFE_0004 | 0x4   |

  @S3.3 @I-D1 @I-D11 @iommu-3.5 @iova-2.10
  Scenario: Rounding leaves allocated IOVA unmapped: the device faults past the buffer's last granule
    Five pages are allocated as eight, 8-aligned: 0xFFFF_8000. Only the five
    granules of the buffer translate; 0xFFFF_D000-0xFFFF_FFFF belong to the
    allocation but have no PTE, so a device running off the end faults
    instead of reaching memory.
    When the CPU calls cpu_write with phys 0x9000_4000 data {len 4096, seed 3}
    And "nic" calls dma_map_page with phys 0x9000_0000 size 0x5000 dir DMA_TO_DEVICE as buf
    Then the result has dma_addr 0xFFFF_8000
    When "nic" calls device_read with dma_addr $buf+0x4000 size 4K
    Then the result has data {len 4096, seed 3}
    When "nic" calls device_read with dma_addr $buf+0x5000 size 4
    Then the device faults
    When "nic" calls device_read with dma_addr 0xFFFF_FFFC size 4
    Then the device faults
    When the kernel calls iommu_iova_to_phys with domain nic iova 0xFFFF_D000
    Then the result has phys 0
    When the kernel calls iommu_info with domain nic
    Then the result has leaves 5

  @S3.3 @I-D3 @G-3 @iommu-3.4 @iova-2.10
  Scenario Outline: The unmapped 5-page IOVA goes to bucket 3 (8 pages): a <pages>-page map <reuse>
    iommu_dma_free_iova() frees pfn 0xFFFF8 with size 5; free_iova_fast()
    files it under order_base_2(5) = 3. Any later request that rounds to 8
    pages is served from there; a 4-page request (bucket 2) is not.
    When "nic" calls dma_map_page with phys 0x9000_0000 size 0x5000 dir DMA_TO_DEVICE as buf
    And "nic" calls dma_unmap_page with dma_addr $buf size 0x5000 dir DMA_TO_DEVICE
    Then there are no warnings
    When "nic" calls dma_map_page with phys 0xA000_0000 size <size> dir DMA_TO_DEVICE
    Then the result has dma_addr <handle>
    When the kernel calls iova_info with domain nic
    Then the result has rcache_hits <hits>

    Examples:
      | pages | size   | reuse                            | handle      | hits |
      | 5     | 0x5000 | gets 0xFFFF_8000 from the cache  | 0xFFFF_8000 | 1    |
      | 8     | 0x8000 | gets 0xFFFF_8000 from the cache  | 0xFFFF_8000 | 1    |
      | 7     | 0x7000 | gets 0xFFFF_8000 from the cache  | 0xFFFF_8000 | 1    |
      | 4     | 0x4000 | misses and is allocated below it | 0xFFFF_4000 | 0    |

  @I-D1 @iommu-3.2 @io-pgtable-5.4
  Scenario Outline: <dir> gives the device <access>
    Stage-1 LPAE has a read-only bit but no write-only encoding, so WRITE
    without READ still lets the device read.
    When "nic" calls dma_map_page with phys 0x8000_0000 size 4K dir <dir> as buf
    And "nic" calls device_read with dma_addr $buf size 4
    Then <read>
    When "nic" calls device_write with dma_addr $buf data 5a5a5a5a
    Then <write>

    Examples:
      | dir               | access                            | read        | write             |
      | DMA_TO_DEVICE     | read-only access                  | it succeeds | the device faults |
      | DMA_FROM_DEVICE   | read and write access (no W-only) | it succeeds | it succeeds       |
      | DMA_BIDIRECTIONAL | read and write access             | it succeeds | it succeeds       |

  @I-D1 @iommu-3.6
  Scenario: Padding exposure: a trusted device reaches every byte of the granules around its buffer
    A 0x200-byte buffer in the middle of a page is mapped as a whole page.
    Without bouncing (the device is trusted) the device can read the 0x100
    bytes before it and the 0xD00 bytes after it - whatever else the kernel
    keeps in that page - with the mapping's permissions.
    When the CPU calls cpu_write with phys 0x8000_0000 data {len 256, fill 0xEE}
    And the CPU calls cpu_write with phys 0x8000_0100 data {len 512, seed 4}
    And the CPU calls cpu_write with phys 0x8000_0300 data {len 3328, fill 0xDD}
    And "nic" calls dma_map_page with phys 0x8000_0100 size 0x200 dir DMA_TO_DEVICE as buf
    Then the result has dma_addr 0xFFFF_F100
    When "nic" calls device_read with dma_addr $buf size 0x200
    Then the result has data {len 512, seed 4}
    When "nic" calls device_read with dma_addr $buf-0x100 size 0x100
    Then the result has data {len 256, fill 0xEE}
    When "nic" calls device_read with dma_addr $buf+0x200 size 0xD00
    Then the result has data {len 3328, fill 0xDD}

  @I-D1 @iommu-3.6
  Scenario: With a bidirectional mapping the device can also overwrite its neighbours in the granule
    The kernel's neighbour at 0x8000_0300 is not part of the mapping, but it
    shares the granule: a device write lands in it.
    When the CPU calls cpu_write with phys 0x8000_0300 data {len 16, fill 0x11}
    And "nic" calls dma_map_page with phys 0x8000_0100 size 0x200 dir DMA_BIDIRECTIONAL as buf
    And "nic" calls device_write with dma_addr $buf+0x200 data {len 16, fill 0x99}
    Then it succeeds
    When the CPU calls cpu_read with phys 0x8000_0300 size 16
    Then the result has data {len 16, fill 0x99}

  @I-D1 @I-D3 @iommu-3.5
  Scenario: Two buffers in the same page get two IOVAs, each mapping the whole page
    dma-iommu does not share granules between mappings: each map allocates
    its own IOVA, so the same physical page is mapped twice.
    When "nic" calls dma_map_page with phys 0x8000_0000 size 0x800 dir DMA_TO_DEVICE as a
    Then the result has dma_addr 0xFFFF_F000
    When "nic" calls dma_map_page with phys 0x8000_0800 size 0x800 dir DMA_TO_DEVICE as b
    Then the result has dma_addr 0xFFFF_E800
    When the kernel calls iommu_iova_to_phys with domain nic iova 0xFFFF_E000
    Then the result has phys 0x8000_0000
    When "nic" calls dma_unmap_page with dma_addr $a size 0x800 dir DMA_TO_DEVICE
    And "nic" calls device_read with dma_addr $b size 4
    Then it succeeds

  @R38 @H18 @I-D3 @iommu-3.7 @iommu-6.3
  Scenario: Unmapping a handle twice: the second unmap finds no translation, warns, and does nothing
    iommu_dma_unmap_page() looks the handle up first; iommu_iova_to_phys()
    returns 0, so WARN_ON(!phys) fires and the function returns before
    touching the page table or the allocator. The IOVA is not freed twice.
    When "nic" calls dma_map_page with phys 0x8000_0000 size 4K dir DMA_TO_DEVICE as buf
    And "nic" calls dma_unmap_page with dma_addr $buf size 4K dir DMA_TO_DEVICE
    Then there are no warnings
    When "nic" calls dma_unmap_page with dma_addr $buf size 4K dir DMA_TO_DEVICE
    Then the warnings are WARN_IOMMU_DMA_UNMAP_UNMAPPED
    When "nic" calls dma_map_page with phys 0x8000_0000 size 4K dir DMA_TO_DEVICE
    Then the result has dma_addr 0xFFFF_F000
    When "nic" calls dma_map_page with phys 0x8000_0000 size 4K dir DMA_TO_DEVICE
    Then the result has dma_addr 0xFFFF_E000

  @I-D3 @iommu-4.1
  Scenario: Devices in one IOMMU group share one domain: one IOVA space, and no isolation between them
    The default domain belongs to the group, so the two functions allocate
    from one IOVA allocator and each can reach what the other mapped.
    Isolation is per group, not per device.
    Given a device "fn0" with iommu smmu dma_mask DMA_BIT_MASK(64) group card
    And a device "fn1" with iommu smmu dma_mask DMA_BIT_MASK(64) group card
    When the CPU calls cpu_write with phys 0x8000_0000 data 0f0f0f0f
    And "fn0" calls dma_map_page with phys 0x8000_0000 size 4K dir DMA_TO_DEVICE as a
    Then the result has dma_addr 0xFFFF_F000
    When "fn1" calls dma_map_page with phys 0x9000_0000 size 4K dir DMA_TO_DEVICE
    Then the result has dma_addr 0xFFFF_E000
    When "fn1" calls device_read with dma_addr $a size 4
    Then the result has data 0f0f0f0f
    When "nic" calls device_read with dma_addr $a size 4
    Then the device faults
