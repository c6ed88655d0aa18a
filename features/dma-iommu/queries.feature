Feature: What a driver is told about a device behind an IOMMU: merge boundary, mapping sizes, syncs, unmaps, masks
  kernel/dma/mapping.c answers the query functions from the dma-iommu path
  whenever use_dma_iommu(dev) holds (a DMA or DMA_FQ default domain):

  | query                    | dma-iommu answer                                       | direct path                        |
  | dma_get_merge_boundary() | smallest IOMMU page - 1 (iommu_dma_get_merge_boundary) | 0: nothing merges                  |
  | dma_opt_mapping_size()   | min(max, iova_rcache_range() = PAGE_SIZE << 5)         | dma_max_mapping_size()             |
  | dma_max_mapping_size()   | SIZE_MAX; swiotlb_max_mapping_size() if untrusted      | SIZE_MAX or the swiotlb maximum    |
  | dma_get_required_mask()  | DMA_BIT_MASK(32): any IOVA can be placed below 4 GiB   | covers the top of RAM              |
  | dma_addressing_limited() | only if the mask is below 32 bits                      | if the mask misses some RAM        |
  | dma_need_sync(dev, addr) | dma_dev_need_sync(dev): not per address                | per address                        |
  | dma_need_unmap(dev)      | always true                                            | only if syncs or debugging need it |

  The merge boundary tells a driver how dma_map_sg() can merge: buffers that
  meet on an IOVA granule boundary come back as one DMA segment
  (scatter-gather.feature), so a queue that splits its requests on that
  boundary gets long segments. The optimal size is the largest request the IOVA
  range caches serve: 128 KiB with 4 KiB pages; larger mappings always go to
  the rbtree allocator, which is slower and fragments the space.

  Background:
    Given a platform with ram [{base 0x0, size 4G}, {base 0x1_0000_0000, size 4G}] swiotlb {size 64M} dma_debug false
    And the kernel calls iommu_add with name smmu

  @S3.15 @R11 @R12 @iommu-3.9
  Scenario: S3.15 in REF: merge boundary 0xFFF, optimal mapping size 131072, no maximum
    Given a device "nic" with iommu smmu dma_mask DMA_BIT_MASK(64)
    When "nic" calls dma_get_merge_boundary
    Then the result has size 0xFFF
    When "nic" calls dma_opt_mapping_size
    Then the result has size 131072
    When "nic" calls dma_max_mapping_size
    Then the result has size 0xFFFF_FFFF_FFFF_FFFF

  @S3.15 @R11 @R12 @iommu-3.9 @dma-core-2.6
  Scenario Outline: dma_opt_mapping_size with and without an IOMMU: <device> gets <opt>
    Without an IOMMU there is no optimum of its own: the answer is the maximum,
    SIZE_MAX unless swiotlb might have to bounce (a 32-bit mask on a machine
    with RAM above 4 GiB), then the 256 KiB swiotlb limit. Behind an IOMMU the
    same 32-bit device has no bouncing to fear and gets the IOMMU's 128 KiB.
    Given a device "dev" <args>
    When "dev" calls dma_opt_mapping_size
    Then the result has size <opt>
    When "dev" calls dma_max_mapping_size
    Then the result has size <max>
    When "dev" calls dma_get_merge_boundary
    Then the result has size <boundary>

    Examples:
      | device                                 | args                                                     | opt                   | max                   | boundary |
      | an IOMMU-DMA device, 64-bit mask       | with iommu smmu dma_mask DMA_BIT_MASK(64)                | 131072                | 0xFFFF_FFFF_FFFF_FFFF | 0xFFF    |
      | an IOMMU-DMA device, 32-bit mask       | with iommu smmu dma_mask DMA_BIT_MASK(32)                | 131072                | 0xFFFF_FFFF_FFFF_FFFF | 0xFFF    |
      | an untrusted IOMMU-DMA device          | with iommu smmu dma_mask DMA_BIT_MASK(64) untrusted true | 131072                | 262144                | 0xFFF    |
      | a direct device, 64-bit mask           | with dma_mask DMA_BIT_MASK(64)                           | 0xFFFF_FFFF_FFFF_FFFF | 0xFFFF_FFFF_FFFF_FFFF | 0        |
      | a direct device, 32-bit mask (bounces) | with dma_mask DMA_BIT_MASK(32)                           | 262144                | 262144                | 0        |

  @S3.15 @R12 @iommu-3.9 @iova-2.11
  Scenario Outline: PAGE_SIZE <page> with IOMMU pages <pgsizes>: merge boundary <boundary>, optimal size <opt>
    The merge boundary follows the IOMMU's smallest page (the IOVA granule);
    the optimal size follows the CPU page size, which sizes the range caches.
    Given a platform with page_size <page> ram [{base 0x0, size 4G}] dma_debug false
    And the kernel calls iommu_add with name smmu pgsize_bitmap <bitmap>
    And a device "nic" with iommu smmu dma_mask DMA_BIT_MASK(64)
    When "nic" calls dma_get_merge_boundary
    Then the result has size <boundary>
    When "nic" calls dma_opt_mapping_size
    Then the result has size <opt>
    When the kernel calls iommu_info with domain nic
    Then the result has granule <granule>

    Examples:
      | page | pgsizes    | bitmap      | granule | boundary | opt     |
      | 4K   | 4K, 2M, 1G | 0x4020_1000 | 0x1000  | 0xFFF    | 131072  |
      | 16K  | 4K, 2M, 1G | 0x4020_1000 | 0x1000  | 0xFFF    | 524288  |
      | 16K  | 16K, 32M   | 0x200_4000  | 0x4000  | 0x3FFF   | 524288  |
      | 64K  | 64K, 512M  | 0x2001_0000 | 0x10000 | 0xFFFF   | 2097152 |

  @R10 @iommu-3.9 @dma-core-2.6
  Scenario Outline: dma_get_required_mask and dma_addressing_limited on 8 GiB of RAM: <device>
    Behind an IOMMU any buffer can be given an IOVA below 4 GiB, so 32 bits
    are all a driver needs and a 32-bit device is not limited. Only a mask
    below 32 bits (which still works, see iova-policy.feature) is "limited".
    Given a device "dev" <args>
    When "dev" calls dma_get_required_mask
    Then the result has mask <required>
    When "dev" calls dma_addressing_limited
    Then the result has value <limited>

    Examples:
      | device                 | args                                      | required         | limited |
      | IOMMU-DMA, 64-bit mask | with iommu smmu dma_mask DMA_BIT_MASK(64) | DMA_BIT_MASK(32) | false   |
      | IOMMU-DMA, 32-bit mask | with iommu smmu dma_mask DMA_BIT_MASK(32) | DMA_BIT_MASK(32) | false   |
      | IOMMU-DMA, 28-bit mask | with iommu smmu dma_mask DMA_BIT_MASK(28) | DMA_BIT_MASK(32) | true    |
      | direct, 32-bit mask    | with dma_mask DMA_BIT_MASK(32)            | DMA_BIT_MASK(33) | true    |
      | direct, 64-bit mask    | with dma_mask DMA_BIT_MASK(64)            | DMA_BIT_MASK(33) | false   |

  @R13 @iommu-3.9 @dma-core-2.5
  Scenario: dma_need_sync behind an IOMMU: a coherent trusted device may skip syncs
    dma_set_mask() sets dma_skip_sync for a coherent device on the
    dma-iommu path as on the direct one (dma_setup_need_sync), so the inline
    sync wrappers return at once and dma_need_sync() is false for any handle.
    Given a device "nic" with iommu smmu dma_mask DMA_BIT_MASK(64)
    When "nic" calls dma_set_mask with mask DMA_BIT_MASK(64)
    Then it succeeds
    When "nic" calls dma_map_page with phys 0x8000_0000 size 4K dir DMA_FROM_DEVICE as rx
    And "nic" calls dma_need_sync with dma_addr $rx
    Then the result has value false

  @R13 @iommu-3.9 @dma-core-2.5
  Scenario Outline: dma_need_sync behind an IOMMU is per device, not per address: <device> says <value>
    __dma_need_sync() can only look at the address on the direct path; for
    dma-iommu it answers true. So once an untrusted device has bounced once
    (swiotlb clears dma_skip_sync), every handle of it needs syncs, including
    an aligned one that was mapped in place.
    Given a platform with arch <arch> ram [{base 0x0, size 4G}] swiotlb {size 64M} dma_debug <debug>
    And the kernel calls iommu_add with name smmu
    And a device "dev" with iommu smmu dma_mask DMA_BIT_MASK(64) <args>
    When "dev" calls dma_set_mask with mask DMA_BIT_MASK(64)
    And "dev" calls dma_map_page with phys 0x8000_0100 size 0x200 dir DMA_FROM_DEVICE
    And "dev" calls dma_map_page with phys 0x9000_0000 size 4K dir DMA_FROM_DEVICE as aligned
    And "dev" calls dma_need_sync with dma_addr $aligned
    Then the result has value <value>

    Examples:
      | device                                | arch   | args           | debug | value |
      | a coherent trusted device             | x86_64 | coherent true  | false | false |
      | a coherent untrusted device (bounced) | x86_64 | untrusted true | false | true  |
      | a non-coherent device                 | arm64  | coherent false | false | true  |
      | a coherent device with dma-debug      | x86_64 | coherent true  | true  | true  |

  @U5 @iommu-3.11 @dma-core-2.5
  Scenario Outline: dma_need_unmap (newest): <device> says <value>
    Skipping the unmap behind an IOMMU would leave the IOVA allocated and
    mapped, so the answer there does not depend on coherence or debugging;
    a coherent direct device with dma-debug off may skip its unmaps.
    Given a platform with ram [{base 0x0, size 4G}] swiotlb {size 64M} dma_debug false linux newest
    And the kernel calls iommu_add with name smmu
    And a device "dev" <args>
    When "dev" calls dma_set_mask with mask DMA_BIT_MASK(64)
    And "dev" calls dma_need_unmap
    Then the result has value <value>

    Examples:
      | device                                    | args                                      | value |
      | a coherent IOMMU-DMA device, no dma-debug | with iommu smmu dma_mask DMA_BIT_MASK(64) | true  |
      | a coherent direct device, no dma-debug    | with dma_mask DMA_BIT_MASK(64)            | false |
