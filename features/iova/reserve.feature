Feature: IOVA allocator: reserve_iova and its quirks
  reserve_iova(lo, hi) keeps a pfn range away from the allocator. dma-iommu
  uses it at domain initialisation for PCI host-bridge windows and the
  device's reserved regions (iova_reserve_iommu_regions). It walks the tree
  from rb_first() and, for each node that overlaps what is still to be
  reserved (__adjust_overlap_range):

  - if the request starts below the node, the node itself is widened
    downwards (its pfn_lo changes);
  - if the request ends above the node, only the part above the node is
    still to be reserved;
  - if what is left fits inside the node, that node is returned and
    nothing new is inserted.

  The rest is inserted as one new node. Unlike alloc_iova, reserve_iova
  never updates cached_node or cached32_node, so the next allocation still
  starts at the old cache and steps over the reserved node on its way down.
  pfns above ULLONG_MAX >> shift are refused with a WARN and NULL, so the
  anchor can never be reserved.

  Background:
    Given a platform
    And the kernel calls init_iova_domain with name iovad granule 4K start_pfn 1

  @I-A1 @I-A5 @iommu-2.7 @iommu-2.6
  Scenario: A reservation is a node the allocator steps over, and the caches ignore it
    When the kernel calls reserve_iova with domain iovad pfn_lo 0xFFF00 pfn_hi 0xFFFFF
    Then the result has pfn_lo 0xFFF00 pfn_hi 0xFFFFF
    When the kernel calls iova_info with domain iovad
    Then the result has nodes 2 cached32_node 0xFFFF_FFFF_FFFF_FFFF max32_alloc_size 0x100000
    When the kernel calls alloc_iova with domain iovad size 1 limit_pfn 0xFFFFF
    Then the result has pfn_lo 0xFFEFF pfn_hi 0xFFEFF

  @I-A1 @iommu-2.7
  Scenario: Reserving a range that lies inside a node returns that node
    Reserving the same range twice, or a part of it, inserts nothing.
    When the kernel calls reserve_iova with domain iovad pfn_lo 0x200 pfn_hi 0x2FF
    And the kernel calls reserve_iova with domain iovad pfn_lo 0x240 pfn_hi 0x27F
    Then the result has pfn_lo 0x200 pfn_hi 0x2FF
    When the kernel calls reserve_iova with domain iovad pfn_lo 0x200 pfn_hi 0x2FF
    Then the result has pfn_lo 0x200 pfn_hi 0x2FF
    When the kernel calls iova_info with domain iovad
    Then the result has nodes 2

  @I-A1 @iommu-2.7
  Scenario Outline: Reserving [<lo>, <hi>] over the node [0x200, 0x2FF]: <what>
    When the kernel calls reserve_iova with domain iovad pfn_lo 0x200 pfn_hi 0x2FF
    And the kernel calls reserve_iova with domain iovad pfn_lo <lo> pfn_hi <hi>
    Then the result has pfn_lo <ret_lo> pfn_hi <ret_hi>
    When the kernel calls find_iova with domain iovad pfn 0x200
    Then the result has pfn_lo <node_lo> pfn_hi 0x2FF
    When the kernel calls iova_info with domain iovad
    Then the result has nodes <nodes>

    Examples:
      | lo    | hi    | what                                                   | ret_lo | ret_hi | node_lo | nodes |
      | 0x180 | 0x27F | the node grows down to 0x180 and is returned           | 0x180  | 0x2FF  | 0x180   | 2     |
      | 0x280 | 0x37F | only [0x300, 0x37F] is inserted                        | 0x300  | 0x37F  | 0x200   | 3     |
      | 0x100 | 0x3FF | the node grows down and [0x300, 0x3FF] is inserted     | 0x300  | 0x3FF  | 0x100   | 3     |

  @I-A1 @iommu-2.7
  Scenario: A request spanning two nodes widens both and inserts only what lies above the last
    Reserved [0x200, 0x2FF] and [0x400, 0x4FF]; reserve [0x100, 0x5FF]. The
    first node grows down to 0x100, the remainder becomes [0x300, 0x5FF];
    the second node grows down to 0x300, the remainder becomes
    [0x500, 0x5FF], which is inserted. The tree ends up with three nodes
    that together cover [0x100, 0x5FF].
    When the kernel calls reserve_iova with domain iovad pfn_lo 0x200 pfn_hi 0x2FF
    And the kernel calls reserve_iova with domain iovad pfn_lo 0x400 pfn_hi 0x4FF
    And the kernel calls reserve_iova with domain iovad pfn_lo 0x100 pfn_hi 0x5FF
    Then the result has pfn_lo 0x500 pfn_hi 0x5FF
    When the kernel calls find_iova with domain iovad pfn 0x100
    Then the result has pfn_lo 0x100 pfn_hi 0x2FF
    When the kernel calls find_iova with domain iovad pfn 0x300
    Then the result has pfn_lo 0x300 pfn_hi 0x4FF
    When the kernel calls iova_info with domain iovad
    Then the result has nodes 4

  @I-A2 @iommu-2.7
  Scenario: A reservation may lie below start_pfn
    dma-iommu reserves host-bridge windows wherever they are; start_pfn only
    bounds what alloc_iova hands out.
    Given the kernel calls init_iova_domain with name high granule 4K start_pfn 0x1000
    When the kernel calls reserve_iova with domain high pfn_lo 0x0 pfn_hi 0xFF
    Then the result has pfn_lo 0x0 pfn_hi 0xFF
    When the kernel calls find_iova with domain high pfn 0x80
    Then the result has pfn_lo 0x0 pfn_hi 0xFF

  @I-A4 @iommu-2.7
  Scenario Outline: Nonsensical pfns are refused with a warning: [<lo>, <hi>]
    With a 4 KiB granule, ULLONG_MAX >> 12 = 0xF_FFFF_FFFF_FFFF is the
    largest pfn a reservation may name.
    When the kernel calls reserve_iova with domain iovad pfn_lo <lo> pfn_hi <hi>
    Then it fails with NULL
    And the warnings are IOVA-RESERVE-NONSENSE
    When the kernel calls iova_info with domain iovad
    Then the result has nodes 1

    Examples:
      | lo                    | hi                    |
      | 0x10_0000_0000_0000   | 0x10_0000_0000_0000   |
      | 0x100                 | 0xFFFF_FFFF_FFFF_FFFF |

  @I-A4 @iommu-2.7
  Scenario: The highest sensible pfn can be reserved
    When the kernel calls reserve_iova with domain iovad pfn_lo 0xF_FFFF_FFFF_FFFF pfn_hi 0xF_FFFF_FFFF_FFFF
    Then the result has pfn_lo 0xF_FFFF_FFFF_FFFF pfn_hi 0xF_FFFF_FFFF_FFFF
    And there are no warnings
