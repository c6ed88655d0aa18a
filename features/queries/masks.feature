Feature: DMA masks: dma_set_mask, dma_set_coherent_mask and the mask queries
  A driver tells the DMA core how many address bits its device can drive with
  dma_set_mask() (streaming mappings) and dma_set_coherent_mask() (coherent
  allocations), or both at once with dma_set_mask_and_coherent().

  On the direct path (no IOMMU) dma_set_mask() asks dma_direct_supported():
  every mask of 32 bits or more is accepted, because an architecture either has
  no RAM above 4 GiB or provides ZONE_DMA32 and swiotlb for it. A smaller mask
  must still cover min_mask, the address of the last RAM page
  ((max_pfn - 1) << PAGE_SHIFT in 6.12, (max_pfn << PAGE_SHIFT) - 1 upstream),
  lowered to zone_dma_limit when CONFIG_ZONE_DMA is set. If not, the call
  returns -EIO and the old mask stays. dma_set_mask() truncates the mask to
  dma_addr_t, stores it and recomputes dma_skip_sync (dma_setup_need_sync).

  dma_get_required_mask() (dma_direct_get_required_mask) is the all-ones mask
  just covering the DMA address of the last RAM page; dma_addressing_limited()
  is true when min_not_zero(mask, bus_dma_limit) is below it.

  Background:
    Given a platform with ram [{base 0x0, size 4G}, {base 0x1_0000_0000, size 2G}] swiotlb {size 64M}

  # ---- dma_set_mask: what it accepts (dma-core.md §2.6, §2.8 case 5) ----------

  @R9 @H6 @INV-M4 @dma-core-2.8-5
  Scenario: A 64-bit mask is always accepted on the direct path
    Given a device "nic" with dma_mask DMA_BIT_MASK(32)
    When "nic" calls dma_set_mask with mask DMA_BIT_MASK(64)
    Then it succeeds
    And there are no warnings
    When "nic" calls dma_get_mask
    Then the result has mask 0xffff_ffff_ffff_ffff

  @R9 @H4 @INV-M4 @dma-core-2.8-5
  Scenario Outline: With ZONE_DMA (zone_dma_limit 0xFFFFFF) a small mask must cover ZONE_DMA: <mask> gives <result>
    The platform has far more than 16 MiB of RAM, so min_mask is reduced to
    zone_dma_limit = DMA_BIT_MASK(24). A mask that cannot reach all of ZONE_DMA
    is refused, and H4 says the driver must then not do DMA at all.
    Given a device "isa" with dma_mask DMA_BIT_MASK(32)
    When "isa" calls dma_set_mask with mask <mask>
    Then <outcome>
    When "isa" calls dma_get_mask
    Then the result has mask <after>

    Examples:
      | mask             | outcome            | after      |
      | DMA_BIT_MASK(31) | it succeeds        | 0x7fffffff |
      | DMA_BIT_MASK(24) | it succeeds        | 0xffffff   |
      | 0xFFFFFF         | it succeeds        | 0xffffff   |
      | 0xFFFFFE         | it fails with -EIO | 0xffffffff |
      | DMA_BIT_MASK(20) | it fails with -EIO | 0xffffffff |

  @R9 @INV-M4 @dma-core-2.8-5
  Scenario: A refused mask leaves the previous mask in place
    dma_set_mask() returns before it stores anything, so the device keeps the
    mask it had (INV-M4) and the driver can fall back, e.g. to PIO.
    Given a device "isa" with dma_mask DMA_BIT_MASK(32)
    When "isa" calls dma_set_mask with mask DMA_BIT_MASK(28)
    Then it succeeds
    When "isa" calls dma_set_mask with mask DMA_BIT_MASK(20)
    Then it fails with -EIO
    When "isa" calls dma_get_mask
    Then the result has mask 0xfffffff

  @R9 @INV-M4 @dma-core-2.8-5
  Scenario Outline: Where ZONE_DMA covers all RAM, a small mask must cover the last page (<linux>: <mask> gives <outcome>)
    Here zone_dma_limit lies above all of RAM (1 GiB), so min() leaves min_mask
    alone: it is the last page, exactly as without CONFIG_ZONE_DMA. 6.12 tests
    the start of the last page, (max_pfn - 1) << PAGE_SHIFT = 0x3FFF_F000;
    upstream tests its last byte, (max_pfn << PAGE_SHIFT) - 1 = 0x3FFF_FFFF.
    Given a platform with ram [{base 0x0, size 1G}] zone_dma_limit DMA_BIT_MASK(32) linux <linux>
    And a device "dev" with dma_mask DMA_BIT_MASK(32)
    When "dev" calls dma_set_mask with mask <mask>
    Then <outcome>

    Examples:
      | linux  | mask             | outcome            |
      | 6.12   | DMA_BIT_MASK(30) | it succeeds        |
      | newest | DMA_BIT_MASK(30) | it succeeds        |
      | 6.12   | 0x3FFF_F000      | it succeeds        |
      | newest | 0x3FFF_F000      | it fails with -EIO |
      | 6.12   | DMA_BIT_MASK(29) | it fails with -EIO |
      | newest | DMA_BIT_MASK(29) | it fails with -EIO |

  @R9 @H4 @dma-core-2.8-1
  Scenario: A device without a DMA mask cannot set one, and every streaming map fails
    dev->dma_mask is a pointer. When a bus never sets it up, dma_set_mask()
    returns -EIO, dma_map_single() warns once and returns DMA_MAPPING_ERROR,
    dma_map_sg() returns 0, and dma_map_sgtable() quirkily returns 0 (success)
    with sgt->nents = 0.
    Given a device "orphan" with dma_mask none
    When "orphan" calls dma_set_mask with mask DMA_BIT_MASK(32)
    Then it fails with -EIO
    When "orphan" calls dma_map_single with phys 0x1000_0000 size 4K dir DMA_TO_DEVICE
    Then it fails with DMA_MAPPING_ERROR
    And the warnings are WARN_NO_DMA_MASK
    When "orphan" calls dma_map_sg with sg [{phys 0x1000_0000, length 4K}] dir DMA_TO_DEVICE
    Then it fails with 0
    When "orphan" calls dma_map_sgtable with sg [{phys 0x1000_0000, length 4K}] dir DMA_TO_DEVICE
    Then it succeeds
    And the result has nents 0
    When "orphan" calls dma_get_mask
    Then the result has mask 0xffffffff

  @R9 @dma-core-2.6
  Scenario: dma_get_mask reports DMA_BIT_MASK(32) for a mask of 0
    Given a device "dev" with dma_mask 0
    When "dev" calls dma_get_mask
    Then the result has mask 0xffffffff

  # ---- dma_set_mask_and_coherent and the coherent mask (H6 - H9) ------------

  @H6 @R9 @INV-M4
  Scenario: dma_set_mask_and_coherent with 64 bits does not fail, so no 64 -> 32 fallback is needed
    The howto calls a 64-then-32 fallback chain wrong: on the direct path the
    64-bit call cannot fail. A driver should pick the mask from what the device
    can do and treat a failure as fatal.
    Given a device "nvme" with dma_mask DMA_BIT_MASK(32) coherent_dma_mask DMA_BIT_MASK(32)
    When "nvme" calls dma_set_mask_and_coherent with mask DMA_BIT_MASK(64)
    Then it succeeds
    And there are no warnings
    When "nvme" calls dma_get_mask
    Then the result has mask 0xffff_ffff_ffff_ffff
    When "nvme" calls dma_alloc_coherent with size 4K
    Then the result's dma_addr is above 0xffff_ffff

  @H7 @R9
  Scenario Outline: The coherent mask can be set to the streaming mask or less (<mask>)
    A driver that relies on coherent allocations alone must check
    dma_set_coherent_mask(): it goes through the same dma_supported() test.
    Given a device "dev" with dma_mask DMA_BIT_MASK(32)
    When "dev" calls dma_set_mask with mask DMA_BIT_MASK(40)
    Then it succeeds
    When "dev" calls dma_set_coherent_mask with mask <mask>
    Then <outcome>

    Examples:
      | mask             | outcome            |
      | DMA_BIT_MASK(40) | it succeeds        |
      | DMA_BIT_MASK(32) | it succeeds        |
      | DMA_BIT_MASK(24) | it succeeds        |
      | DMA_BIT_MASK(20) | it fails with -EIO |

  @H9 @H7
  Scenario: The streaming mask does not move the coherent mask: set it too, even for 32 bits
    Only dma_set_coherent_mask() changes coherent_dma_mask. A driver that raised
    its streaming mask to 64 bits still gets coherent memory below 4 GiB until it
    sets the coherent mask as well; with 6 GiB of RAM the allocator would
    otherwise hand out memory above 4 GiB.
    Given a device "nic" with dma_mask DMA_BIT_MASK(32) coherent_dma_mask DMA_BIT_MASK(32)
    When "nic" calls dma_set_mask with mask DMA_BIT_MASK(64)
    Then it succeeds
    When "nic" calls dma_set_coherent_mask with mask DMA_BIT_MASK(32)
    Then it succeeds
    When "nic" calls dma_alloc_coherent with size 64K
    Then the result's dma_addr is below 0xffff_0001
    When "nic" calls dma_set_coherent_mask with mask DMA_BIT_MASK(64)
    Then it succeeds
    When "nic" calls dma_alloc_coherent with size 64K
    Then the result's dma_addr is above 0xffff_ffff

  @H8 @INV-M4 @dma-core-3.3
  Scenario: The last dma_set_mask call wins, so the most specific one must come last
    A device whose descriptor engine takes 64-bit addresses but whose data
    engine only 32 bits must end with the 32-bit call. Dispatch reads the mask
    as it stands at each call, so a buffer above 4 GiB is bounced.
    Given a device "nic" with dma_mask DMA_BIT_MASK(32)
    When "nic" calls dma_set_mask with mask DMA_BIT_MASK(64)
    Then it succeeds
    When "nic" calls dma_set_mask with mask DMA_BIT_MASK(32)
    Then it succeeds
    When "nic" calls dma_get_mask
    Then the result has mask 0xffffffff
    When "nic" calls dma_map_page with phys 0x1_2345_6000 size 4K dir DMA_TO_DEVICE as buf
    Then the result's dma_addr is in the swiotlb pool

  # ---- dma_get_required_mask and dma_addressing_limited (§2.8 case 6) -------

  @R10 @dma-core-2.8-6
  Scenario Outline: The required mask just covers the last RAM page (RAM ends at <ram_end>)
    Given a platform with ram <ram>
    And a device "nic" with dma_mask DMA_BIT_MASK(32)
    When "nic" calls dma_get_required_mask
    Then the result has mask <required>
    When "nic" calls dma_addressing_limited
    Then the result has value <limited>

    Examples:
      | ram_end      | ram                                                                   | required      | limited |
      | 6 GiB        | [{base 0x0, size 4G}, {base 0x1_0000_0000, size 2G}]                  | 0x1_ffff_ffff | true    |
      | 4 GiB        | [{base 0x0, size 4G}]                                                 | 0xffff_ffff   | false   |
      | 4 GiB + 4K   | [{base 0x0, size 4G}, {base 0x1_0000_0000, size 4K}]                  | 0x1_ffff_ffff | true    |
      | 2 GiB        | [{base 0x0, size 2G}]                                                 | 0x7fff_ffff   | false   |
      | 64 GiB       | [{base 0x0, size 2G}, {base 0xF_0000_0000, size 4G}]                  | 0xf_ffff_ffff | true    |

  @R10 @INV-M4 @dma-core-2.8-6
  Scenario: Reading the required mask does not change the device's mask
    dma_get_required_mask() only reports; the driver decides. After reading
    0x1_FFFF_FFFF the 32-bit device still has its 32-bit mask and is still
    addressing-limited until it calls dma_set_mask() itself.
    Given a device "nic" with dma_mask DMA_BIT_MASK(32)
    When "nic" calls dma_get_required_mask
    Then the result has mask 0x1_ffff_ffff
    When "nic" calls dma_get_mask
    Then the result has mask 0xffff_ffff
    When "nic" calls dma_addressing_limited
    Then the result has value true
    When "nic" calls dma_set_mask with mask 0x1_ffff_ffff
    Then it succeeds
    When "nic" calls dma_addressing_limited
    Then the result has value false

  @R10 @dma-core-2.6
  Scenario: A bus_dma_limit below the required mask makes a 64-bit device addressing-limited
    dma_addressing_limited() takes min_not_zero(mask, bus_dma_limit): the
    interconnect, not the device, is the bottleneck here.
    Given a device "dev" with dma_mask DMA_BIT_MASK(64) bus_dma_limit 0xffff_ffff
    When "dev" calls dma_addressing_limited
    Then the result has value true
    When "dev" calls dma_get_mask
    Then the result has mask 0xffff_ffff_ffff_ffff
