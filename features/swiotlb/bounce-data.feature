Feature: swiotlb bounce data: what is copied, when, and how much
  A bounced mapping has two copies of the buffer: the driver's original and
  the bounce slot the device really accesses. swiotlb_bounce() copies between
  them:
  - on map, always, orig -> bounce, whatever the direction and even with
    DMA_ATTR_SKIP_CPU_SYNC (swiotlb_tbl_map_single);
  - on sync_single_for_device, orig -> bounce for TO_DEVICE and BIDIRECTIONAL
    only;
  - on sync_single_for_cpu and on unmap (dma_direct_unmap_page runs the full
    sync_for_cpu unless SKIP_CPU_SYNC), bounce -> orig for FROM_DEVICE and
    BIDIRECTIONAL only.
  A copy is cut to the bytes the mapping has left from the sync address
  (alloc_size of the slot), with a one-time "Buffer overflow detected"
  warning.

  The unconditional copy on map is the fix for CVE-2022-0854 ("swiotlb: fix
  info leak with DMA_FROM_DEVICE", 5.17, reworked for 5.18 after it broke
  ath9k): the copy back to the CPU always covers the whole mapping, so bytes
  the device does not write would otherwise carry whatever an earlier mapping
  left in the slot into the driver's buffer.

  The machine has 6 GiB of RAM and the default pool; the NIC drives 32 bits,
  so its buffers above 4 GiB are bounced.

  Background:
    Given a platform with ram [{base 0x0, size 4G}, {base 0x1_0000_0000, size 2G}] swiotlb {size 64M}
    And a device "nic" with dma_mask DMA_BIT_MASK(32)

  @INV-S5 @R18 @H20 @dma-core-4.8-5 @dma-core-4.3
  Scenario: A partial device write: unwritten bytes keep the driver's own data
    The device writes only the first 100 bytes of a 4096-byte FROM_DEVICE
    buffer. The unmap copies all 4096 bytes back; because the slot was filled
    from the buffer on map, bytes 100..4095 come back unchanged.
    When the CPU calls cpu_write with phys 0x1_0000_0000 data {len 100, seed 1}
    And the CPU calls cpu_write with phys 0x1_0000_0064 data {len 3996, seed 2}
    And "nic" calls dma_map_single with phys 0x1_0000_0000 size 4K dir DMA_FROM_DEVICE as rx
    Then the result's dma_addr is in the swiotlb pool
    When "nic" calls dma_mapping_error with dma_addr $rx
    And "nic" calls device_write with dma_addr $rx data {len 100, seed 3}
    And "nic" calls dma_unmap_single with dma_addr $rx size 4K dir DMA_FROM_DEVICE
    Then there are no warnings
    When the CPU calls cpu_read with phys 0x1_0000_0000 size 100
    Then the result has data {len 100, seed 3}
    When the CPU calls cpu_read with phys 0x1_0000_0064 size 3996
    Then the result has data {len 3996, seed 2}

  @A2 @dma-core-4.8-5 @dma-core-2.7
  Scenario: Unmap with SKIP_CPU_SYNC copies nothing back: the device's data is lost
    SKIP_CPU_SYNC on unmap leaves the buffer "in the device domain": the slots
    are released without the bounce -> orig copy, and the driver must have
    synced itself. Here it did not, so the buffer is unchanged.
    When the CPU calls cpu_write with phys 0x1_0000_0000 data {len 100, seed 1}
    And the CPU calls cpu_write with phys 0x1_0000_0064 data {len 3996, seed 2}
    And "nic" calls dma_map_single with phys 0x1_0000_0000 size 4K dir DMA_FROM_DEVICE as rx
    And "nic" calls dma_mapping_error with dma_addr $rx
    And "nic" calls device_write with dma_addr $rx data {len 100, seed 3}
    And "nic" calls dma_unmap_single with dma_addr $rx size 4K dir DMA_FROM_DEVICE attrs [DMA_ATTR_SKIP_CPU_SYNC]
    Then there are no warnings
    When the CPU calls cpu_read with phys 0x1_0000_0000 size 100
    Then the result has data {len 100, seed 1}
    When the CPU calls cpu_read with phys 0x1_0000_0064 size 3996
    Then the result has data {len 3996, seed 2}
    When the kernel calls swiotlb_info
    Then the result has used 0

  @A2 @R18 @dma-core-2.7
  Scenario: With SKIP_CPU_SYNC on unmap, an explicit sync_for_cpu first keeps the data
    When "nic" calls dma_map_single with phys 0x1_0000_0000 size 4K dir DMA_FROM_DEVICE as rx
    And "nic" calls dma_mapping_error with dma_addr $rx
    And "nic" calls device_write with dma_addr $rx data {len 4096, seed 3}
    And "nic" calls dma_sync_single_for_cpu with dma_addr $rx size 4K dir DMA_FROM_DEVICE
    And "nic" calls dma_unmap_single with dma_addr $rx size 4K dir DMA_FROM_DEVICE attrs [DMA_ATTR_SKIP_CPU_SYNC]
    Then there are no warnings
    When the CPU calls cpu_read with phys 0x1_0000_0000 size 4K
    Then the result has data {len 4096, seed 3}

  @INV-S5 @A2 @dma-core-4.3 @CVE-2022-0854
  Scenario: CVE-2022-0854: a FROM_DEVICE bounce never leaks an earlier mapping's bytes
    A one-segment pool makes slot reuse certain. First a crypto device bounces
    a 256 KiB secret through the whole pool and unmaps: the slots still hold
    the secret. Then the disk maps a 4 KiB FROM_DEVICE buffer, gets the same
    slot, and the device writes only 100 bytes. Before the fix the slot was
    not filled on map, so the unmap's full-length copy-back would have put
    3996 bytes of the crypto device's secret into the disk driver's buffer,
    and the disk itself could read them. With the fix, the driver gets its
    own bytes back.
    Given a platform with ram [{base 0x0, size 4G}] swiotlb {size 256K, force true}
    And a device "crypto" with dma_mask DMA_BIT_MASK(64)
    And a device "disk" with dma_mask DMA_BIT_MASK(64)
    When the CPU calls cpu_write with phys 0x2000_0000 data {len 262144, seed 666}
    And "crypto" calls dma_map_single with phys 0x2000_0000 size 256K dir DMA_TO_DEVICE as secret
    And "crypto" calls dma_mapping_error with dma_addr $secret
    And "crypto" calls dma_unmap_single with dma_addr $secret size 256K dir DMA_TO_DEVICE
    Then there are no warnings
    When the CPU calls cpu_write with phys 0x3000_0000 data {len 100, seed 1}
    And the CPU calls cpu_write with phys 0x3000_0064 data {len 3996, seed 2}
    And "disk" calls dma_map_single with phys 0x3000_0000 size 4K dir DMA_FROM_DEVICE as rx
    Then the result's dma_addr is $secret
    When "disk" calls device_read with dma_addr $rx+0x64 size 3996
    Then the result has data {len 3996, seed 2}
    When "disk" calls dma_mapping_error with dma_addr $rx
    And "disk" calls device_write with dma_addr $rx data {len 100, seed 3}
    And "disk" calls dma_unmap_single with dma_addr $rx size 4K dir DMA_FROM_DEVICE
    Then there are no warnings
    When the CPU calls cpu_read with phys 0x3000_0000 size 100
    Then the result has data {len 100, seed 3}
    When the CPU calls cpu_read with phys 0x3000_0064 size 3996
    Then the result has data {len 3996, seed 2}

  @R29 @R17 @R18 @dma-core-4.6 @dma-core-4.3
  Scenario Outline: <sync> of a <dir> mapping <copies>
    platform_counters counts the copies swiotlb_bounce() makes; the map itself
    makes the first. FROM_DEVICE sync_for_device copies nothing: the 5.17 fix
    also copied there, which broke drivers that look at a receive buffer while
    the device still owns it (ath9k), and 5.18 took it out again.
    When "nic" calls dma_map_single with phys 0x1_0000_0000 size 4K dir <dir> as buf
    And the kernel calls platform_counters
    Then the result has bounces 1
    When "nic" calls <sync> with dma_addr $buf size 4K dir <dir>
    Then there are no warnings
    When the kernel calls platform_counters
    Then the result has bounces <bounces>

    Examples:
      | sync                       | dir               | copies                  | bounces |
      | dma_sync_single_for_device | DMA_TO_DEVICE     | copies orig to bounce   | 2       |
      | dma_sync_single_for_device | DMA_BIDIRECTIONAL | copies orig to bounce   | 2       |
      | dma_sync_single_for_device | DMA_FROM_DEVICE   | copies nothing          | 1       |
      | dma_sync_single_for_cpu    | DMA_FROM_DEVICE   | copies bounce to orig   | 2       |
      | dma_sync_single_for_cpu    | DMA_BIDIRECTIONAL | copies bounce to orig   | 2       |
      | dma_sync_single_for_cpu    | DMA_TO_DEVICE     | copies nothing          | 1       |

  @R17 @R20 @dma-core-4.6
  Scenario: Unmapping a TO_DEVICE bounce copies nothing back, even if the device wrote the slot
    A TO_DEVICE buffer is for the device to read. A device that writes it
    anyway writes only the bounce slot; the driver's buffer is unchanged.
    When the CPU calls cpu_write with phys 0x1_0000_0000 data {len 64, seed 10}
    And "nic" calls dma_map_single with phys 0x1_0000_0000 size 64 dir DMA_TO_DEVICE as tx
    And "nic" calls dma_mapping_error with dma_addr $tx
    And "nic" calls device_write with dma_addr $tx data {len 64, seed 11}
    And "nic" calls dma_unmap_single with dma_addr $tx size 64 dir DMA_TO_DEVICE
    And the CPU calls cpu_read with phys 0x1_0000_0000 size 64
    Then the result has data {len 64, seed 10}
    When the kernel calls platform_counters
    Then the result has bounces 1

  @R19 @R29 @INV-S5 @dma-core-4.6
  Scenario: A BIDIRECTIONAL buffer reused: sync for the device after the CPU writes, for the CPU after the device writes
    When the CPU calls cpu_write with phys 0x1_0000_0000 data {len 512, seed 1}
    And "nic" calls dma_map_single with phys 0x1_0000_0000 size 512 dir DMA_BIDIRECTIONAL as buf
    And "nic" calls device_read with dma_addr $buf size 512
    Then the result has data {len 512, seed 1}
    When "nic" calls device_write with dma_addr $buf data {len 512, seed 2}
    And "nic" calls dma_sync_single_for_cpu with dma_addr $buf size 512 dir DMA_BIDIRECTIONAL
    And the CPU calls cpu_read with phys 0x1_0000_0000 size 512
    Then the result has data {len 512, seed 2}
    When the CPU calls cpu_write with phys 0x1_0000_0000 data {len 512, seed 3}
    And "nic" calls dma_sync_single_for_device with dma_addr $buf size 512 dir DMA_BIDIRECTIONAL
    And "nic" calls device_read with dma_addr $buf size 512
    Then the result has data {len 512, seed 3}

  @INV-S4 @INV-S5 @R28 @dma-core-4.5
  Scenario: With a min_align_mask the copy honours the offset, also for a partial sync
    An NVMe-like device (min_align_mask 0xFFF) maps 4 KiB at ...0A34: the
    bounce address ends in 0xA34 too. swiotlb_bounce() works out where in the
    original a sync address falls (tlb_offset), so syncing 1 KiB at offset
    0x800, which starts inside the second slot, copies exactly those bytes.
    Given a device "nvme" with dma_mask DMA_BIT_MASK(32) min_align_mask 0xFFF
    When the CPU calls cpu_write with phys 0x1_0000_0A34 data {len 4096, fill 0}
    And "nvme" calls dma_map_single with phys 0x1_0000_0A34 size 4K dir DMA_FROM_DEVICE as rx
    Then the result's dma_addr & 0xFFF is 0xA34
    When "nvme" calls device_write with dma_addr $rx+0x800 data {len 1024, seed 8}
    And "nvme" calls dma_sync_single_range_for_cpu with dma_addr $rx offset 0x800 size 0x400 dir DMA_FROM_DEVICE
    Then there are no warnings
    When the CPU calls cpu_read with phys 0x1_0000_1234 size 1K
    Then the result has data {len 1024, seed 8}
    When the CPU calls cpu_read with phys 0x1_0000_11F4 size 64
    Then the result has data {len 64, fill 0}

  @R28 @INV-S3 @dma-core-4.8-4 @dma-core-4.5
  Scenario Outline: 5000 bytes at 0x1_0000_0100 take 3 slots of 5000, 2952 and 904 bytes (sync <size> at +<offset>)
    The map is page-aligned (5000 >= PAGE_SIZE, no min_align_mask), so the
    bounce address ends in 0x000 and the low bits of the original are not
    kept. Each slot records how many bytes of the mapping remain from its
    start: alloc_size 5000, 2952 and 904. A sync starting in a slot may copy
    at most that many bytes; one byte more is cut, with "Buffer overflow
    detected" (once per boot).
    When "nic" calls dma_map_single with phys 0x1_0000_0100 size 5000 dir DMA_BIDIRECTIONAL as buf
    Then the result's dma_addr & 0xFFF is 0
    When the kernel calls swiotlb_info
    Then the result has used 3
    When "nic" calls dma_sync_single_range_for_cpu with dma_addr $buf offset <offset> size <size> dir DMA_BIDIRECTIONAL
    Then the warnings <overflow> WARN_SWIOTLB_BUFFER_OVERFLOW

    Examples:
      | offset | size | overflow       |
      | 0      | 5000 | do not include |
      | 0      | 5001 | include        |
      | 0x800  | 2952 | do not include |
      | 0x800  | 2953 | include        |
      | 0x1000 | 904  | do not include |
      | 0x1000 | 905  | include        |

  @R20 @dma-core-4.8-6 @dma-core-4.5
  Scenario: sync_single_for_cpu of 0x2000 bytes on a 0x1000 mapping copies only 0x1000
    The driver syncs twice the mapped size. swiotlb warns once and truncates
    the copy to the mapping, so the driver's next page is not overwritten with
    whatever follows the slot. dma-debug reports the driver's bug: no live
    mapping contains the synced range, so to check_sync() it is memory the
    driver "has not allocated".
    When the CPU calls cpu_write with phys 0x1_0000_0000 data {len 4096, seed 1}
    And the CPU calls cpu_write with phys 0x1_0000_1000 data {len 4096, seed 2}
    And "nic" calls dma_map_single with phys 0x1_0000_0000 size 0x1000 dir DMA_FROM_DEVICE as rx
    And "nic" calls device_write with dma_addr $rx data {len 4096, seed 3}
    And "nic" calls dma_sync_single_for_cpu with dma_addr $rx size 0x2000 dir DMA_FROM_DEVICE
    Then the warnings include WARN_SWIOTLB_BUFFER_OVERFLOW, DEBUG_SYNC_NOT_ALLOCATED
    When the CPU calls cpu_read with phys 0x1_0000_0000 size 4K
    Then the result has data {len 4096, seed 3}
    When the CPU calls cpu_read with phys 0x1_0000_1000 size 4K
    Then the result has data {len 4096, seed 2}
