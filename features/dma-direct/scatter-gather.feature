Feature: Scatter-gather on the direct path: dma_map_sg, dma_map_sgtable, unmap and sync
  dma_direct_map_sg() maps each of the nents entries with
  dma_direct_map_page(), one by one, and sets sg_dma_len to sg->length. It
  never merges entries, so on success it returns exactly nents: the count a
  driver must program into its device (R26) equals the input here, but on an
  IOMMU it may be smaller, which is why the driver must use the returned count
  for programming and the original nents for unmap and sync (R27, R28).

  If entry i fails, the entries 0..i-1 are unmapped again with
  DMA_ATTR_SKIP_CPU_SYNC (bounce slots released, nothing copied back) and the
  error goes up: dma_map_sg() returns 0 (an unsigned count), dma_map_sgtable()
  the errno, -EIO on the direct path. A return of 0 is a failure the driver
  must act on (R25, H22).

  The machine has 6 GiB of RAM and the default pool below 4 GiB; the NIC can
  only drive 32 bits, so entries above 4 GiB are bounced.

  Background:
    Given a platform with ram [{base 0x0, size 4G}, {base 0x1_0000_0000, size 2G}] swiotlb {size 64M}
    And a device "nic" with dma_mask DMA_BIT_MASK(32)

  @R26 @R15 @INV-D3 @INV-M2 @dma-core-3.6
  Scenario: Reachable entries are mapped 1:1 and never merged, even when adjacent
    The two first entries are physically adjacent; an IOMMU could present them
    as one segment, dma-direct does not. All three come back with
    dma_address = phys and sg_dma_len = length.
    When "nic" calls dma_map_sg with sg [{phys 0x1000_0000, length 4K}, {phys 0x1000_1000, length 4K}, {phys 0x2000_0000, length 1500}] dir DMA_TO_DEVICE as s
    Then the result has nents 3
    And the result has sg [{phys "0x10000000", length "0x1000", dma_address "0x10000000", dma_length "0x1000"}, {phys "0x10001000", length "0x1000", dma_address "0x10001000", dma_length "0x1000"}, {phys "0x20000000", length "0x5dc", dma_address "0x20000000", dma_length "0x5dc"}]
    And there are no warnings
    When "nic" calls dma_unmap_sg with sg $s dir DMA_TO_DEVICE
    Then there are no warnings

  @R26 @INV-D2 @INV-D3 @INV-S5 @dma-core-3.6
  Scenario: Each entry is decided on its own: high entries are bounced, low ones are not
    When the CPU calls cpu_write with phys 0x1_0000_0000 data {len 2048, seed 11}
    And "nic" calls dma_map_sg with sg [{phys 0x1_0000_0000, length 2K}, {phys 0x1000_0000, length 4K}, {phys 0x1_0010_0000, length 8K}] dir DMA_TO_DEVICE as s
    Then the result has nents 3
    And there are no warnings
    When the kernel calls is_swiotlb_buffer with phys $s
    Then the result has value true
    When "nic" calls device_read with dma_addr $s size 2K
    Then the result has data {len 2048, seed 11}
    When the kernel calls swiotlb_info
    Then the result has used 5
    When "nic" calls dma_unmap_sg with sg $s dir DMA_TO_DEVICE
    And the kernel calls swiotlb_info
    Then the result has used 0

  @R25 @H22 @INV-D3 @INV-M1 @INV-M2 @dma-core-2.8-3
  Scenario: The second of three entries is unreachable and there is no swiotlb: dma_map_sg returns 0
    Entry 1 maps directly, entry 2 fails with one "DMA addr ... overflow"
    warning, entry 1 is unmapped again, and nothing is left for dma-debug.
    Given a platform with ram [{base 0x0, size 4G}, {base 0x1_0000_0000, size 2G}]
    And a device "nic" with dma_mask DMA_BIT_MASK(32)
    When "nic" calls dma_map_sg with sg [{phys 0x1000_0000, length 4K}, {phys 0x1_2345_6000, length 4K}, {phys 0x2000_0000, length 4K}] dir DMA_FROM_DEVICE
    Then it fails with 0
    And the warnings are WARN_DMA_ADDR_OVERFLOW
    When the kernel calls dma_debug_info
    Then the result has live_entries 0

  @R25 @H22 @INV-M2 @dma-core-2.8-3
  Scenario: The same list through dma_map_sgtable fails with -EIO
    dma_map_sgtable() passes the backend's errno through instead of folding
    it into 0, so the driver can tell "retry later" (-ENOMEM) from "give up"
    (-EIO, -EINVAL, -EREMOTEIO).
    Given a platform with ram [{base 0x0, size 4G}, {base 0x1_0000_0000, size 2G}]
    And a device "nic" with dma_mask DMA_BIT_MASK(32)
    When "nic" calls dma_map_sgtable with sg [{phys 0x1000_0000, length 4K}, {phys 0x1_2345_6000, length 4K}, {phys 0x2000_0000, length 4K}] dir DMA_FROM_DEVICE
    Then it fails with -EIO
    And the warnings are WARN_DMA_ADDR_OVERFLOW

  @R25 @H22 @R11 @INV-D3 @INV-M1 @INV-S8 @dma-core-2.8-3 @dma-core-3.6
  Scenario: A failure after a bounced entry releases that entry's slots without copying back
    Entry 1 is bounced (its slot is pre-filled: one bounce copy). Entry 2 is
    300 KiB, more than one swiotlb segment, and fails. dma_direct_map_sg()
    unmaps entry 1 with DMA_ATTR_SKIP_CPU_SYNC: its slot is released and no
    second copy happens, so the bounce counter stays at 1.
    When "nic" calls dma_map_sg with sg [{phys 0x1_0000_0000, length 4K}, {phys 0x1_1000_0000, length 300K}] dir DMA_FROM_DEVICE
    Then it fails with 0
    And the warnings are WARN_SWIOTLB_FULL
    When the kernel calls swiotlb_info
    Then the result has used 0
    When the kernel calls platform_counters
    Then the result has bounces 1
    When the kernel calls dma_debug_info
    Then the result has live_entries 0

  @R27 @R20 @H18 @dma-core-2.3
  Scenario Outline: dma_unmap_sg takes the nents passed to dma_map_sg (<case>)
    A shorter nents leaves the tail mapped: its bounce slot stays allocated and
    dma-debug reports the different entry count.
    When "nic" calls dma_map_sg with sg [{phys 0x1000_0000, length 4K}, {phys 0x1_0000_0000, length 4K}, {phys 0x1_0001_0000, length 4K}] dir DMA_BIDIRECTIONAL as s
    Then the result has nents 3
    When "nic" calls dma_unmap_sg with sg $s nents <nents> dir DMA_BIDIRECTIONAL
    Then the warnings <finding>
    When the kernel calls swiotlb_info
    Then the result has used <used>

    Examples:
      | case                 | nents | finding                                 | used |
      | the mapped nents     | 3     | do not include DEBUG_FREE_WRONG_SG_COUNT | 0    |
      | one entry too few    | 2     | include DEBUG_FREE_WRONG_SG_COUNT        | 2    |

  @R28 @R29 @dma-core-3.6 @dma-core-2.4
  Scenario: dma_sync_sg_for_cpu with the original nents copies the device's data back
    When the CPU calls cpu_write with phys 0x1_0000_0000 data {len 4096, fill 0}
    And "nic" calls dma_map_sg with sg [{phys 0x1_0000_0000, length 4K}, {phys 0x1000_0000, length 4K}] dir DMA_FROM_DEVICE as s
    Then the result has nents 2
    When "nic" calls device_write with dma_addr $s data {len 4096, seed 5}
    And "nic" calls dma_sync_sg_for_cpu with sg $s dir DMA_FROM_DEVICE
    Then there are no warnings
    When the CPU calls cpu_read with phys 0x1_0000_0000 size 4K
    Then the result has data {len 4096, seed 5}

  @R28 @dma-core-2.4 @dma-core-6.4
  Scenario: Syncing an sg list with a different nents is a contract finding
    When "nic" calls dma_map_sg with sg [{phys 0x1_0000_0000, length 4K}, {phys 0x1000_0000, length 4K}] dir DMA_FROM_DEVICE as s
    Then the result has nents 2
    When "nic" calls dma_sync_sg_for_cpu with sg $s nents 1 dir DMA_FROM_DEVICE
    Then the warnings include DEBUG_SYNC_WRONG_SG_COUNT
    When "nic" calls dma_sync_sg_for_device with sg $s nents 1 dir DMA_FROM_DEVICE
    Then the warnings include DEBUG_SYNC_WRONG_SG_COUNT

  @R28 @R17 @R29 @dma-core-3.6
  Scenario: dma_sync_sg_for_device copies what the CPU wrote after the map into the bounce slots
    A TO_DEVICE list reused for a second transfer: the CPU refills the buffer,
    dma_sync_sg_for_device() copies orig -> bounce, then the device reads the
    new bytes.
    When the CPU calls cpu_write with phys 0x1_0000_0000 data {len 2048, seed 1}
    And "nic" calls dma_map_sg with sg [{phys 0x1_0000_0000, length 2K}] dir DMA_TO_DEVICE as s
    And the CPU calls cpu_write with phys 0x1_0000_0000 data {len 2048, seed 2}
    And "nic" calls device_read with dma_addr $s size 2K
    Then the result has data {len 2048, seed 1}
    When "nic" calls dma_sync_sg_for_device with sg $s dir DMA_TO_DEVICE
    Then there are no warnings
    When "nic" calls device_read with dma_addr $s size 2K
    Then the result has data {len 2048, seed 2}

  @R28 @R18 @dma-core-2.4 @dma-core-4.5
  Scenario: A single sync may cover a sub-range of the mapping
    dma_sync_single_range_for_cpu(addr, offset 0x100, size 0x100) copies only
    those 256 bytes back from the bounce slot; the rest of the driver's buffer
    still holds what it had.
    When the CPU calls cpu_write with phys 0x1_0000_0000 data {len 1024, fill 0}
    And "nic" calls dma_map_single with phys 0x1_0000_0000 size 1K dir DMA_FROM_DEVICE as rx
    Then the result's dma_addr is in the swiotlb pool
    When "nic" calls device_write with dma_addr $rx data {len 1024, fill 255}
    And "nic" calls dma_sync_single_range_for_cpu with dma_addr $rx offset 0x100 size 0x100 dir DMA_FROM_DEVICE
    Then there are no warnings
    When the CPU calls cpu_read with phys 0x1_0000_0100 size 0x100
    Then the result has data {len 256, fill 255}
    When the CPU calls cpu_read with phys 0x1_0000_00C0 size 64
    Then the result has data {len 64, fill 0}
    When the CPU calls cpu_read with phys 0x1_0000_0200 size 64
    Then the result has data {len 64, fill 0}

  @R24 @H18 @dma-core-6.3
  Scenario: Mapping an sg list again loses the first mapping
    The second dma_map_sg() writes new DMA addresses into the same list, so the
    first mapping's bounce slots can no longer be unmapped. dma-debug in 6.12
    sees a second FROM_DEVICE mapping of the same cacheline ("cacheline
    tracking EEXIST, overlapping mappings aren't supported"; upstream no longer
    reports overlaps on x86, where dma_get_cache_alignment() is 1). At unbind
    the lost mapping shows up as a leak, and its slots stay allocated.
    Given a platform with ram [{base 0x0, size 4G}, {base 0x1_0000_0000, size 2G}] swiotlb {size 64M} linux 6.12
    And a device "nic" with dma_mask DMA_BIT_MASK(32)
    When "nic" calls dma_map_sg with sg [{phys 0x1_0000_0000, length 4K}] dir DMA_FROM_DEVICE as s
    Then the result has nents 1
    When "nic" calls dma_map_sg with sg [{phys 0x1_0000_0000, length 4K}] dir DMA_FROM_DEVICE as s
    Then the result has nents 1
    And the warnings include DEBUG_CACHELINE_OVERLAP
    When "nic" calls dma_unmap_sg with sg $s dir DMA_FROM_DEVICE
    And the kernel calls swiotlb_info
    Then the result has used 2
    When device "nic" is removed
    Then the warnings include DEBUG_LEAK_AT_REMOVE

  @R26 @INV-M2 @dma-core-2.3
  Scenario: Only the first nents entries of a longer list are mapped
    dma_map_sgtable() maps orig_nents entries; dma_map_sg() exactly the nents
    it is given, whatever follows in the list.
    When "nic" calls dma_map_sg with sg [{phys 0x1000_0000, length 4K}, {phys 0x1_0000_0000, length 4K}] nents 1 dir DMA_TO_DEVICE as s
    Then the result has nents 1
    When the kernel calls swiotlb_info
    Then the result has used 0
    When "nic" calls dma_unmap_sg with sg $s nents 1 dir DMA_TO_DEVICE
    Then there are no warnings
