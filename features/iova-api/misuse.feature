Feature: Misuse of the IOVA-based API the kernel does not check: the model's contract findings
  The dma_iova_* calls trust the driver: there is no dma-debug entry for a
  link, and the kernel keeps no record of what was linked where. The
  precondition violations of iommu.md §6.3 would silently map or free IOVA
  that belongs to someone else, so the model keeps, beside the
  dma_iova_state, the list of linked ranges, and reports (source "contract"):

  | code                            | misuse                                                    | the model                           |
  | CONTRACT_IOVA_LINK_OUT_OF_RANGE | a link past the size given to try_alloc                   | refuses it: -EINVAL, nothing mapped |
  | CONTRACT_IOVA_LINK_OVERLAP      | a link over bytes an earlier link covers                  | reports; the kernel's -EEXIST       |
  | CONTRACT_IOVA_FREE_WHILE_LINKED | dma_iova_free with links still in place                   | refuses: nothing freed              |
  | CONTRACT_IOVA_DESTROY_LENGTH    | destroy's [0, mapped_len) is not exactly the linked range | refuses if IOVA would stay mapped   |
  |                                 |                                                           | or more than allocated be freed;    |
  |                                 |                                                           | else reports and destroys           |
  | CONTRACT_IOVA_USE_AFTER_FREE    | any call on a state after free or destroy                 | refuses: -EINVAL, or nothing done   |
  | CONTRACT_IOVA_NOT_ALLOCATED     | link/sync/unlink/destroy/free after try_alloc said false  | refuses: -EINVAL, or nothing done   |
  | CONTRACT_IOVA_WRONG_DEVICE      | a state used with another device than the one it was for  | refuses: -EINVAL, or nothing done   |

  A refused call leaves the IOMMU as it was, so the invariants keep holding
  and the scenario can go on to show the correct call.

  The bound of a link: iommu.md §3.11 step 6 says offset + size must stay
  inside dma_iova_size(state) plus the head pad, counting from the granule
  start; from state.addr, where offsets count from, that is
  offset + size <= dma_iova_size(state). The model takes that bound, not
  the end of the last allocated granule: a link that ends in the slack of
  the last granule is still reported, since the driver linked more than it
  asked for.

  Background:
    Given a platform with ram [{base 0x0, size 4G}, {base 0x1_0000_0000, size 4G}] swiotlb {size 64M} dma_debug false
    And the kernel calls iommu_add with name smmu
    And a device "nic" with iommu smmu dma_mask DMA_BIT_MASK(64)

  @I-D3 @I-D11 @G-1 @U1 @iommu-6.3
  Scenario: CONTRACT_IOVA_LINK_OUT_OF_RANGE: links past a 0x2000-byte range would map free IOVA, or another mapping's
    The range is 0xFFFF_C000-0xFFFF_DFFF; a streaming map owns 0xFFFF_F000
    and 0xFFFF_E000 belongs to nobody. The kernel does not check the
    offset: a link at 0x2000 would map IOVA the allocator may give to the
    next map, one at 0x3000 would land on the streaming mapping's granule.
    The model refuses both, and both IOVAs stay as they were.
    When "nic" calls dma_map_phys with phys 0x8000_0000 size 4K dir DMA_TO_DEVICE
    Then the result has dma_addr 0xFFFF_F000
    When "nic" calls dma_iova_try_alloc with state st phys 0 size 0x2000
    Then the result has addr 0xFFFF_C000
    When "nic" calls dma_iova_link with state st phys 0x9000_0000 offset 0x1000 size 0x1000 dir DMA_TO_DEVICE
    Then it succeeds
    When "nic" calls dma_iova_link with state st phys 0x9000_1000 offset 0x2000 size 0x1000 dir DMA_TO_DEVICE
    Then it fails with -EINVAL
    And the warnings are CONTRACT_IOVA_LINK_OUT_OF_RANGE
    When the kernel calls find_iova with domain nic pfn 0xFFFFE
    Then it fails with NULL
    When the kernel calls iommu_iova_to_phys with domain nic iova 0xFFFF_E000
    Then the result has phys 0
    When "nic" calls dma_iova_link with state st phys 0x9000_2000 offset 0x3000 size 0x1000 dir DMA_TO_DEVICE
    Then it fails with -EINVAL
    And the warnings are CONTRACT_IOVA_LINK_OUT_OF_RANGE
    When the kernel calls iommu_iova_to_phys with domain nic iova 0xFFFF_F000
    Then the result has phys 0x8000_0000

  @U1 @iommu-6.3
  Scenario Outline: The link bound is dma_iova_size: try_alloc(0x100, 0x1800), a link of [<offset>, +<size>) <verdict>
    state.addr is 0xFFFF_E100; the allocation is 2 granules, 0x1F00 bytes
    from state.addr.
    Given "nic" calls dma_iova_try_alloc with state st phys 0x100 size 0x1800
    When "nic" calls dma_iova_link with state st phys <phys> offset <offset> size <size> dir DMA_TO_DEVICE
    Then <result>
    And the warnings are <warnings>

    Examples:
      | phys        | offset | size   | verdict                                 | result                | warnings                        |
      | 0x8000_0100 | 0      | 0x1800 | ends at the size: fine                  | it succeeds           | none                            |
      | 0x9000_0000 | 0xF00  | 0x900  | ends at the size: fine                  | it succeeds           | none                            |
      | 0x9000_0000 | 0xF00  | 0x1000 | ends 0x700 past it, in the last granule | it fails with -EINVAL | CONTRACT_IOVA_LINK_OUT_OF_RANGE |
      | 0x9000_0000 | 0x1F00 | 0x1000 | starts past the allocation              | it fails with -EINVAL | CONTRACT_IOVA_LINK_OUT_OF_RANGE |

  @I-D3 @U1 @iommu-6.3
  Scenario: CONTRACT_IOVA_LINK_OVERLAP: relinking bytes an earlier link covers; the kernel's page table says -EEXIST
    When "nic" calls dma_iova_try_alloc with state st phys 0 size 0x4000
    And "nic" calls dma_iova_link with state st phys 0x8000_0000 offset 0 size 0x3000 dir DMA_TO_DEVICE
    And "nic" calls dma_iova_link with state st phys 0x9000_0000 offset 0x2000 size 0x2000 dir DMA_TO_DEVICE
    Then it fails with -EEXIST
    And the warnings are CONTRACT_IOVA_LINK_OVERLAP, WARN_ARM_LPAE_EEXIST
    And the warning CONTRACT_IOVA_LINK_OVERLAP says "overlaps the link at 0x0"
    When the kernel calls iommu_iova_to_phys with domain nic iova $st+0x3000
    Then the result has phys 0
    When the kernel calls iommu_iova_to_phys with domain nic iova $st+0x2000
    Then the result has phys 0x8000_2000

  @I-D4 @G-1 @U1 @iommu-6.3
  Scenario: CONTRACT_IOVA_FREE_WHILE_LINKED: dma_iova_free before the unlink would free IOVA that still translates; the model frees nothing
    The kernel would put 0xFFFF_E000 back in the range cache while the page
    table still maps it: the next try_alloc would link over a live
    translation. The model refuses; after the unlink, the free is clean.
    When "nic" calls dma_iova_try_alloc with state st phys 0 size 0x2000
    And "nic" calls dma_iova_link with state st phys 0x8000_0000 offset 0 size 0x2000 dir DMA_TO_DEVICE
    And "nic" calls dma_iova_free with state st
    Then it succeeds
    And the warnings are CONTRACT_IOVA_FREE_WHILE_LINKED
    When the kernel calls iommu_iova_to_phys with domain nic iova 0xFFFF_E000
    Then the result has phys 0x8000_0000
    When "nic" calls dma_iova_try_alloc with state other phys 0 size 0x2000
    Then the result has addr 0xFFFF_C000
    When "nic" calls dma_iova_unlink with state st offset 0 size 0x2000 dir DMA_TO_DEVICE
    And "nic" calls dma_iova_free with state st
    Then there are no warnings
    When "nic" calls dma_iova_try_alloc with state again phys 0 size 0x2000
    Then the result has addr 0xFFFF_E000

  @I-D4 @G-1 @U1 @iommu-6.3
  Scenario: CONTRACT_IOVA_DESTROY_LENGTH: a mapped_len shorter than the links would free the IOVA under the last one; the model destroys nothing
    When "nic" calls dma_iova_try_alloc with state st phys 0 size 0x3000
    And "nic" calls dma_iova_link with state st phys 0x8000_0000 offset 0 size 0x1000 dir DMA_TO_DEVICE
    And "nic" calls dma_iova_link with state st phys 0x9000_0000 offset 0x1000 size 0x2000 dir DMA_TO_DEVICE
    And "nic" calls dma_iova_destroy with state st mapped_len 0x1000 dir DMA_TO_DEVICE
    Then it succeeds
    And the warnings are CONTRACT_IOVA_DESTROY_LENGTH
    And the warning CONTRACT_IOVA_DESTROY_LENGTH says "links reach 0x3000"
    When the kernel calls iommu_info with domain nic
    Then the result has leaves 3 iotlb_syncs 0
    When "nic" calls dma_iova_destroy with state st mapped_len 0x3000 dir DMA_TO_DEVICE
    Then there are no warnings
    When the kernel calls iommu_info with domain nic
    Then the result has leaves 0 iotlb_syncs 1

  @I-D4 @G-1 @U1 @iommu-6.3 @iommu-4.5
  Scenario: CONTRACT_IOVA_DESTROY_LENGTH: a hole below the last link; the kernel's unmap would stop at it and leave the last link mapped
    iommu_unmap stops at the first granule that is not mapped (iommu.md
    §4.5), so the link at 0x2000 would survive the destroy over freed IOVA.
    The model refuses; the driver unlinks the piece it forgot and frees.
    When "nic" calls dma_iova_try_alloc with state st phys 0 size 0x3000
    And "nic" calls dma_iova_link with state st phys 0x8000_0000 offset 0 size 0x1000 dir DMA_TO_DEVICE
    And "nic" calls dma_iova_link with state st phys 0x9000_0000 offset 0x2000 size 0x1000 dir DMA_TO_DEVICE
    And "nic" calls dma_iova_destroy with state st mapped_len 0x3000 dir DMA_TO_DEVICE
    Then the warnings are CONTRACT_IOVA_DESTROY_LENGTH
    And the warning CONTRACT_IOVA_DESTROY_LENGTH says "nothing is linked at 0xffffd000"
    When the kernel calls iommu_info with domain nic
    Then the result has leaves 2
    When "nic" calls dma_iova_unlink with state st offset 0 size 0x1000 dir DMA_TO_DEVICE
    And "nic" calls dma_iova_unlink with state st offset 0x2000 size 0x1000 dir DMA_TO_DEVICE
    And "nic" calls dma_iova_free with state st
    Then there are no warnings
    When the kernel calls iommu_info with domain nic
    Then the result has leaves 0

  @I-D3 @G-5 @U1 @iommu-6.3 @iommu-2.10
  Scenario: CONTRACT_IOVA_DESTROY_LENGTH: a mapped_len past the allocation would free 4 pages of a 1-page range into the cache; the model destroys nothing
    The quirk frees align_up(mapped_len + pad, G): here 4 pages at pfn
    0xFFFFF, a node of 1 page. The next 4-page allocation would be served
    that pfn from the cache and overlap whatever lies above 4 GiB - 4K.
    When "nic" calls dma_iova_try_alloc with state st phys 0 size 0x1000
    And "nic" calls dma_iova_link with state st phys 0x8000_0000 offset 0 size 0x1000 dir DMA_TO_DEVICE
    And "nic" calls dma_iova_destroy with state st mapped_len 0x4000 dir DMA_TO_DEVICE
    Then the warnings are CONTRACT_IOVA_DESTROY_LENGTH
    And the warning CONTRACT_IOVA_DESTROY_LENGTH says "past the 0x1000 bytes allocated"
    When the kernel calls iommu_info with domain nic
    Then the result has leaves 1
    When "nic" calls dma_iova_destroy with state st mapped_len 0x1000 dir DMA_TO_DEVICE
    Then there are no warnings

  @G-3 @U1 @iommu-6.3
  Scenario: CONTRACT_IOVA_USE_AFTER_FREE: link, sync, unlink, free and destroy on a destroyed state are refused
    dma_use_iova is still true after destroy, which is exactly why a driver
    can fall into this; state.addr now names IOVA the allocator owns.
    When "nic" calls dma_iova_try_alloc with state st phys 0 size 0x1000
    And "nic" calls dma_iova_link with state st phys 0x8000_0000 offset 0 size 0x1000 dir DMA_TO_DEVICE
    And "nic" calls dma_iova_destroy with state st mapped_len 0x1000 dir DMA_TO_DEVICE
    And the kernel calls dma_use_iova with state st
    Then the result has value true
    When "nic" calls dma_iova_link with state st phys 0x9000_0000 offset 0 size 0x1000 dir DMA_TO_DEVICE
    Then it fails with -EINVAL
    And the warnings are CONTRACT_IOVA_USE_AFTER_FREE
    When the kernel calls iommu_iova_to_phys with domain nic iova 0xFFFF_F000
    Then the result has phys 0
    When "nic" calls dma_iova_sync with state st offset 0 size 0x1000
    Then it fails with -EINVAL
    And the warnings are CONTRACT_IOVA_USE_AFTER_FREE
    When "nic" calls dma_iova_unlink with state st offset 0 size 0x1000 dir DMA_TO_DEVICE
    Then the warnings are CONTRACT_IOVA_USE_AFTER_FREE
    When "nic" calls dma_iova_free with state st
    Then the warnings are CONTRACT_IOVA_USE_AFTER_FREE
    When "nic" calls dma_iova_destroy with state st mapped_len 0x1000 dir DMA_TO_DEVICE
    Then the warnings are CONTRACT_IOVA_USE_AFTER_FREE
    When the kernel calls iova_info with domain nic
    Then the result has nodes 2

  @U1 @iommu-6.3
  Scenario: CONTRACT_IOVA_NOT_ALLOCATED: a driver that ignores try_alloc's false and links anyway
    The kernel would link at IOVA 0 + offset in a domain the device does not
    translate through. The model refuses every call on such a state.
    Given a device "plain" with dma_mask DMA_BIT_MASK(64)
    When "plain" calls dma_iova_try_alloc with state st phys 0 size 0x1000
    Then the result has value false
    When "plain" calls dma_iova_link with state st phys 0x8000_0000 offset 0 size 0x1000 dir DMA_TO_DEVICE
    Then it fails with -EINVAL
    And the warnings are CONTRACT_IOVA_NOT_ALLOCATED
    When "plain" calls dma_iova_sync with state st offset 0 size 0x1000
    Then it fails with -EINVAL
    And the warnings are CONTRACT_IOVA_NOT_ALLOCATED
    When "plain" calls dma_iova_destroy with state st mapped_len 0x1000 dir DMA_TO_DEVICE
    Then it succeeds
    And the warnings are CONTRACT_IOVA_NOT_ALLOCATED

  @U1 @iommu-6.3
  Scenario: CONTRACT_IOVA_WRONG_DEVICE: a state allocated for one device, linked through another device's domain
    Given a device "nic2" with iommu smmu dma_mask DMA_BIT_MASK(64)
    When "nic" calls dma_iova_try_alloc with state st phys 0 size 0x1000
    And "nic2" calls dma_iova_link with state st phys 0x8000_0000 offset 0 size 0x1000 dir DMA_TO_DEVICE
    Then it fails with -EINVAL
    And the warnings are CONTRACT_IOVA_WRONG_DEVICE
    When the kernel calls iommu_info with domain nic2
    Then the result has leaves 0
    When the kernel calls iommu_info with domain nic
    Then the result has leaves 0

  @U1 @I-D12 @iommu-6.3
  Scenario: Unlinking part of a link is refused, so no byte keeps translating unnoticed
    The kernel would unmap the granules asked for and leave the rest of the
    link mapped; a later dma_iova_free would then free IOVA that still
    translates. The model reports the cut and unlinks nothing.
    When "nic" calls dma_iova_try_alloc with state s phys 0 size 0x3000
    And "nic" calls dma_iova_link with state s phys 0x2000_0000 offset 0 size 0x3000 dir DMA_TO_DEVICE
    And "nic" calls dma_iova_unlink with state s offset 0 size 0x1000 dir DMA_TO_DEVICE
    Then the warnings are CONTRACT_IOVA_UNLINK_RANGE
    When "nic" calls device_read with dma_addr $s size 16
    Then it succeeds
    When "nic" calls dma_iova_unlink with state s offset 0 size 0x3000 dir DMA_TO_DEVICE
    Then there are no warnings
    When "nic" calls dma_iova_free with state s
    Then there are no warnings

  @U1 @iommu-6.3
  Scenario: A first link whose offset in the granule differs from try_alloc's is reported
    When "nic" calls dma_iova_try_alloc with state s phys 0x1000_0200 size 0x1000
    And "nic" calls dma_iova_link with state s phys 0x2000_0400 offset 0 size 0x1000 dir DMA_TO_DEVICE
    Then it fails with -EINVAL
    And the warnings include CONTRACT_IOVA_LINK_PAD_MISMATCH
