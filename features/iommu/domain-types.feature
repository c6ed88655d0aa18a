Feature: IOMMU core: domain types and what iommu_map, iommu_unmap and iova_to_phys do with them
  Every device behind an IOMMU is attached to a domain (iommu.md §4.1):

  | type      | translation         | iommu_map / iommu_unmap | iova_to_phys  |
  | BLOCKED   | every access faults | -EINVAL / 0             | 0             |
  | IDENTITY  | IOVA = phys         | -EINVAL / 0             | the IOVA      |
  | UNMANAGED | page table          | allowed                 | table walk    |
  | DMA       | page table (strict) | allowed                 | table walk    |
  | DMA_FQ    | page table (lazy)   | allowed                 | table walk    |

  Only paging domains (__IOMMU_DOMAIN_PAGING) have a page table; the core
  refuses the others before calling the driver. Newer kernels also WARN
  (iommu_map_nosync, __iommu_unmap). The default domain of a device follows
  iommu.strict / iommu.passthrough (the IOMMU's mode here), except that a
  group holding an untrusted device is always a strict DMA domain
  (iommu_get_default_domain_type).

  @I-C1 @iommu-4.1 @iommu-4.8
  Scenario Outline: A <type> domain refuses iommu_map on Linux <linux> (<warnings>)
    Given a platform with linux <linux>
    And the kernel calls iommu_add with name smmu
    And the kernel calls iommu_domain_alloc with name d iommu smmu type <type>
    When the kernel calls iommu_map with domain d iova 0x1234_5000 paddr 0x1234_5000 size 4K prot [IOMMU_READ]
    Then it fails with -EINVAL
    And the warnings are <warnings>
    When the kernel calls iommu_unmap with domain d iova 0x1234_5000 size 4K
    Then the result has unmapped 0
    When the kernel calls iommu_iova_to_phys with domain d iova 0x1234_5678
    Then the result has phys <phys>

    Examples:
      | type     | linux  | warnings              | phys        |
      | IDENTITY | 6.12   | none                  | 0x1234_5678 |
      | BLOCKED  | 6.12   | none                  | 0           |
      | IDENTITY | newest | WARN_IOMMU_NOT_PAGING | 0x1234_5678 |
      | BLOCKED  | newest | WARN_IOMMU_NOT_PAGING | 0           |

  @I-C1 @iommu-4.1
  Scenario Outline: An UNMANAGED, DMA or DMA_FQ domain (<type>) maps and translates
    Given a platform
    And the kernel calls iommu_add with name smmu
    And the kernel calls iommu_domain_alloc with name d iommu smmu type <type>
    When the kernel calls iommu_map with domain d iova 0x1234_5000 paddr 0x8765_4000 size 4K prot [IOMMU_READ]
    Then it succeeds
    When the kernel calls iommu_iova_to_phys with domain d iova 0x1234_5678
    Then the result has phys 0x8765_4678
    When the kernel calls iommu_info with domain d
    Then the result has type <type> granule <granule>

    Examples:
      | type      | granule |
      | UNMANAGED | 0       |
      | DMA       | 0x1000  |
      | DMA_FQ    | 0x1000  |

  @iommu-4.1 @iommu-3.1
  Scenario Outline: A <trust> device behind an IOMMU in mode <mode> gets a <type> default domain
    A device's default domain carries the device's name. Only DMA and
    DMA_FQ domains get an IOVA allocator (granule: the smallest IOMMU page).
    Given a platform
    And the kernel calls iommu_add with name smmu mode <mode>
    And a device "nic" with iommu smmu dma_mask DMA_BIT_MASK(64) untrusted <untrusted>
    When the kernel calls iommu_info with domain nic
    Then the result has type <type> granule <granule>

    Examples:
      | trust     | untrusted | mode     | type     | granule |
      | trusted   | false     | strict   | DMA      | 0x1000  |
      | trusted   | false     | lazy     | DMA_FQ   | 0x1000  |
      | untrusted | true      | lazy     | DMA      | 0x1000  |
      | trusted   | false     | identity | IDENTITY | 0       |
      | trusted   | false     | blocked  | BLOCKED  | 0       |

  @I-C1 @iommu-4.1 @iommu-6.2
  Scenario Outline: A device in a <mode> domain: a DMA to 0x10_0000 <outcome>
    An identity domain passes the bus address straight through to memory;
    a blocked domain faults every access.
    Given a platform
    And the kernel calls iommu_add with name smmu mode <mode>
    And a device "nic" with iommu smmu dma_mask DMA_BIT_MASK(64)
    And the CPU calls cpu_write with phys 0x10_0000 data 5eed1e55
    When "nic" calls device_read with dma_addr 0x10_0000 size 4
    Then <check>

    Examples:
      | mode     | outcome                 | check                         |
      | identity | reads RAM at 0x10_0000  | the result has data 5eed1e55  |
      | blocked  | faults                  | the device faults             |
