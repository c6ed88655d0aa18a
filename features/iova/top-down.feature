Feature: IOVA allocator: the top-down, size-aligned search
  drivers/iommu/iova.c hands out IOVA ranges in frames of the IOVA granule
  ("pfns" here are IOVA frame numbers, not CPU page frames). alloc_iova()
  calls __alloc_and_insert_iova_range() with the exclusive limit
  L = limit_pfn + 1 and walks the rbtree downwards from a cached node:

  - the candidate is (high - size) with the low fls(size - 1) bits cleared,
    so an aligned range of size s starts on a multiple of roundup_pow_of_two(s);
  - the walk steps below a node only while the candidate still overlaps
    the node under it, so the first gap that fits, from the top, wins;
  - limits at or below D32 = 2^(32 - shift) (the first pfn at 4 GiB) start
    at cached32_node, higher limits at cached_node; each new node becomes
    the cache of its half (__cached_rbnode_insert_update), and a removal
    moves the cache to the successor when the freed node lies at or above
    it (__cached_rbnode_delete_update).

  So the allocator returns the highest fitting gap *below the cached node*:
  the address depends on history, and a Level-A model must follow the cached
  nodes exactly. iova_info shows them as the pfn_lo of the node they point
  at; the anchor, the sentinel node at the top of the tree, is
  0xFFFF_FFFF_FFFF_FFFF. With a 4 KiB granule D32 is 0x100000, so 32-bit
  allocations end at pfn 0xFFFFF.

  Background:
    Given a platform
    And the kernel calls init_iova_domain with name iovad granule 4K start_pfn 1

  @E2.1 @I-A1 @I-A3 @I-A4 @iommu-2.3
  Scenario: First allocations go to the top of the 32-bit space and leave alignment holes
    Two single pfns come from the very top. A 4-pfn range must start on a
    multiple of 4: (0xFFFFE - 4) rounded down is 0xFFFF8, so 0xFFFFC-0xFFFFD
    stay free.
    When the kernel calls iova_info with domain iovad
    Then the result has nodes 1 cached32_node 0xFFFF_FFFF_FFFF_FFFF cached_node 0xFFFF_FFFF_FFFF_FFFF max32_alloc_size 0x100000
    When the kernel calls alloc_iova with domain iovad size 1 limit_pfn 0xFFFFF
    Then the result has pfn_lo 0xFFFFF pfn_hi 0xFFFFF
    When the kernel calls alloc_iova with domain iovad size 1 limit_pfn 0xFFFFF
    Then the result has pfn_lo 0xFFFFE pfn_hi 0xFFFFE
    When the kernel calls alloc_iova with domain iovad size 4 limit_pfn 0xFFFFF
    Then the result has pfn_lo 0xFFFF8 pfn_hi 0xFFFFB
    When the kernel calls find_iova with domain iovad pfn 0xFFFFC
    Then it fails with NULL
    When the kernel calls find_iova with domain iovad pfn 0xFFFFD
    Then it fails with NULL
    When the kernel calls iova_info with domain iovad
    Then the result has nodes 4 cached32_node 0xFFFF8 cached_node 0xFFFF_FFFF_FFFF_FFFF

  @I-A3 @iommu-2.3
  Scenario Outline: alloc_iova of <size> pfns: aligned to <align>, or packed against the limit
    size_aligned clears the low fls(size - 1) bits of the candidate; alloc_iova
    itself never rounds the size (only alloc_iova_fast does), so the node is
    exactly <size> pfns long either way.
    Given the kernel calls init_iova_domain with name packed granule 4K start_pfn 1
    When the kernel calls alloc_iova with domain iovad size <size> limit_pfn 0xFFFFF
    Then the result has pfn_lo <lo> pfn_hi <hi>
    And the result's pfn_lo is a multiple of <align>
    When the kernel calls alloc_iova with domain packed size <size> limit_pfn 0xFFFFF size_aligned false
    Then the result has pfn_lo <unaligned_lo> pfn_hi 0xFFFFF

    Examples:
      | size | align | lo      | hi      | unaligned_lo |
      | 1    | 1     | 0xFFFFF | 0xFFFFF | 0xFFFFF      |
      | 2    | 2     | 0xFFFFE | 0xFFFFF | 0xFFFFE      |
      | 3    | 4     | 0xFFFFC | 0xFFFFE | 0xFFFFD      |
      | 4    | 4     | 0xFFFFC | 0xFFFFF | 0xFFFFC      |
      | 5    | 8     | 0xFFFF8 | 0xFFFFC | 0xFFFFB      |
      | 9    | 16    | 0xFFFF0 | 0xFFFF8 | 0xFFFF7      |
      | 17   | 32    | 0xFFFE0 | 0xFFFF0 | 0xFFFEF      |
      | 100  | 128   | 0xFFF80 | 0xFFFE3 | 0xFFF9C      |

  @I-A2 @I-A5 @iommu-2.3 @iommu-2.6
  Scenario: The cached node, not the limit, decides where the next search starts
    A 16-bit-limited allocation lands at 0x7FFF and becomes cached32_node.
    The next 32-bit allocation starts its walk there, below 0x7FFF, even
    though the whole range 0x8000-0xFFFFE is free: the space above the
    cache is only looked at when nothing fits below it (the retry pass).
    When the kernel calls alloc_iova with domain iovad size 1 limit_pfn 0xFFFFF
    Then the result has pfn_lo 0xFFFFF
    When the kernel calls alloc_iova with domain iovad size 1 limit_pfn 0x7FFF
    Then the result has pfn_lo 0x7FFF
    When the kernel calls alloc_iova with domain iovad size 1 limit_pfn 0xFFFFF
    Then the result has pfn_lo 0x7FFE
    When the kernel calls iova_info with domain iovad
    Then the result has cached32_node 0x7FFE

  @I-A5 @iommu-2.6
  Scenario: Limits above 4 GiB search from cached_node, independently of the 32-bit cache
    A node whose pfn_hi is at or above D32 becomes cached_node; the 32-bit
    cache stays at the anchor, so a 32-bit allocation still starts at the
    top of the 32-bit space.
    When the kernel calls alloc_iova with domain iovad size 1 limit_pfn 0xF_FFFF_FFFF
    Then the result has pfn_lo 0xF_FFFF_FFFF
    When the kernel calls iova_info with domain iovad
    Then the result has cached_node 0xF_FFFF_FFFF cached32_node 0xFFFF_FFFF_FFFF_FFFF
    When the kernel calls alloc_iova with domain iovad size 1 limit_pfn 0xFFFFF
    Then the result has pfn_lo 0xFFFFF
    When the kernel calls alloc_iova with domain iovad size 2 limit_pfn 0xF_FFFF_FFFF
    Then the result has pfn_lo 0xF_FFFF_FFFC pfn_hi 0xF_FFFF_FFFD
    When the kernel calls iova_info with domain iovad
    Then the result has cached_node 0xF_FFFF_FFFC cached32_node 0xFFFFF

  @I-A5 @iommu-2.6 @iommu-2.7
  Scenario Outline: Freeing <freed> at or above cached32_node moves the cache to its successor
    Three single pfns A = 0xFFFFF, B = 0xFFFFE, C = 0xFFFFD; C is cached.
    __cached_rbnode_delete_update() moves cached32_node to rb_next() of the
    freed node when that node is the cache or lies above it, so the hole is
    the first thing the next allocation finds.
    When the kernel calls alloc_iova with domain iovad size 1 limit_pfn 0xFFFFF
    And the kernel calls alloc_iova with domain iovad size 1 limit_pfn 0xFFFFF
    And the kernel calls alloc_iova with domain iovad size 1 limit_pfn 0xFFFFF
    And the kernel calls free_iova with domain iovad pfn <freed>
    And the kernel calls iova_info with domain iovad
    Then the result has cached32_node <cached32> nodes 3
    When the kernel calls alloc_iova with domain iovad size 1 limit_pfn 0xFFFFF
    Then the result has pfn_lo <freed>

    Examples:
      | freed   | cached32                |
      | 0xFFFFF | 0xFFFF_FFFF_FFFF_FFFF   |
      | 0xFFFFE | 0xFFFFF                 |
      | 0xFFFFD | 0xFFFFE                 |

  @I-A1 @I-A8 @iommu-2.7
  Scenario: free_iova removes the whole node containing the pfn, and ignores a pfn in no node
    find_iova and free_iova look up the node whose [pfn_lo, pfn_hi] contains
    the pfn: freeing through any pfn of a range frees all of it. A pfn in no
    node is silently ignored, with no warning.
    When the kernel calls alloc_iova with domain iovad size 4 limit_pfn 0xFFFFF
    Then the result has pfn_lo 0xFFFFC pfn_hi 0xFFFFF
    When the kernel calls find_iova with domain iovad pfn 0xFFFFE
    Then the result has pfn_lo 0xFFFFC pfn_hi 0xFFFFF
    When the kernel calls free_iova with domain iovad pfn 0xFFFFE
    Then there are no warnings
    When the kernel calls find_iova with domain iovad pfn 0xFFFFC
    Then it fails with NULL
    When the kernel calls free_iova with domain iovad pfn 0x1234
    Then there are no warnings
    When the kernel calls iova_info with domain iovad
    Then the result has nodes 1

  @I-A2 @iommu-2.3
  Scenario: Nothing is handed out below start_pfn
    dma-iommu starts its domains at pfn 1 or above so that IOVA 0 can mean
    failure. A window of two pfns fits one aligned pair and nothing more.
    Given the kernel calls init_iova_domain with name small granule 4K start_pfn 0xFFFFE
    When the kernel calls alloc_iova with domain small size 2 limit_pfn 0xFFFFF
    Then the result has pfn_lo 0xFFFFE pfn_hi 0xFFFFF
    When the kernel calls alloc_iova with domain small size 1 limit_pfn 0xFFFFF
    Then it fails with NULL

  @iommu-2.2 @I-A4
  Scenario Outline: A <granule> granule puts D32 at pfn <d32>
    init_iova_domain() sets dma_32bit_pfn = 1 << (32 - shift) and starts
    max32_alloc_size there. The granule may not exceed the CPU PAGE_SIZE, so
    this platform has 64 KiB pages.
    Given a platform with page_size 64K
    And the kernel calls init_iova_domain with name g granule <granule> start_pfn 1
    When the kernel calls iova_info with domain g
    Then the result has max32_alloc_size <d32> nodes 1
    When the kernel calls alloc_iova with domain g size 1 limit_pfn <top>
    Then the result has pfn_lo <top>

    Examples:
      | granule | d32      | top     |
      | 4K      | 0x100000 | 0xFFFFF |
      | 16K     | 0x40000  | 0x3FFFF |
      | 64K     | 0x10000  | 0xFFFF  |

  @I-A3 @iommu-2.3
  Scenario: Above 2^63 pfns an aligned request is not aligned: the mask shift wraps
    __alloc_and_insert_iova_range() builds the mask as ~0UL << fls_long(size - 1).
    For a size above 2^63 that is a shift by 64: undefined in C, and on arm64
    and x86-64 (whose shift instructions take the count mod 64) the mask stays
    all ones. Linux's iova.c compiled with gcc (conformance/linux-iova) returns
    (limit - size + 1) unaligned here, where a literal reading would give 0.
    Given the kernel calls init_iova_domain with name huge granule 4K start_pfn 0
    When the kernel calls alloc_iova with domain huge size 0x8000_0000_0000_0001 limit_pfn 0xFFFF_FFFF_FFFF_FFFE
    Then the result has pfn_lo 0x7FFF_FFFF_FFFF_FFFE pfn_hi 0xFFFF_FFFF_FFFF_FFFE
    When the kernel calls alloc_iova with domain huge size 0x8000_0000_0000_0000 limit_pfn 0xFFFF_FFFF_FFFF_FFFE
    Then it fails with NULL
