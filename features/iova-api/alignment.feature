Feature: The IOVA-based API's alignment rules: only the first link may start inside a granule, only the last may end inside one
  Documentation/core-api/dma-api.rst Part Ie states the rules in terms of the
  merge boundary, dma_get_merge_boundary() = G - 1 behind an IOMMU (U1):
  every link but the first starts on it, every range but the last has a size
  aligned to it. What dma_iova_link() does (iommu.md §3.11 step 6):

  - try_alloc(phys, size) keeps pad(phys) = phys mod G in state.addr, and
    reserves align_up(size + pad, G) bytes of IOVA.
  - The link at offset 0 may start at any phys, but with the same pad as
    try_alloc: it maps IOVA state.addr - pad(phys), which is on a granule
    only when the two pads agree. Otherwise iommu_map_nosync() refuses the
    unaligned IOVA with -EINVAL, so the kernel itself catches this misuse
    (iommu.md §6.3); the model reports the kernel's -EINVAL.
  - A link at offset > 0 with an unaligned phys is -EIO (WARN_ON_ONCE); one
    whose IOVA state.addr + offset is not on a granule is -EINVAL.
  - A link whose end is not on a granule maps the whole last granule
    (align_up(size + pad, G)), so it must be the last: a following link at
    the granule it ends in is -EEXIST, one right after its last byte -EINVAL.

  A trusted device is not bounced: the granules around an unaligned first
  or last piece are mapped in place, and the device can reach the bytes
  around the buffer in them (the padding exposure of single.feature).

  Background:
    Given a platform with ram [{base 0x0, size 4G}, {base 0x1_0000_0000, size 4G}] swiotlb {size 64M} dma_debug false
    And the kernel calls iommu_add with name smmu mode strict
    And a device "nic" with iommu smmu dma_mask DMA_BIT_MASK(64)

  @I-D1 @I-D2 @I-D12 @U1 @iommu-3.11
  Scenario: An unaligned first buffer: state.addr 0xFFFF_C100 keeps its offset 0x100, and the next piece starts on the granule
    0xF00 bytes at 0x8000_0100 fill the rest of their granule, then 0x2000
    bytes at 0x9000_0000 follow at offset 0xF00 = IOVA 0xFFFF_D000. try_alloc
    needed align_up(0x2F00 + 0x100) = 3 pages, rounded to 4 at 0xFFFF_C000.
    The device sees the two buffers back to back from state.addr, and the
    0x100 bytes before state.addr are the buffer's neighbours in RAM.
    When the CPU calls cpu_write with phys 0x8000_0000 data {len 256, fill 0x5A}
    And the CPU calls cpu_write with phys 0x8000_0100 data {len 3840, seed 1}
    And the CPU calls cpu_write with phys 0x9000_0000 data {len 8192, seed 2}
    And "nic" calls dma_iova_try_alloc with state st phys 0x8000_0100 size 0x2F00
    Then the result has value true addr 0xFFFF_C100
    When "nic" calls dma_iova_link with state st phys 0x8000_0100 offset 0 size 0xF00 dir DMA_TO_DEVICE
    Then it succeeds
    When "nic" calls dma_iova_link with state st phys 0x9000_0000 offset 0xF00 size 0x2000 dir DMA_TO_DEVICE
    Then it succeeds
    And there are no warnings
    When "nic" calls dma_iova_sync with state st offset 0 size 0x2F00
    And "nic" calls device_read with dma_addr $st size 0xF00
    Then the result has data {len 3840, seed 1}
    When "nic" calls device_read with dma_addr $st+0xF00 size 0x2000
    Then the result has data {len 8192, seed 2}
    When "nic" calls device_read with dma_addr $st-0x100 size 0x100
    Then the result has data {len 256, fill 0x5A}
    When the kernel calls iommu_iova_to_phys with domain nic iova 0xFFFF_D000
    Then the result has phys 0x9000_0000
    When the kernel calls dma_iova_size with state st
    Then the result has size 0x2F00 use_swiotlb false
    When "nic" calls dma_iova_destroy with state st mapped_len 0x2F00 dir DMA_TO_DEVICE
    Then there are no warnings
    When the kernel calls iommu_info with domain nic
    Then the result has leaves 0

  @I-D2 @U1 @iommu-3.11
  Scenario Outline: The first link must use try_alloc's offset in the granule: phys <phys> after try_alloc(0x100) is <result>
    Given "nic" calls dma_iova_try_alloc with state st phys 0x100 size 0x1000
    When "nic" calls dma_iova_link with state st phys <phys> offset 0 size 0x1000 dir DMA_TO_DEVICE
    Then <result>
    When the kernel calls iommu_iova_to_phys with domain nic iova 0xFFFF_E000
    Then the result has phys <translation>

    Examples:
      | phys        | result                | translation |
      | 0x8000_0100 | it succeeds           | 0x8000_0000 |
      | 0x8000_0000 | it fails with -EINVAL | 0           |
      | 0x8000_0200 | it fails with -EINVAL | 0           |

  @U1 @iommu-3.11
  Scenario: Only the link at offset 0 may start inside a granule: phys 0x9000_0100 at offset 0x1000 is -EIO, and the state stays usable
    dma_iova_link() refuses before touching anything; the same piece aligned
    is linked without complaint afterwards.
    When "nic" calls dma_iova_try_alloc with state st phys 0 size 0x2000
    And "nic" calls dma_iova_link with state st phys 0x8000_0000 offset 0 size 0x1000 dir DMA_TO_DEVICE
    And "nic" calls dma_iova_link with state st phys 0x9000_0100 offset 0x1000 size 0xF00 dir DMA_TO_DEVICE
    Then it fails with -EIO
    And the warnings are WARN_IOVA_LINK_UNALIGNED
    And the warning WARN_IOVA_LINK_UNALIGNED says "0x90000100"
    When the kernel calls iommu_info with domain nic
    Then the result has leaves 1 map_pages 1
    When "nic" calls dma_iova_link with state st phys 0x9000_0000 offset 0x1000 size 0x1000 dir DMA_TO_DEVICE
    Then it succeeds
    And there are no warnings

  @S3.13 @I-D3 @U1 @iommu-3.11
  Scenario Outline: After a 0x1800-byte link at offset 0, a link at offset <offset> is <result>: <why>
    The first link's rounded-up tail maps the granule 0xFFFF_D000 to
    0x8000_1000, so it had to be the last link.
    Given "nic" calls dma_iova_try_alloc with state st phys 0 size 0x4000
    And "nic" calls dma_iova_link with state st phys 0x8000_0000 offset 0 size 0x1800 dir DMA_TO_DEVICE
    When "nic" calls dma_iova_link with state st phys 0x9000_0000 offset <offset> size 0x1000 dir DMA_TO_DEVICE
    Then <result>
    And the warnings are <warnings>
    When the kernel calls iommu_iova_to_phys with domain nic iova 0xFFFF_D000
    Then the result has phys 0x8000_1000

    Examples:
      | offset | result                | why                                         | warnings                                         |
      | 0x1000 | it fails with -EEXIST | the granule is mapped by the earlier link   | CONTRACT_IOVA_LINK_OVERLAP, WARN_ARM_LPAE_EEXIST |
      | 0x1800 | it fails with -EINVAL | IOVA 0xFFFF_D800 is not on a granule        | WARN_IOMMU_UNALIGNED_MAP                         |
      | 0x2000 | it succeeds           | the next granule, leaving 0x800 unused IOVA | none                                             |
