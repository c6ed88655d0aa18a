Feature: Identity and blocked domains: no dma-iommu at all
  Only DMA and DMA_FQ domains carry the DMA-API bit; iommu_setup_dma_ops()
  sets dev->dma_iommu from it (iommu_is_dma_domain), and everything in
  kernel/dma/mapping.c branches on use_dma_iommu(dev). For the other default
  domain types the device is on the direct path:

  - IDENTITY (iommu.passthrough=1, or iommu=pt): the IOMMU translates every
    bus address to the same physical address. dma-direct hands out physical
    addresses, bounces through swiotlb when the mask cannot reach the buffer,
    and never merges segments. iommu_iova_to_phys() returns its argument.
  - BLOCKED: the IOMMU lets nothing through. The DMA API still returns
    dma-direct addresses (it does not know), but every device access faults
    and iommu_iova_to_phys() returns 0 (iommu.md §4.1).

  Background:
    Given a platform with ram [{base 0x0, size 4G}, {base 0x1_0000_0000, size 4G}] swiotlb {size 64M} dma_debug false
    And the kernel calls iommu_add with name pt mode identity
    And the kernel calls iommu_add with name bl mode blocked

  @R15 @DIRECT-MAP-ADDRESS @BOUNCE-IN-POOL @MASK-RESPECTED @iommu-4.1 @dma-core-3.3
  Scenario Outline: Identity domain, <mask>-bit mask, buffer at <phys>: handle <what>
    Given a device "dev" with iommu pt dma_mask DMA_BIT_MASK(<mask>)
    When the CPU calls cpu_write with phys <phys> data 5eedf00d
    And "dev" calls dma_map_page with phys <phys> size 4K dir DMA_TO_DEVICE as buf
    Then the result's dma_addr <pool> in the swiotlb pool
    And the result's dma_addr & 0xFFF is 0
    When "dev" calls device_read with dma_addr $buf size 4
    Then the result has data 5eedf00d

    Examples:
      | mask | phys          | what                                  | pool   |
      | 64   | 0x1_8000_0000 | is the physical address               | is not |
      | 32   | 0x8000_0000   | is the physical address               | is not |
      | 32   | 0x1_8000_0000 | is a swiotlb slot (dma-direct bounce) | is     |

  @R15 @DIRECT-MAP-ADDRESS @iommu-4.1 @iommu-4.8
  Scenario: Identity domain: the handle equals phys, iova_to_phys is the identity, and no IOVA allocator exists
    Given a device "dev" with iommu pt dma_mask DMA_BIT_MASK(64)
    When "dev" calls dma_map_page with phys 0x1_8000_0100 size 0x200 dir DMA_TO_DEVICE
    Then the result has dma_addr 0x1_8000_0100
    When the kernel calls iommu_iova_to_phys with domain dev iova 0x1_2345_6789
    Then the result has phys 0x1_2345_6789
    When the kernel calls iommu_info with domain dev
    Then the result has type IDENTITY granule 0 leaves 0

  @R10 @R12 @R15 @OPT-LE-MAX @iommu-4.1 @iommu-3.9 @dma-core-2.6
  Scenario: Identity domain: the queries are those of dma-direct
    Given a device "dev" with iommu pt dma_mask DMA_BIT_MASK(64)
    When "dev" calls dma_get_merge_boundary
    Then the result has size 0
    When "dev" calls dma_opt_mapping_size
    Then the result has size 0xFFFF_FFFF_FFFF_FFFF
    When "dev" calls dma_get_required_mask
    Then the result has mask DMA_BIT_MASK(33)

  @R15 @R26 @MAP-SG-ALL-OR-NOTHING @iommu-4.1 @dma-core-3.6
  Scenario: Identity domain: scatterlists are not merged, even adjacent full pages
    Given a device "dev" with iommu pt dma_mask DMA_BIT_MASK(64)
    When "dev" calls dma_map_sg with sg [{phys 0x1000_0000, length 4K}, {phys 0x1000_1000, length 4K}] dir DMA_TO_DEVICE
    Then the result has nents 2
    And the result has sg [{phys "0x10000000", length "0x1000", dma_address "0x10000000", dma_length "0x1000"}, {phys "0x10001000", length "0x1000", dma_address "0x10001000", dma_length "0x1000"}]

  @R15 @DIRECT-MAP-ADDRESS @G-1 @iommu-4.1 @iommu-6.2
  Scenario Outline: Blocked domain: the map "succeeds" but the device's <access> faults
    Given a device "dev" with iommu bl dma_mask DMA_BIT_MASK(64)
    When "dev" calls dma_map_page with phys 0x8000_0000 size 4K dir DMA_BIDIRECTIONAL as buf
    Then the result has dma_addr 0x8000_0000
    When "dev" calls <op>
    Then the device faults
    When the kernel calls iommu_iova_to_phys with domain dev iova $buf
    Then the result has phys 0

    Examples:
      | access | op                                      |
      | read   | device_read with dma_addr $buf size 4   |
      | write  | device_write with dma_addr $buf data 00 |

  @R15 @G-1 @iommu-4.1
  Scenario: Blocked domain: coherent memory is allocated, but the device cannot reach it either
    Given a device "dev" with iommu bl dma_mask DMA_BIT_MASK(64)
    When "dev" calls dma_alloc_coherent with size 4K as c
    Then it succeeds
    When "dev" calls device_read with dma_addr $c size 4
    Then the device faults
    When the kernel calls iommu_info with domain dev
    Then the result has type BLOCKED leaves 0

  @R15 @iommu-4.1 @iommu-3.1
  Scenario Outline: Which path a device takes, by its IOMMU's default domain: <mode> gives <type>, merge boundary <boundary>
    Given the kernel calls iommu_add with name mmu mode <mode>
    And a device "dev" with iommu mmu dma_mask DMA_BIT_MASK(64)
    When the kernel calls iommu_info with domain dev
    Then the result has type <type>
    When "dev" calls dma_get_merge_boundary
    Then the result has size <boundary>
    When "dev" calls dma_map_page with phys 0x1_8000_0000 size 4K dir DMA_TO_DEVICE
    Then the result has dma_addr <handle>

    Examples:
      | mode     | type     | boundary | handle        |
      | strict   | DMA      | 0xFFF    | 0xFFFF_F000   |
      | lazy     | DMA_FQ   | 0xFFF    | 0xFFFF_F000   |
      | identity | IDENTITY | 0        | 0x1_8000_0000 |
      | blocked  | BLOCKED  | 0        | 0x1_8000_0000 |
