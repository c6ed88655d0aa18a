Feature: Falling back to the streaming API: dma_iova_try_alloc returns false where there is no IOMMU-DMA
  The IOVA-based API exists only where dma-iommu translates: dma_iova_try_alloc()
  starts by zeroing the state, and returns false when the device does not use
  IOMMU-DMA (no IOMMU, an identity/passthrough domain, a blocked domain). U1:
  "false means use the normal streaming API". A driver is written as

    if (dma_iova_try_alloc(dev, &state, phys, size)) {
            ... dma_iova_link() × N, dma_iova_sync(), dma_iova_destroy() ...
    } else {
            ... dma_map_phys() per piece, dma_unmap_phys() per piece ...
    }

  and may later test dma_use_iova(&state) (state.__size != 0) to know which
  branch it took. Without CONFIG_IOMMU_DMA the stubs give the same answers.

  dma_need_unmap() (U5, Linux 6.16+) tells a driver whether it may skip its
  dma_unmap_*() calls after an I/O; it must be asked after every mapping it
  covers exists. It is true for every device that is not on the direct path:
  behind an IOMMU, a skipped unmap leaves the IOVA allocated and mapped. On
  the direct path a coherent device that never bounced may skip them when
  dma-debug is not built in.

  The op language has no step for an op the platform refuses: on a platform
  with linux 6.12 these ops are an input error ("the IOVA-based DMA API
  arrived in Linux 6.16"), not a result, so no scenario here shows it.

  Background:
    Given a platform with ram [{base 0x0, size 4G}, {base 0x1_0000_0000, size 4G}] swiotlb {size 64M} dma_debug false
    And the kernel calls iommu_add with name smmu
    And the kernel calls iommu_add with name pt mode identity
    And the kernel calls iommu_add with name off mode blocked
    And the CPU calls cpu_write with phys 0x8000_0100 data {len 12032, seed 9}

  @U1 @I-D12 @iommu-3.11 @iommu-4.1
  Scenario Outline: <device>: try_alloc is false, dma_use_iova is false, and dma_map_phys does the job
    Given a device "dev" <args>
    When "dev" calls dma_iova_try_alloc with state st phys 0x8000_0100 size 0x2F00
    Then the result has value false addr 0
    And there are no warnings
    When the kernel calls dma_use_iova with state st
    Then the result has value false
    When the kernel calls dma_iova_size with state st
    Then the result has size 0 use_swiotlb false
    When "dev" calls dma_map_phys with phys 0x8000_0100 size 0x2F00 dir DMA_TO_DEVICE as buf
    Then the result has dma_addr <dma_addr>
    When "dev" calls device_read with dma_addr $buf size 0x2F00
    Then the result has data {len 12032, seed 9}
    When "dev" calls dma_unmap_phys with dma_addr $buf size 0x2F00 dir DMA_TO_DEVICE
    Then there are no warnings

    Examples:
      | device                           | args                                    | dma_addr    |
      | no IOMMU (dma-direct)            | with dma_mask DMA_BIT_MASK(64)          | 0x8000_0100 |
      | an identity (passthrough) domain | with iommu pt dma_mask DMA_BIT_MASK(64) | 0x8000_0100 |

  @U1 @iommu-3.11 @iommu-4.1
  Scenario: A blocked default domain is not IOMMU-DMA either: try_alloc is false
    Given a device "dev" with iommu off dma_mask DMA_BIT_MASK(64)
    When the kernel calls iommu_info with domain dev
    Then the result has type BLOCKED
    When "dev" calls dma_iova_try_alloc with state st phys 0 size 0x1000
    Then the result has value false addr 0
    When the kernel calls dma_use_iova with state st
    Then the result has value false

  @U1 @I-D12 @iommu-3.11
  Scenario: The same driver code behind a DMA domain takes the IOVA branch: one IOVA, the same bytes
    Given a device "dev" with iommu smmu dma_mask DMA_BIT_MASK(64)
    When "dev" calls dma_iova_try_alloc with state st phys 0x8000_0100 size 0x2F00
    Then the result has value true addr 0xFFFF_C100
    When the kernel calls dma_use_iova with state st
    Then the result has value true
    When "dev" calls dma_iova_link with state st phys 0x8000_0100 offset 0 size 0x2F00 dir DMA_TO_DEVICE
    And "dev" calls dma_iova_sync with state st offset 0 size 0x2F00
    And "dev" calls device_read with dma_addr $st size 0x2F00
    Then the result has data {len 12032, seed 9}
    When "dev" calls dma_iova_destroy with state st mapped_len 0x2F00 dir DMA_TO_DEVICE
    Then there are no warnings

  @U5 @U1 @iommu-3.11 @dma-core-2.5
  Scenario Outline: dma_need_unmap after the I/O is mapped: <device> says <value>
    Asked after the mappings exist, as U5 requires. Behind the DMA domain the
    answer is true whatever the device's coherence, and whichever API mapped
    the I/O; the coherent direct and passthrough devices, with dma-debug off,
    may skip their unmaps.
    Given a device "dev" <args>
    When "dev" calls dma_set_mask with mask DMA_BIT_MASK(64)
    And "dev" calls dma_iova_try_alloc with state st phys 0x8000_0100 size 0x2F00
    Then the result has value <iova>
    When "dev" calls dma_map_phys with phys 0x8000_0100 size 0x2F00 dir DMA_TO_DEVICE
    And "dev" calls dma_need_unmap
    Then the result has value <value>

    Examples:
      | device                           | args                                      | iova  | value |
      | a coherent device behind smmu    | with iommu smmu dma_mask DMA_BIT_MASK(64) | true  | true  |
      | a coherent device, no IOMMU      | with dma_mask DMA_BIT_MASK(64)            | false | false |
      | a coherent device in passthrough | with iommu pt dma_mask DMA_BIT_MASK(64)   | false | false |
