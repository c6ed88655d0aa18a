Feature: The IOVA-based API, one-shot: dma_iova_try_alloc, dma_iova_link × N, dma_iova_sync, dma_iova_destroy
  Linux 6.16 split a streaming mapping into steps a driver controls
  (drivers/iommu/dma-iommu.c, Documentation/core-api/dma-api.rst Part Ie;
  iommu.md §3.11). The one-shot pattern, for an I/O made of many pieces that
  is torn down as a whole (a block request, an RDMA MR):

    dma_iova_try_alloc(dev, &state, phys, size)   reserve align_up(size + pad(phys), G)
                                                  of IOVA; state.addr = base + pad(phys)
    dma_iova_link(dev, &state, phys_i, off_i, len_i, dir, attrs)   × N: page tables only
                                                  (iommu_map_nosync), no iotlb_sync_map
    dma_iova_sync(dev, &state, 0, size)           one iotlb_sync_map for the whole range
    ... the device uses state.addr ...
    dma_iova_destroy(dev, &state, mapped_len, dir, attrs)
                                                  unlink [0, mapped_len) and free the IOVA

  pad(x) = x mod G; G is the IOMMU granule, 4 KiB here. try_alloc uses phys
  only for its offset in the granule (callers with page-aligned I/O pass 0)
  and allocates through iommu_dma_alloc_iova(): 32-bit first, range caches,
  power-of-two rounding below 32 granules, exactly as a streaming map
  (iova-policy.feature). The device sees one contiguous IOVA range however
  scattered the pieces are in physical memory.

  dma_use_iova(state) is __size != 0: only a successful try_alloc makes it
  true, and neither destroy nor free clears it. dma_iova_size(state) is the
  size given to try_alloc, with bit 63 (DMA_IOVA_USE_SWIOTLB) masked off
  (I-D12).

  The destroy quirk (iommu.md §3.11): the size handed to the free is
  align_up(mapped_len + pad, G), not the allocated size. A destroy of a range
  that was only partly linked files the pfn in the range cache under a
  smaller size class; the tree node keeps its full size, so nothing overlaps,
  but the rest of the node is lost until the cache is flushed.

  The machine is REF (iommu.md §1.1): an SMMUv3-like IOMMU with a strict DMA
  domain, one CPU, a trusted coherent PCI device with 64-bit masks.

  Background:
    Given a platform with ram [{base 0x0, size 4G}, {base 0x1_0000_0000, size 4G}] swiotlb {size 64M} dma_debug false
    And the kernel calls iommu_add with name smmu mode strict
    And a device "nic" with iommu smmu dma_mask DMA_BIT_MASK(64) coherent_dma_mask DMA_BIT_MASK(64)

  @S3.12 @I-D1 @I-D4 @I-D12 @U1 @iommu-3.11
  Scenario: S3.12: try_alloc(0x1234_5200, 0x3000), one link, sync, destroy frees pfn 0xFFFFC with size 4
    The 0x3000 bytes start 0x200 into a granule, so 0x3200 bytes of granules
    are needed: 4 pages, and alloc_iova_fast() places them at 0xFFFF_C000.
    state.addr keeps the offset. The link maps all four granules in place;
    the sync is a no-op on SMMUv3 (no iotlb_sync_map) and returns 0. destroy
    unmaps 0x4000 bytes, syncs the IOTLB once (strict) and frees pfn 0xFFFFC
    with size 4 into the range cache.
    When the CPU calls cpu_write with phys 0x1234_5200 data {len 12288, seed 31}
    And "nic" calls dma_iova_try_alloc with state st phys 0x1234_5200 size 0x3000
    Then the result has value true addr 0xFFFF_C200
    When the kernel calls dma_use_iova with state st
    Then the result has value true
    When the kernel calls dma_iova_size with state st
    Then the result has size 0x3000 use_swiotlb false
    When "nic" calls dma_iova_link with state st phys 0x1234_5200 offset 0 size 0x3000 dir DMA_TO_DEVICE
    Then it succeeds
    And there are no warnings
    When the kernel calls iommu_iova_to_phys with domain nic iova 0xFFFF_C000
    Then the result has phys 0x1234_5000
    When the kernel calls iommu_iova_to_phys with domain nic iova 0xFFFF_FFFF
    Then the result has phys 0x1234_8FFF
    When "nic" calls dma_iova_sync with state st offset 0 size 0x3000
    Then it succeeds
    When the kernel calls iommu_info with domain nic
    Then the result has leaves 4 map_pages 1 sync_maps 0 iotlb_syncs 0
    When "nic" calls device_read with dma_addr $st size 0x3000
    Then the result has data {len 12288, seed 31}
    When "nic" calls dma_iova_destroy with state st mapped_len 0x3000 dir DMA_TO_DEVICE
    Then it succeeds
    And there are no warnings
    When the kernel calls iommu_info with domain nic
    Then the result has leaves 0 iotlb_syncs 1 iotlb_entries 0 fq_pending 0
    When "nic" calls device_read with dma_addr 0xFFFF_C200 size 4
    Then the device faults
    When the kernel calls find_iova with domain nic pfn 0xFFFFC
    Then the result has pfn_lo 0xFFFFC pfn_hi 0xFFFFF
    When the kernel calls dma_use_iova with state st
    Then the result has value true

  @S3.12 @I-D4 @I-D12 @U1 @iommu-3.11 @iommu-2.10
  Scenario: S3.12, reuse: the destroyed range is in the 4-page range cache, so the same try_alloc gets 0xFFFF_C200 again
    The first try_alloc missed the cache (rcache_misses 1) and took the IOVA
    from the tree. After destroy, pfn 0xFFFFC sits in the size-4 bucket: the
    next try_alloc of the same shape is a cache hit, and a streaming map of
    4 pages would have been too.
    When "nic" calls dma_iova_try_alloc with state st phys 0x1234_5200 size 0x3000
    And "nic" calls dma_iova_link with state st phys 0x1234_5200 offset 0 size 0x3000 dir DMA_TO_DEVICE
    And "nic" calls dma_iova_sync with state st offset 0 size 0x3000
    And "nic" calls dma_iova_destroy with state st mapped_len 0x3000 dir DMA_TO_DEVICE
    And the kernel calls iova_info with domain nic
    Then the result has rcache_hits 0 rcache_misses 1
    When "nic" calls dma_iova_try_alloc with state st2 phys 0x5555_5200 size 0x3000
    Then the result has value true addr 0xFFFF_C200
    When the kernel calls iova_info with domain nic
    Then the result has rcache_hits 1 rcache_misses 1
    When "nic" calls dma_iova_link with state st2 phys 0x5555_5200 offset 0 size 0x3000 dir DMA_TO_DEVICE
    And the kernel calls iommu_iova_to_phys with domain nic iova 0xFFFF_C200
    Then the result has phys 0x5555_5200

  @S3.13 @I-D1 @I-D3 @I-D11 @U1 @iommu-3.11
  Scenario: S3.13: four links into try_alloc(0, 0x10000): 0, then -EIO, -EINVAL and -EEXIST for the rule-breakers
    state.addr is 0xFFFF_0000 (16 pages, aligned to 16). P2 at offset
    0x2000 is 0x1800 bytes: allowed only as the last link, and its rounded-up
    tail maps the whole granule 0xFFFF_3000. After it:
    - a link of an unaligned phys at offset 0x4000 is -EIO (only the link at
      offset 0 may start inside a granule; WARN_ON_ONCE in dma_iova_link());
    - a link at offset 0x3800, right after P2's last byte, is -EINVAL: the
      IOVA 0xFFFF_3800 is not on a granule, and iommu_map_nosync() refuses it;
    - a link at offset 0x3000 is -EEXIST: P2's rounding already maps that
      granule (io-pgtable-arm warns). It also overlaps P2's bytes, which the
      model reports as a contract finding (iommu.md §6.3).
    None of the three maps anything.
    When "nic" calls dma_iova_try_alloc with state st phys 0 size 0x10000
    Then the result has value true addr 0xFFFF_0000
    When "nic" calls dma_iova_link with state st phys 0x1000_0000 offset 0 size 0x2000 dir DMA_TO_DEVICE
    Then it succeeds
    When "nic" calls dma_iova_link with state st phys 0x2000_0000 offset 0x2000 size 0x1800 dir DMA_TO_DEVICE
    Then it succeeds
    And there are no warnings
    When the kernel calls iommu_iova_to_phys with domain nic iova 0xFFFF_3FFF
    Then the result has phys 0x2000_1FFF
    When "nic" calls dma_iova_link with state st phys 0x3000_0200 offset 0x4000 size 0x1000 dir DMA_TO_DEVICE
    Then it fails with -EIO
    And the warnings are WARN_IOVA_LINK_UNALIGNED
    When "nic" calls dma_iova_link with state st phys 0x3000_0000 offset 0x3800 size 0x1000 dir DMA_TO_DEVICE
    Then it fails with -EINVAL
    And the warnings are WARN_IOMMU_UNALIGNED_MAP
    When "nic" calls dma_iova_link with state st phys 0x4000_0000 offset 0x3000 size 0x1000 dir DMA_TO_DEVICE
    Then it fails with -EEXIST
    And the warnings are CONTRACT_IOVA_LINK_OVERLAP, WARN_ARM_LPAE_EEXIST
    When the kernel calls iommu_iova_to_phys with domain nic iova 0xFFFF_3000
    Then the result has phys 0x2000_1000
    When the kernel calls iommu_iova_to_phys with domain nic iova 0xFFFF_4000
    Then the result has phys 0
    When the kernel calls iommu_info with domain nic
    Then the result has leaves 4
    When "nic" calls dma_iova_sync with state st offset 0 size 0x3800
    Then it succeeds
    When "nic" calls dma_iova_destroy with state st mapped_len 0x3800 dir DMA_TO_DEVICE
    Then there are no warnings
    When the kernel calls iommu_info with domain nic
    Then the result has leaves 0 iotlb_syncs 1

  @I-D1 @I-D12 @U1 @iommu-3.11
  Scenario: Three scattered pages become one contiguous 12 KiB range for the device
    Linking is what dma_map_sg() merging does behind the driver's back, done
    explicitly: the device reads one run of IOVA, the pages are anywhere.
    When the CPU calls cpu_write with phys 0x1_2000_0000 data {len 4096, fill 0xA1}
    And the CPU calls cpu_write with phys 0x3000_0000 data {len 4096, fill 0xB2}
    And the CPU calls cpu_write with phys 0x8800_0000 data {len 4096, fill 0xC3}
    And "nic" calls dma_iova_try_alloc with state io phys 0 size 12K
    Then the result has value true addr 0xFFFF_C000
    When "nic" calls dma_iova_link with state io phys 0x1_2000_0000 offset 0 size 4K dir DMA_TO_DEVICE
    And "nic" calls dma_iova_link with state io phys 0x3000_0000 offset 4K size 4K dir DMA_TO_DEVICE
    And "nic" calls dma_iova_link with state io phys 0x8800_0000 offset 8K size 4K dir DMA_TO_DEVICE
    Then it succeeds
    When "nic" calls dma_iova_sync with state io offset 0 size 12K
    Then it succeeds
    When "nic" calls device_read with dma_addr $io+0xFFC size 8
    Then the result has data a1a1a1a1b2b2b2b2
    When "nic" calls device_read with dma_addr $io+0x1FFC size 8
    Then the result has data b2b2b2b2c3c3c3c3
    When the kernel calls iommu_info with domain nic
    Then the result has map_pages 3 leaves 3 sync_maps 0
    When "nic" calls dma_iova_destroy with state io mapped_len 12K dir DMA_TO_DEVICE
    Then there are no warnings
    When the kernel calls iommu_info with domain nic
    Then the result has leaves 0 iotlb_syncs 1

  @I-D3 @I-A6 @G-5 @U1 @iommu-3.11 @iommu-2.10
  Scenario: The destroy quirk: destroying after linking only 0xE00 of 0x3000 bytes files pfn 0xFFFFC as a 1-page range
    try_alloc took 4 pages at 0xFFFF_C000. Only the first 0xE00 bytes (one
    granule with the 0x200 pad) were linked, so destroy frees
    align_up(0xE00 + 0x200, G) = 1 page: pfn 0xFFFFC goes into bucket 0.
    The next 1-page streaming map is served from that bucket and lands on
    0xFFFF_C000, inside a tree node that still spans 0xFFFFC-0xFFFFF. A new
    3-page try_alloc does not find it and is placed below.
    When "nic" calls dma_iova_try_alloc with state st phys 0x1234_5200 size 0x3000
    Then the result has value true addr 0xFFFF_C200
    When "nic" calls dma_iova_link with state st phys 0x1234_5200 offset 0 size 0xE00 dir DMA_TO_DEVICE
    And "nic" calls dma_iova_sync with state st offset 0 size 0xE00
    And "nic" calls dma_iova_destroy with state st mapped_len 0xE00 dir DMA_TO_DEVICE
    Then there are no warnings
    When "nic" calls dma_map_phys with phys 0x8000_0000 size 4K dir DMA_TO_DEVICE
    Then the result has dma_addr 0xFFFF_C000
    When the kernel calls iova_info with domain nic
    Then the result has rcache_hits 1
    When the kernel calls find_iova with domain nic pfn 0xFFFFF
    Then the result has pfn_lo 0xFFFFC pfn_hi 0xFFFFF
    When "nic" calls dma_iova_try_alloc with state st2 phys 0x1234_5200 size 0x3000
    Then the result has value true addr 0xFFFF_8200

  @I-D12 @U1 @iommu-3.11
  Scenario: destroy with mapped_len 0 is dma_iova_free: the first link failed, nothing is linked, the whole range goes back
    The documented use: the first dma_iova_link() failed, so nothing is
    mapped. Here it fails because its phys starts at another offset in the
    granule than the one try_alloc was given: IOVA 0xFFFF_E100 - 0 is not on
    a granule. destroy(0) returns all 2 pages, so the same try_alloc gets
    them back from the cache.
    When "nic" calls dma_iova_try_alloc with state st phys 0x100 size 0x1000
    Then the result has value true addr 0xFFFF_E100
    When "nic" calls dma_iova_link with state st phys 0x8000_0000 offset 0 size 0x1000 dir DMA_TO_DEVICE
    Then it fails with -EINVAL
    When "nic" calls dma_iova_destroy with state st mapped_len 0 dir DMA_TO_DEVICE
    Then it succeeds
    And there are no warnings
    When the kernel calls iommu_info with domain nic
    Then the result has iotlb_syncs 0 leaves 0
    When "nic" calls dma_iova_try_alloc with state st phys 0x8000_0100 size 0x1000
    Then the result has value true addr 0xFFFF_E100
    When the kernel calls iova_info with domain nic
    Then the result has rcache_hits 1
