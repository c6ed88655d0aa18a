Feature: Untrusted devices: bounce what is not granule-aligned, zero the padding, never defer, never merge
  An IOMMU maps whole granules, so a device can reach the bytes around its
  buffer (single.feature, "padding exposure"). For a trusted device that is
  accepted; for a PCI device marked untrusted (an external Thunderbolt or
  hot-plug port, pci_dev->untrusted) it is not:

  - iommu_dma_map_page() bounces the buffer through swiotlb whenever phys or
    size is not a multiple of the granule (dev_use_swiotlb() and
    iova_offset(phys | size)), and zeroes the rest of the bounce granule(s) -
    "Untrusted devices should not see padding areas with random leftover
    kernel data". The bounce slot is granule-aligned plus
    orig & min_align_mask & (G - 1), so with min_align_mask 0 the handle's low
    bits are 0, not the buffer's offset (I-D2). Aligned buffers are mapped in
    place: there is nothing else in their granules.
  - The default domain of a group with an untrusted device is always strict
    (DMA), whatever iommu.strict says: no stale IOTLB window (iommu.md §4.1).
  - dma_map_sg() takes the per-entry path (iommu_dma_map_sg_swiotlb): every
    entry is mapped on its own with its own IOVA, so nothing is merged.
  - dma_max_mapping_size() is swiotlb_max_mapping_size(): 256 KiB, less
    min_align_mask rounded up to a slot.

  Here the IOMMU's default mode is lazy, to show that it does not apply; the
  swiotlb pool is 1 MiB at 0x7000_0000 and starts out full of stale bytes
  (0xEE), as a pool that has been used before would be.

  Background:
    Given a platform with ram [{base 0x0, size 4G}, {base 0x1_0000_0000, size 4G}] swiotlb {size 1M, base 0x7000_0000} dma_debug false
    And the kernel calls iommu_add with name tbt mode lazy
    And a device "ext" with iommu tbt dma_mask DMA_BIT_MASK(64) untrusted true
    And the CPU calls cpu_write with phys 0x7000_0000 data {len 1048576, fill 0xEE}

  @S3.11 @I-D1 @I-D2 @iommu-3.6
  Scenario: S3.11: an unaligned 0x200-byte buffer is bounced; the device sees the data, then zeros to the end of the granule
    The handle is 0xFFFF_F000: granule-aligned, the offset 0x100 is gone. It
    translates to a bounce slot, not to the buffer, and the 0xE00 bytes after
    the data were zeroed over the pool's stale contents.
    When the CPU calls cpu_write with phys 0x8000_0000 data {len 4096, fill 0xDD}
    And the CPU calls cpu_write with phys 0x8000_0100 data {len 512, seed 5}
    And "ext" calls dma_map_page with phys 0x8000_0100 size 0x200 dir DMA_TO_DEVICE as t
    Then the result has dma_addr 0xFFFF_F000
    And the result's dma_addr & 0xFFF is 0
    When the kernel calls iommu_iova_to_phys with domain ext iova $t
    Then the result's phys is in the swiotlb pool
    When "ext" calls device_read with dma_addr $t size 0x200
    Then the result has data {len 512, seed 5}
    When "ext" calls device_read with dma_addr $t+0x200 size 0xE00
    Then the result has data {len 3584, fill 0}

  @S3.11 @I-D2 @iommu-3.6
  Scenario: With min_align_mask 0xFFF the bounce keeps the offset, and the padding before the data is zeroed too
    An NVMe-like device needs the low 12 bits preserved: the slot is placed at
    granule + 0x100, the handle is 0xFFFF_F100, and both the 0x100 bytes
    before and the 0xD00 bytes after the data read as zeros.
    Given a device "nvme" with iommu tbt dma_mask DMA_BIT_MASK(64) untrusted true min_align_mask 0xFFF
    When the CPU calls cpu_write with phys 0x8000_0100 data {len 512, seed 5}
    And "nvme" calls dma_map_page with phys 0x8000_0100 size 0x200 dir DMA_TO_DEVICE as t
    Then the result has dma_addr 0xFFFF_F100
    When "nvme" calls device_read with dma_addr $t-0x100 size 0x100
    Then the result has data {len 256, fill 0}
    When "nvme" calls device_read with dma_addr $t size 0x200
    Then the result has data {len 512, seed 5}
    When "nvme" calls device_read with dma_addr $t+0x200 size 0xD00
    Then the result has data {len 3328, fill 0}

  @S3.11 @I-D1 @I-D2 @iommu-3.6
  Scenario Outline: phys <phys>, size <size>: <what>
    Only buffers that both start and end on a granule are mapped in place.
    When "ext" calls dma_map_page with phys <phys> size <size> dir DMA_TO_DEVICE as t
    Then the result has dma_addr <handle>
    When the kernel calls iommu_iova_to_phys with domain ext iova $t
    Then the result's phys <pool> in the swiotlb pool
    When the kernel calls swiotlb_info
    Then the result has used <slots>

    Examples:
      | phys        | size   | what                                  | handle      | pool   | slots |
      | 0x8000_0000 | 0x1000 | aligned: mapped in place              | 0xFFFF_F000 | is not | 0     |
      | 0x8000_0000 | 0x3000 | aligned, 3 pages: mapped in place     | 0xFFFF_C000 | is not | 0     |
      | 0x8000_0000 | 0x800  | aligned start, short end: bounced     | 0xFFFF_F000 | is     | 2     |
      | 0x8000_0800 | 0x800  | ends on the granule, starts inside it | 0xFFFF_F000 | is     | 2     |

  @S3.11 @I-D1 @I-D2 @SWIOTLB-NO-LEAK @iommu-3.6 @iommu-3.7
  Scenario: A device writing past its bounced buffer cannot reach the kernel's memory next to it
    The device owns the whole bounce granule and fills it, but the unmap
    copies back exactly the 0x200 mapped bytes: the neighbours at
    0x8000_0000 and 0x8000_0300 keep their contents.
    When the CPU calls cpu_write with phys 0x8000_0000 data {len 4096, fill 0xDD}
    And "ext" calls dma_map_page with phys 0x8000_0100 size 0x200 dir DMA_FROM_DEVICE as rx
    And "ext" calls device_write with dma_addr $rx data {len 4096, fill 0x99}
    Then it succeeds
    When "ext" calls dma_unmap_page with dma_addr $rx size 0x200 dir DMA_FROM_DEVICE
    And the CPU calls cpu_read with phys 0x8000_0100 size 0x200
    Then the result has data {len 512, fill 0x99}
    When the CPU calls cpu_read with phys 0x8000_0000 size 0x100
    Then the result has data {len 256, fill 0xDD}
    When the CPU calls cpu_read with phys 0x8000_0300 size 0xD00
    Then the result has data {len 3328, fill 0xDD}
    When the kernel calls swiotlb_info
    Then the result has used 0

  @S3.11 @R18 @R29 @iommu-3.6 @dma-core-2.4
  Scenario: dma_sync_single_for_cpu copies the device's bytes out of the bounce slot while the mapping lives
    When the CPU calls cpu_write with phys 0x8000_0100 data {len 512, fill 0}
    And "ext" calls dma_map_page with phys 0x8000_0100 size 0x200 dir DMA_FROM_DEVICE as rx
    And "ext" calls device_write with dma_addr $rx data {len 512, seed 12}
    And the CPU calls cpu_read with phys 0x8000_0100 size 0x200
    Then the result has data {len 512, fill 0}
    When "ext" calls dma_sync_single_for_cpu with dma_addr $rx size 0x200 dir DMA_FROM_DEVICE
    And the CPU calls cpu_read with phys 0x8000_0100 size 0x200
    Then the result has data {len 512, seed 12}

  @S3.11 @I-D4 @iommu-4.1
  Scenario: On an IOMMU whose default is lazy, the untrusted device still gets a strict DMA domain
    Its unmaps are synced at once: no flush-queue entry, no stale translation.
    Given a device "nic" with iommu tbt dma_mask DMA_BIT_MASK(64)
    When the kernel calls iommu_info with domain nic
    Then the result has type DMA_FQ
    When the kernel calls iommu_info with domain ext
    Then the result has type DMA
    When "ext" calls dma_map_page with phys 0x8000_0000 size 4K dir DMA_TO_DEVICE as a
    And "ext" calls device_read with dma_addr $a size 4
    And "ext" calls dma_unmap_page with dma_addr $a size 4K dir DMA_TO_DEVICE
    And "ext" calls device_read with dma_addr $a size 4
    Then the device faults
    When the kernel calls iommu_info with domain ext
    Then the result has fq_pending 0 iotlb_entries 0 iotlb_syncs 1

  @S3.11 @I-D10 @iommu-3.8
  Scenario: An untrusted device's scatterlist is never merged: each entry gets its own IOVA
    Two physically contiguous, aligned pages would be one segment for a
    trusted device. Here each is mapped by iommu_dma_map_page(): two IOVAs
    (allocated top-down), two segments, neither bounced; the unaligned third
    entry is bounced on its own. The first entry carries the kernel's
    sg_dma_mark_swiotlb() flag, which tells dma_unmap_sg() and the syncs to
    undo the list entry by entry.
    When "ext" calls dma_map_sg with sg [{phys 0x1000_0000, length 4K}, {phys 0x1000_1000, length 4K}, {phys 0x2000_0200, length 0x800}] dir DMA_TO_DEVICE as s
    Then the result has nents 3
    And the result has sg [{phys "0x10000000", length "0x1000", dma_address "0xfffff000", dma_length "0x1000"}, {phys "0x10001000", length "0x1000", dma_address "0xffffe000", dma_length "0x1000"}, {phys "0x20000200", length "0x800", dma_address "0xffffd000", dma_length "0x800"}]
    When the kernel calls iommu_iova_to_phys with domain ext iova $s[1]
    Then the result has phys 0x1000_1000
    When the kernel calls iommu_iova_to_phys with domain ext iova $s[2]
    Then the result's phys is in the swiotlb pool
    When "ext" calls dma_unmap_sg with sg $s dir DMA_TO_DEVICE
    Then there are no warnings
    When the kernel calls swiotlb_info
    Then the result has used 0
    When the kernel calls iommu_info with domain ext
    Then the result has leaves 0

  @S3.11 @S3.15 @R11 @iommu-3.9
  Scenario Outline: dma_max_mapping_size for <device> is <max>; dma_opt_mapping_size is 131072 for all
    Given a device "dev" with iommu tbt dma_mask DMA_BIT_MASK(64) <args>
    When "dev" calls dma_max_mapping_size
    Then the result has size <max>
    When "dev" calls dma_opt_mapping_size
    Then the result has size 131072

    Examples:
      | device                         | args                                | max                   |
      | a trusted device               | untrusted false                     | 0xFFFF_FFFF_FFFF_FFFF |
      | an untrusted device            | untrusted true                      | 262144                |
      | an untrusted NVMe (mask 0xFFF) | untrusted true min_align_mask 0xFFF | 258048                |

  @S3.11 @R11 @iommu-3.6 @iommu-3.9
  Scenario: The limit only matters for unaligned buffers: 300 KiB aligned maps in place, 300 KiB unaligned cannot be bounced
    dma_max_mapping_size() is conservative: an aligned buffer is never
    bounced, so it may be larger than 256 KiB. The unaligned one needs 150
    slots, more than one swiotlb segment holds.
    When "ext" calls dma_map_page with phys 0x9000_0000 size 300K dir DMA_TO_DEVICE
    Then it succeeds
    When "ext" calls dma_map_page with phys 0x9010_0100 size 300K dir DMA_TO_DEVICE
    Then it fails with DMA_MAPPING_ERROR
    And the warnings are WARN_SWIOTLB_FULL

  @S3.11 @R11 @iommu-3.6 @iommu-3.9
  Scenario: Without an active bounce pool, unaligned buffers cannot be mapped at all; aligned ones still can
    iommu_dma_map_page() checks is_swiotlb_active() only when it has to
    bounce: "DMA bounce buffers are inactive, unable to map unaligned
    transaction." dma_max_mapping_size() does not look at the pool and still
    reports the swiotlb bound.
    Given a platform with ram [{base 0x0, size 4G}] dma_debug false
    And the kernel calls iommu_add with name tbt
    And a device "ext" with iommu tbt dma_mask DMA_BIT_MASK(64) untrusted true
    When "ext" calls dma_map_page with phys 0x8000_0100 size 0x200 dir DMA_TO_DEVICE
    Then it fails with DMA_MAPPING_ERROR
    And the warnings are WARN_SWIOTLB_INACTIVE_UNALIGNED
    When "ext" calls dma_map_page with phys 0x8000_0000 size 4K dir DMA_TO_DEVICE
    Then the result has dma_addr 0xFFFF_F000
    When "ext" calls dma_max_mapping_size
    Then the result has size 262144
