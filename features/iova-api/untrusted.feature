Feature: The IOVA-based API for untrusted devices: unaligned heads and tails are bounced, the middle is linked in place
  For a device where dev_use_swiotlb() holds (an untrusted PCI device,
  pci_dev->untrusted), dma_iova_link() of a piece whose phys or size is not
  on a granule goes to iommu_dma_iova_link_swiotlb() (iommu.md §3.11 step 5),
  with sp = pad(phys) and ep = pad(phys + size):

    head    if sp != 0: bounce min(size, G - sp) bytes, link the bounce granule
            [addr - sp, +G) to [bounce - sp, +G); bounce failure is -ENOMEM
    middle  the granule-aligned rest, linked in place
    tail    if ep != 0: bounce the last ep bytes, link at the next granule
    each bounce sets DMA_IOVA_USE_SWIOTLB (bit 63 of state.__size); on a
    middle or tail failure, what this call linked is unlinked again.

  The bounce goes through iommu_dma_map_swiotlb(), the helper of
  iommu_dma_map_phys(): for an untrusted device the bytes of the bounce
  granule before and after the data are zeroed, so the device never sees
  leftover kernel data in the pool (untrusted.feature of dma-iommu).
  dma_iova_size() still reports the try_alloc size (I-D12); unlink and
  destroy walk a bounced state granule by granule, copy back for
  DMA_FROM_DEVICE and release the slots (iommu.md §3.11 unlink step 2).

  The head link needs the bounce slot to keep the buffer's offset in the
  granule, and swiotlb keeps only orig & min_align_mask & (G - 1) of it.
  iommu.md §7 item 2 leaves open what happens with a small min_align_mask;
  the model follows the digest's reading of the code: the bounce granule is
  not aligned, iommu_map_nosync() refuses it, and the link is -EINVAL (the
  slot is released). An NVMe-like device with min_align_mask 0xFFF keeps the
  offset and works; an unaligned tail after an aligned start works for both.

  iommu.md §7 item 1: the 6.16 text of this path was not checked, and the
  v5 patch differs from 7.2 in three ways. The model follows 7.2: a failed
  middle or tail unlinks what this call mapped from the link's own offset
  (v5: from 0, taking earlier links with it); a middle of zero length is
  skipped (v5 did not check); and the unlink walk over a bounced state stops
  with a warning at a granule that translates to nothing (v5 could spin).

  The IOMMU's default mode is lazy, but an untrusted device always gets a
  strict DMA domain (iommu.md §4.1). The 1 MiB swiotlb pool at 0x7000_0000
  starts out full of stale bytes (0xEE).

  Background:
    Given a platform with ram [{base 0x0, size 4G}, {base 0x1_0000_0000, size 4G}] swiotlb {size 1M, base 0x7000_0000} dma_debug false
    And the kernel calls iommu_add with name tbt mode lazy
    And a device "nvme" with iommu tbt dma_mask DMA_BIT_MASK(64) untrusted true min_align_mask 0xFFF
    And a device "ext" with iommu tbt dma_mask DMA_BIT_MASK(64) untrusted true
    And the CPU calls cpu_write with phys 0x7000_0000 data {len 1048576, fill 0xEE}
    And the CPU calls cpu_write with phys 0x8000_0000 data {len 12288, fill 0xDD}

  @I-D1 @I-D2 @I-D12 @U1 @iommu-3.11 @iommu-3.6
  Scenario: 0x2000 bytes at 0x8000_0100: head 0xF00 and tail 0x100 bounced, the page between linked in place, padding zeroed
    try_alloc: align_up(0x2000 + 0x100) = 3 pages, rounded to 4 at
    0xFFFF_C000, state.addr 0xFFFF_C100. The head granule translates into
    the pool at offset 0x100 (min_align_mask 0xFFF kept it), the middle
    straight to 0x8000_1000, the tail granule into the pool again. The
    device reads exactly the buffer; the 0x100 bytes before it and the 0xF00
    after it are zeros, not the pool's 0xEE nor the buffer's neighbours.
    When the CPU calls cpu_write with phys 0x8000_0100 data {len 8192, seed 7}
    And "nvme" calls dma_iova_try_alloc with state st phys 0x8000_0100 size 0x2000
    Then the result has value true addr 0xFFFF_C100
    When "nvme" calls dma_iova_link with state st phys 0x8000_0100 offset 0 size 0x2000 dir DMA_TO_DEVICE
    Then it succeeds
    And there are no warnings
    When the kernel calls dma_iova_size with state st
    Then the result has size 0x2000 use_swiotlb true
    When the kernel calls dma_use_iova with state st
    Then the result has value true
    When the kernel calls iommu_iova_to_phys with domain nvme iova $st
    Then the result's phys is in the swiotlb pool
    And the result's phys & 0xFFF is 0x100
    When the kernel calls iommu_iova_to_phys with domain nvme iova $st+0xF00
    Then the result has phys 0x8000_1000
    When the kernel calls iommu_iova_to_phys with domain nvme iova $st+0x1F00
    Then the result's phys is in the swiotlb pool
    When "nvme" calls dma_iova_sync with state st offset 0 size 0x2000
    And "nvme" calls device_read with dma_addr $st size 0x2000
    Then the result has data {len 8192, seed 7}
    When "nvme" calls device_read with dma_addr $st-0x100 size 0x100
    Then the result has data {len 256, fill 0}
    When "nvme" calls device_read with dma_addr $st+0x2000 size 0xF00
    Then the result has data {len 3840, fill 0}
    When "nvme" calls dma_iova_destroy with state st mapped_len 0x2000 dir DMA_TO_DEVICE
    Then there are no warnings
    When the kernel calls swiotlb_info
    Then the result has used 0
    When the kernel calls iommu_info with domain nvme
    Then the result has type DMA leaves 0 iotlb_syncs 1 fq_pending 0

  @I-D1 @SWIOTLB-NO-LEAK @U1 @iommu-3.11
  Scenario: DMA_FROM_DEVICE: the device fills the three granules; destroy copies back exactly the 0x2000 bytes of the buffer
    The device owns the whole bounce granules and the middle page, but the
    unlink walk copies back only the bounced parts of the buffer: the
    buffer's neighbours at 0x8000_0000 and 0x8000_2100 keep their 0xDD.
    When "nvme" calls dma_iova_try_alloc with state rx phys 0x8000_0100 size 0x2000
    And "nvme" calls dma_iova_link with state rx phys 0x8000_0100 offset 0 size 0x2000 dir DMA_FROM_DEVICE
    And "nvme" calls dma_iova_sync with state rx offset 0 size 0x2000
    And "nvme" calls device_write with dma_addr $rx-0x100 data {len 12288, fill 0x99}
    Then it succeeds
    When "nvme" calls dma_iova_destroy with state rx mapped_len 0x2000 dir DMA_FROM_DEVICE
    Then there are no warnings
    When the CPU calls cpu_read with phys 0x8000_0100 size 0x2000
    Then the result has data {len 8192, fill 0x99}
    When the CPU calls cpu_read with phys 0x8000_0000 size 0x100
    Then the result has data {len 256, fill 0xDD}
    When the CPU calls cpu_read with phys 0x8000_2100 size 0xF00
    Then the result has data {len 3840, fill 0xDD}
    When the kernel calls swiotlb_info
    Then the result has used 0

  @I-D1 @I-D12 @U1 @iommu-3.11 @iommu-3.6
  Scenario Outline: <piece>: use_swiotlb is set, the device reads the data, and <slots> swiotlb slot(s) are released by the unlink
    A piece inside one granule is all head: min(size, G - sp) covers it,
    and the link returns before the middle and tail steps. Each bounce
    takes a whole granule of the pool, 2 slots of 2 KiB: swiotlb allocates
    ALIGN(size + offset, alloc_align_mask + 1) with the granule mask.
    When the CPU calls cpu_write with phys <phys> data {len <len>, seed 4}
    And "nvme" calls dma_iova_try_alloc with state st phys <phys> size <size>
    And "nvme" calls dma_iova_link with state st phys <phys> offset 0 size <size> dir DMA_TO_DEVICE
    Then it succeeds
    When the kernel calls dma_iova_size with state st
    Then the result has size <size> use_swiotlb true
    When the kernel calls iommu_iova_to_phys with domain nvme iova $st
    Then the result's phys <first> in the swiotlb pool
    When the kernel calls swiotlb_info
    Then the result has used <slots>
    When "nvme" calls dma_iova_sync with state st offset 0 size <size>
    And "nvme" calls device_read with dma_addr $st size <size>
    Then the result has data {len <len>, seed 4}
    When "nvme" calls dma_iova_unlink with state st offset 0 size <size> dir DMA_TO_DEVICE
    And the kernel calls swiotlb_info
    Then the result has used 0

    Examples:
      | piece                                     | phys        | size   | len  | first  | slots |
      | a head only: 0xF00 bytes ending on a page | 0x8000_0100 | 0xF00  | 3840 | is     | 2     |
      | a tail only: 0x1100 bytes from a page     | 0x8000_0000 | 0x1100 | 4352 | is not | 2     |
      | 0x200 bytes inside one granule            | 0x8000_0100 | 0x200  | 512  | is     | 2     |

  @I-D2 @U1 @iommu-3.11 @iommu-7
  Scenario: min_align_mask 0 (iommu.md §7 item 2, the model's reading): an unaligned head cannot be linked, -EINVAL, and its slot is released
    The bounce slot is granule-aligned, so the granule the head link would
    map starts at bounce - 0x100: not on a granule. dma_iova_link() returns
    the page-table layer's -EINVAL and no slot stays in use.
    When "ext" calls dma_iova_try_alloc with state st phys 0x8000_0100 size 0x2000
    Then the result has addr 0xFFFF_C100
    When "ext" calls dma_iova_link with state st phys 0x8000_0100 offset 0 size 0x2000 dir DMA_TO_DEVICE
    Then it fails with -EINVAL
    And the warnings are WARN_IOMMU_UNALIGNED_MAP
    When the kernel calls swiotlb_info
    Then the result has used 0
    When the kernel calls dma_iova_size with state st
    Then the result has size 0x2000 use_swiotlb false

  @I-D1 @I-D12 @U1 @iommu-3.11 @iommu-3.6
  Scenario: min_align_mask 0, aligned start: only the 0x800-byte tail is bounced, and the rest of its granule reads as zeros
    When the CPU calls cpu_write with phys 0x8000_0000 data {len 6144, seed 3}
    And "ext" calls dma_iova_try_alloc with state st phys 0 size 0x3000
    Then the result has addr 0xFFFF_C000
    When "ext" calls dma_iova_link with state st phys 0x8000_0000 offset 0 size 0x1800 dir DMA_TO_DEVICE
    Then it succeeds
    When the kernel calls dma_iova_size with state st
    Then the result has size 0x3000 use_swiotlb true
    When the kernel calls iommu_iova_to_phys with domain ext iova $st
    Then the result has phys 0x8000_0000
    When the kernel calls iommu_iova_to_phys with domain ext iova $st+0x1000
    Then the result's phys is in the swiotlb pool
    When "ext" calls dma_iova_sync with state st offset 0 size 0x1800
    And "ext" calls device_read with dma_addr $st size 0x1800
    Then the result has data {len 6144, seed 3}
    When "ext" calls device_read with dma_addr $st+0x1800 size 0x800
    Then the result has data {len 2048, fill 0}
    When the kernel calls swiotlb_info
    Then the result's used is at least 1
    When "ext" calls dma_iova_destroy with state st mapped_len 0x1800 dir DMA_TO_DEVICE
    And the kernel calls swiotlb_info
    Then the result has used 0

  @I-D1 @U1 @iommu-3.11 @iommu-3.6
  Scenario: An aligned piece is not bounced even for an untrusted device: use_swiotlb stays false
    Nothing else shares its granules, so there is nothing to hide.
    When "ext" calls dma_iova_try_alloc with state st phys 0 size 0x2000
    And "ext" calls dma_iova_link with state st phys 0x8000_0000 offset 0 size 0x2000 dir DMA_TO_DEVICE
    Then it succeeds
    When the kernel calls dma_iova_size with state st
    Then the result has size 0x2000 use_swiotlb false
    When the kernel calls iommu_iova_to_phys with domain ext iova $st+0x1000
    Then the result has phys 0x8000_1000
    When the kernel calls swiotlb_info
    Then the result has used 0

  @I-D4 @U1 @iommu-3.11
  Scenario: Unlinking a bounced piece releases its slot at once; the state keeps DMA_IOVA_USE_SWIOTLB
    The flag records that some piece bounced; unlink does not clear it, and
    neither does free. Unlink and free on a bounced state still go strictly
    through the IOTLB, and the IOVA is reusable at once.
    When "ext" calls dma_iova_try_alloc with state st phys 0 size 0x2000
    And "ext" calls dma_iova_link with state st phys 0x8000_0000 offset 0 size 0x1000 dir DMA_BIDIRECTIONAL
    And "ext" calls dma_iova_link with state st phys 0x9000_0000 offset 0x1000 size 0x200 dir DMA_BIDIRECTIONAL
    And the kernel calls swiotlb_info
    Then the result's used is at least 1
    When "ext" calls dma_iova_unlink with state st offset 0x1000 size 0x200 dir DMA_BIDIRECTIONAL
    Then there are no warnings
    When the kernel calls swiotlb_info
    Then the result has used 0
    When the kernel calls dma_iova_size with state st
    Then the result has use_swiotlb true
    When "ext" calls dma_iova_unlink with state st offset 0 size 0x1000 dir DMA_BIDIRECTIONAL
    And "ext" calls dma_iova_free with state st
    Then there are no warnings
    When the kernel calls iommu_info with domain ext
    Then the result has leaves 0 iotlb_syncs 2 fq_pending 0

  @I-D4 @U1 @iommu-3.11 @iommu-7
  Scenario: A failed tail bounce unlinks only what that link mapped, from its own offset (7.2); the link before it survives
    The pool is exhausted by a streaming map. The first link, an aligned
    page at offset 0, needs no bounce. The second, 0x1800 bytes at offset
    0x1000, maps its aligned page, fails to bounce its tail, and unlinks
    [0x1000, +0x1000) again: the page at offset 0 still translates.
    Given a platform with ram [{base 0x0, size 4G}] swiotlb {size 256K, base 0x7000_0000} dma_debug false
    And the kernel calls iommu_add with name tbt
    And a device "ext" with iommu tbt dma_mask DMA_BIT_MASK(64) untrusted true
    When "ext" calls dma_map_phys with phys 0x9000_0000 size 0x3FF00 dir DMA_TO_DEVICE
    And "ext" calls dma_iova_try_alloc with state st phys 0 size 0x3000
    And "ext" calls dma_iova_link with state st phys 0x8000_0000 offset 0 size 0x1000 dir DMA_TO_DEVICE
    Then it succeeds
    When "ext" calls dma_iova_link with state st phys 0xA000_0000 offset 0x1000 size 0x1800 dir DMA_TO_DEVICE
    Then it fails with -ENOMEM
    When the kernel calls iommu_iova_to_phys with domain ext iova $st+0x1000
    Then the result has phys 0
    When the kernel calls iommu_iova_to_phys with domain ext iova $st
    Then the result has phys 0x8000_0000

  @U1 @iommu-3.11 @iommu-7
  Scenario: Unlinking a range that is not linked, on a bounced state: the granule walk warns at the first empty granule and stops (7.2)
    The state bounced (its first link is 0x800 bytes), so unlink takes the
    slow path that looks every granule up to release bounce slots. At
    0xFFFF_D000 iommu_iova_to_phys() is 0: one warning, the walk ends, the
    unmap then finds nothing either. The bounced link's slots stay in use
    until its own unlink.
    When "ext" calls dma_iova_try_alloc with state st phys 0 size 0x3000
    And "ext" calls dma_iova_link with state st phys 0x8000_0000 offset 0 size 0x800 dir DMA_TO_DEVICE
    And "ext" calls dma_iova_unlink with state st offset 0x1000 size 0x1000 dir DMA_TO_DEVICE
    Then it succeeds
    And the warnings include WARN_IOVA_UNLINK_UNMAPPED, WARN_IOMMU_DMA_UNMAP_SHORT
    And the warning WARN_IOVA_UNLINK_UNMAPPED says "0xffffd000"
    When the kernel calls swiotlb_info
    Then the result has used 2
    When "ext" calls dma_iova_unlink with state st offset 0 size 0x800 dir DMA_TO_DEVICE
    Then there are no warnings
    When the kernel calls swiotlb_info
    Then the result has used 0
