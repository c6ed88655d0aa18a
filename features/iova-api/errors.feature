Feature: The IOVA-based API's error and result table (iommu.md §3.11), row by row
  | call                                                                   | result                                   |
  | try_alloc: no IOMMU-DMA / size 0 / bit 63 set / no IOVA                | false (state zeroed)                     |
  | link with an unaligned phys and offset > 0                             | -EIO                                     |
  | link with REQUIRE_COHERENT on a non-coherent device or a bounced state | -EOPNOTSUPP                              |
  | link that needs bouncing with MMIO or REQUIRE_COHERENT                 | -EPERM                                   |
  | link, bounce slot unavailable                                          | -ENOMEM                                  |
  | link over an IOVA that is already linked                               | -EEXIST (io-pgtable-arm warns)           |
  | link at an IOVA that is not G-aligned                                  | -EINVAL                                  |
  | sync                                                                   | the driver's iotlb_sync_map result, or 0 |
  | unlink, destroy, free                                                  | no result; warnings on mismatch          |

  The order of the checks in dma_iova_link() (7.2 text): the -EIO test of an
  unaligned phys at offset > 0 (WARN_ON_ONCE); then REQUIRE_COHERENT on a
  state that already bounced (WARN_ON_ONCE) or on a non-coherent device,
  -EOPNOTSUPP; then, if dev_use_swiotlb() holds (an untrusted device, or a
  kmalloc buffer unsafe for a non-coherent one) and phys or size is not on a
  granule, -EPERM for MMIO or REQUIRE_COHERENT, else the bounce path, whose
  bounce can fail with -ENOMEM; the rest comes from the page-table layer
  (-EINVAL, -EEXIST, -ENOMEM, -ERANGE). A failed link maps nothing: what it
  had mapped is unlinked again before it returns.

  The model cannot make a driver's iotlb_sync_map fail from a scenario (the
  op language has no such knob), so the sync row is shown for its 0 result
  only, with and without an iotlb_sync_map.

  Background:
    Given a platform with ram [{base 0x0, size 4G}, {base 0x1_0000_0000, size 4G}] swiotlb {size 64M} dma_debug false
    And the kernel calls iommu_add with name smmu
    And the kernel calls iommu_add with name pt mode identity
    And a device "nic" with iommu smmu dma_mask DMA_BIT_MASK(64)

  @U1 @I-D12 @iommu-3.11 @iommu-3.3
  Scenario Outline: try_alloc is false for <case>: the state is zeroed, dma_use_iova is false
    Given a device "plain" with dma_mask DMA_BIT_MASK(64)
    And a device "pass" with iommu pt dma_mask DMA_BIT_MASK(64)
    And a device "n32" with iommu smmu dma_mask DMA_BIT_MASK(32)
    When "<dev>" calls dma_iova_try_alloc with state st phys 0 size <size>
    Then the result has value false addr 0
    And the warnings are <warnings>
    When the kernel calls dma_use_iova with state st
    Then the result has value false
    When the kernel calls dma_iova_size with state st
    Then the result has size 0

    Examples:
      | case                                        | dev   | size                  | warnings                 |
      | a device without an IOMMU                   | plain | 0x1000                | none                     |
      | a device in an identity domain              | pass  | 0x1000                | none                     |
      | size 0                                      | nic   | 0                     | WARN_IOVA_TRY_ALLOC_SIZE |
      | a size with bit 63 set                      | nic   | 0x8000_0000_0000_1000 | WARN_IOVA_TRY_ALLOC_SIZE |
      | 4 GiB for a 32-bit device: no IOVA that big | n32   | 4G                    | none                     |

  @U1 @I-D12 @iommu-3.11
  Scenario: A failed try_alloc zeroes a state that had IOVA: dma_use_iova goes from true to false
    Neither destroy nor free clears the state, so a state struct reused for
    the next I/O still says true until try_alloc runs again.
    When "nic" calls dma_iova_try_alloc with state st phys 0x200 size 0x1000
    Then the result has value true addr 0xFFFF_E200
    When "nic" calls dma_iova_destroy with state st mapped_len 0 dir DMA_TO_DEVICE
    And the kernel calls dma_use_iova with state st
    Then the result has value true
    When "nic" calls dma_iova_try_alloc with state st phys 0x200 size 0
    Then the result has value false addr 0
    When the kernel calls dma_use_iova with state st
    Then the result has value false
    When the kernel calls dma_iova_size with state st
    Then the result has size 0 use_swiotlb false

  @U1 @iommu-3.11
  Scenario: -EIO: an unaligned phys at offset 0x1000; nothing is mapped
    When "nic" calls dma_iova_try_alloc with state st phys 0 size 0x2000
    And "nic" calls dma_iova_link with state st phys 0x8000_0800 offset 0x1000 size 0x800 dir DMA_TO_DEVICE
    Then it fails with -EIO
    And the warnings are WARN_IOVA_LINK_UNALIGNED
    When the kernel calls iommu_info with domain nic
    Then the result has leaves 0 map_pages 0

  @U1 @U3 @iommu-3.11 @iommu-3.2
  Scenario: -EOPNOTSUPP: DMA_ATTR_REQUIRE_COHERENT on a non-coherent device; without it the link succeeds with cache maintenance
    REQUIRE_COHERENT promises a mapping that needs no cache maintenance (U3);
    a non-coherent device cannot have one. The check is silent.
    Given a platform with arch arm64 ram [{base 0x0, size 4G}] swiotlb {size 64M} dma_debug false
    And the kernel calls iommu_add with name smmu
    And a device "dsp" with iommu smmu dma_mask DMA_BIT_MASK(64) coherent false
    When "dsp" calls dma_iova_try_alloc with state st phys 0 size 0x1000
    And "dsp" calls dma_iova_link with state st phys 0x8000_0000 offset 0 size 0x1000 dir DMA_TO_DEVICE attrs [DMA_ATTR_REQUIRE_COHERENT]
    Then it fails with -EOPNOTSUPP
    And there are no warnings
    When the kernel calls iommu_info with domain dsp
    Then the result has leaves 0
    When "dsp" calls dma_iova_link with state st phys 0x8000_0000 offset 0 size 0x1000 dir DMA_TO_DEVICE
    Then it succeeds
    When the kernel calls platform_counters
    Then the result's cleans is at least 1

  @U1 @U3 @iommu-3.11
  Scenario: -EOPNOTSUPP: DMA_ATTR_REQUIRE_COHERENT on a state that already bounced, even for an aligned piece
    The untrusted device's first link ends 0x800 into a granule, so its tail
    went through swiotlb and DMA_IOVA_USE_SWIOTLB is set. The state as a
    whole can no longer be coherent: the next link asking for coherence is
    refused with a one-time warning, though it would not itself bounce.
    Given a device "ext" with iommu smmu dma_mask DMA_BIT_MASK(64) untrusted true
    When "ext" calls dma_iova_try_alloc with state st phys 0 size 0x3000
    And "ext" calls dma_iova_link with state st phys 0x8000_0000 offset 0 size 0x1800 dir DMA_TO_DEVICE
    Then it succeeds
    When the kernel calls dma_iova_size with state st
    Then the result has size 0x3000 use_swiotlb true
    When "ext" calls dma_iova_link with state st phys 0x9000_0000 offset 0x2000 size 0x1000 dir DMA_TO_DEVICE attrs [DMA_ATTR_REQUIRE_COHERENT]
    Then it fails with -EOPNOTSUPP
    And the warnings are WARN_IOVA_LINK_REQUIRE_COHERENT_SWIOTLB
    When the kernel calls iommu_iova_to_phys with domain ext iova $st+0x2000
    Then the result has phys 0

  @U1 @U2 @U3 @iommu-3.11
  Scenario Outline: -EPERM: a piece that would have to bounce, linked with <attr>
    MMIO must never be bounced (U2), REQUIRE_COHERENT never given a bounce
    buffer (U3). The same attribute on an aligned piece is fine: nothing
    would bounce.
    Given a device "ext" with iommu smmu dma_mask DMA_BIT_MASK(64) untrusted true
    When "ext" calls dma_iova_try_alloc with state st phys 0 size 0x2000
    And "ext" calls dma_iova_link with state st phys 0x9000_0000 offset 0 size 0x800 dir DMA_TO_DEVICE attrs [<attr>]
    Then it fails with -EPERM
    And there are no warnings
    When the kernel calls swiotlb_info
    Then the result has used 0
    When "ext" calls dma_iova_link with state st phys 0x9000_0000 offset 0 size 0x1000 dir DMA_TO_DEVICE attrs [<attr>]
    Then it succeeds
    When the kernel calls dma_iova_size with state st
    Then the result has use_swiotlb false

    Examples:
      | attr                      |
      | DMA_ATTR_MMIO             |
      | DMA_ATTR_REQUIRE_COHERENT |

  @U1 @iommu-3.11 @iommu-3.6
  Scenario: -ENOMEM: the swiotlb pool is exhausted, so the tail cannot be bounced; the middle already linked is undone
    A 256 KiB pool holds 128 slots, and one unaligned 0x3FF00-byte streaming
    map takes them all. The link of 0x1800 bytes maps its aligned first
    granule, fails to bounce the 0x800-byte tail, unlinks the first granule
    again, and returns -ENOMEM. Once the slots are back, the same link works.
    Given a platform with ram [{base 0x0, size 4G}] swiotlb {size 256K, base 0x7000_0000} dma_debug false
    And the kernel calls iommu_add with name tbt
    And a device "ext" with iommu tbt dma_mask DMA_BIT_MASK(64) untrusted true
    When "ext" calls dma_map_phys with phys 0x9000_0000 size 0x3FF00 dir DMA_TO_DEVICE as big
    And the kernel calls swiotlb_info
    Then the result has nslabs 128 used 128
    When "ext" calls dma_iova_try_alloc with state st phys 0 size 0x2000
    And "ext" calls dma_iova_link with state st phys 0x8000_0000 offset 0 size 0x1800 dir DMA_TO_DEVICE
    Then it fails with -ENOMEM
    And the warnings are WARN_SWIOTLB_FULL
    When the kernel calls iommu_iova_to_phys with domain ext iova $st
    Then the result has phys 0
    When the kernel calls dma_iova_size with state st
    Then the result has use_swiotlb false
    When "ext" calls dma_unmap_phys with dma_addr $big size 0x3FF00 dir DMA_TO_DEVICE
    And "ext" calls dma_iova_link with state st phys 0x8000_0000 offset 0 size 0x1800 dir DMA_TO_DEVICE
    Then it succeeds
    When the kernel calls dma_iova_size with state st
    Then the result has use_swiotlb true

  @U1 @iommu-3.11 @iommu-3.6
  Scenario: -ENOMEM: no swiotlb pool at all; iommu_dma_map_swiotlb warns that bounce buffers are inactive
    Given a platform with ram [{base 0x0, size 4G}] dma_debug false
    And the kernel calls iommu_add with name tbt
    And a device "ext" with iommu tbt dma_mask DMA_BIT_MASK(64) untrusted true
    When "ext" calls dma_iova_try_alloc with state st phys 0 size 0x2000
    And "ext" calls dma_iova_link with state st phys 0x8000_0000 offset 0 size 0x1800 dir DMA_TO_DEVICE
    Then it fails with -ENOMEM
    And the warnings are WARN_SWIOTLB_INACTIVE_UNALIGNED
    When the kernel calls iommu_info with domain ext
    Then the result has leaves 0
    When "ext" calls dma_iova_link with state st phys 0x8000_0000 offset 0 size 0x2000 dir DMA_TO_DEVICE
    Then it succeeds

  @U1 @I-D3 @iommu-3.11 @iommu-5.3
  Scenario: -EEXIST: the same piece linked twice; the first mapping is left alone
    When "nic" calls dma_iova_try_alloc with state st phys 0 size 0x2000
    And "nic" calls dma_iova_link with state st phys 0x8000_0000 offset 0 size 0x1000 dir DMA_TO_DEVICE
    And "nic" calls dma_iova_link with state st phys 0x9000_0000 offset 0 size 0x1000 dir DMA_TO_DEVICE
    Then it fails with -EEXIST
    And the warnings are CONTRACT_IOVA_LINK_OVERLAP, WARN_ARM_LPAE_EEXIST
    When the kernel calls iommu_iova_to_phys with domain nic iova $st
    Then the result has phys 0x8000_0000

  @U1 @iommu-3.11 @iommu-4.4
  Scenario: -EINVAL: an aligned phys at offset 0x800, so at IOVA 0xFFFF_E800
    When "nic" calls dma_iova_try_alloc with state st phys 0 size 0x2000
    And "nic" calls dma_iova_link with state st phys 0x8000_0000 offset 0x800 size 0x1000 dir DMA_TO_DEVICE
    Then it fails with -EINVAL
    And the warnings are WARN_IOMMU_UNALIGNED_MAP
    And the warning WARN_IOMMU_UNALIGNED_MAP says "iova 0xffffe800"
    When the kernel calls iommu_info with domain nic
    Then the result has leaves 0

  @U1 @iommu-3.11 @iommu-4.4
  Scenario Outline: sync returns 0 <how>; iotlb_sync_map runs <sync_maps> time(s)
    Given the kernel calls iommu_add with name mmu has_iotlb_sync_map <has>
    And a device "dev" with iommu mmu dma_mask DMA_BIT_MASK(64)
    When "dev" calls dma_iova_try_alloc with state st phys 0 size 0x2000
    And "dev" calls dma_iova_link with state st phys 0x8000_0000 offset 0 size 0x2000 dir DMA_TO_DEVICE
    And "dev" calls dma_iova_sync with state st offset 0 size 0x2000
    Then it succeeds
    And there are no warnings
    When the kernel calls iommu_info with domain dev
    Then the result has sync_maps <sync_maps> iotlb_syncs 0

    Examples:
      | how                                                  | has   | sync_maps |
      | on SMMUv3, which has no iotlb_sync_map               | false | 0         |
      | from the driver's iotlb_sync_map (VT-d- or AMD-like) | true  | 1         |

  @U1 @I-D4 @iommu-3.11
  Scenario: unlink, destroy and free return nothing; used as documented they warn about nothing
    When "nic" calls dma_iova_try_alloc with state a phys 0 size 0x1000
    And "nic" calls dma_iova_link with state a phys 0x8000_0000 offset 0 size 0x1000 dir DMA_TO_DEVICE
    And "nic" calls dma_iova_unlink with state a offset 0 size 0x1000 dir DMA_TO_DEVICE
    Then it succeeds
    And there are no warnings
    When "nic" calls dma_iova_free with state a
    Then it succeeds
    And there are no warnings
    When "nic" calls dma_iova_try_alloc with state b phys 0 size 0x1000
    And "nic" calls dma_iova_link with state b phys 0x8000_0000 offset 0 size 0x1000 dir DMA_TO_DEVICE
    And "nic" calls dma_iova_destroy with state b mapped_len 0x1000 dir DMA_TO_DEVICE
    Then it succeeds
    And there are no warnings

  @U1 @iommu-3.11 @iommu-4.5
  Scenario: unlink of a range that is not linked: no result, the kernel's WARN_ON(unmapped != size)
    __iommu_dma_iova_unlink() unmaps what it is told and warns when the page
    table had less; the linked page next to it is untouched.
    When "nic" calls dma_iova_try_alloc with state st phys 0 size 0x2000
    And "nic" calls dma_iova_link with state st phys 0x8000_0000 offset 0x1000 size 0x1000 dir DMA_TO_DEVICE
    And "nic" calls dma_iova_unlink with state st offset 0 size 0x1000 dir DMA_TO_DEVICE
    Then it succeeds
    And the warnings include WARN_IOMMU_DMA_UNMAP_SHORT
    And the warning WARN_IOMMU_DMA_UNMAP_SHORT says "unmapped 0x0 of 0x1000"
    When the kernel calls iommu_iova_to_phys with domain nic iova $st+0x1000
    Then the result has phys 0x8000_0000

  @U1 @iommu-3.11 @iommu-4.5
  Scenario: destroy with a mapped_len longer than what is linked: a contract finding and the kernel's warning, then the range is freed
    Only the first of four pages was linked. The unmap of 0x4000 bytes finds
    0x1000; the IOVA is still freed with align_up(mapped_len) = 4 pages,
    which is the allocation, so nothing else is hurt.
    When "nic" calls dma_iova_try_alloc with state st phys 0 size 0x4000
    And "nic" calls dma_iova_link with state st phys 0x8000_0000 offset 0 size 0x1000 dir DMA_TO_DEVICE
    And "nic" calls dma_iova_destroy with state st mapped_len 0x4000 dir DMA_TO_DEVICE
    Then it succeeds
    And the warnings include CONTRACT_IOVA_DESTROY_LENGTH, WARN_IOMMU_DMA_UNMAP_SHORT
    When the kernel calls iommu_info with domain nic
    Then the result has leaves 0 iotlb_syncs 1
    When "nic" calls dma_iova_try_alloc with state st2 phys 0 size 0x4000
    Then the result has addr 0xFFFF_C000
