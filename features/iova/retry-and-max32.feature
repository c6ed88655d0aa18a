Feature: IOVA allocator: the retry from the top and the max32_alloc_size shortcut
  The first pass of __alloc_and_insert_iova_range() only looks below the
  cached node. When it finds nothing, and the node it started from ends
  below the limit (retry_pfn < L), the allocator searches once more, from
  the top (iova_find_limit()), but only *above* that node: low becomes
  retry_pfn + 1. Between them the two passes cover the whole window, so
  no gap is ever missed (I-A11), but a gap below the cached node always
  wins over a higher one above it. If the second pass fails too, the
  allocation fails with -ENOMEM (alloc_iova returns NULL).

  Every failed search records its size in max32_alloc_size, whatever the
  limit was. From then on any request limited to D32 or below whose size is
  at least that value fails at once, without walking the tree. The value
  goes back to D32 only when a node starting below D32 is removed from the
  tree (__cached_rbnode_delete_update); putting a range into a per-CPU
  range cache does not remove it, so it does not reset the shortcut.

  iova_info shows the cached nodes (pfn_lo of the node, the anchor being
  0xFFFF_FFFF_FFFF_FFFF) and max32_alloc_size, the state that decides the
  next address.

  @E2.4 @I-A1 @I-A2 @I-A5 @I-A9 @I-A11 @iommu-2.3 @iommu-2.4 @iommu-2.5 @iommu-2.6
  Scenario: E2.4, a 32-bit window of eight pfns, step by step
    G = 4K and start_pfn = 0xFFFF8, so the 32-bit space holds 0xFFFF8-0xFFFFF.
    Every allocation is alloc_iova(size, 0xFFFFF, aligned).
    Given a platform
    And the kernel calls init_iova_domain with name iovad granule 4K start_pfn 0xFFFF8
    # 1-3: A, B, C from the top; each new node becomes cached32_node.
    When the kernel calls alloc_iova with domain iovad size 1 limit_pfn 0xFFFFF
    Then the result has pfn_lo 0xFFFFF pfn_hi 0xFFFFF
    When the kernel calls iova_info with domain iovad
    Then the result has cached32_node 0xFFFFF max32_alloc_size 0x100000
    When the kernel calls alloc_iova with domain iovad size 1 limit_pfn 0xFFFFF
    Then the result has pfn_lo 0xFFFFE pfn_hi 0xFFFFE
    When the kernel calls iova_info with domain iovad
    Then the result has cached32_node 0xFFFFE max32_alloc_size 0x100000
    When the kernel calls alloc_iova with domain iovad size 1 limit_pfn 0xFFFFF
    Then the result has pfn_lo 0xFFFFD pfn_hi 0xFFFFD
    When the kernel calls iova_info with domain iovad
    Then the result has cached32_node 0xFFFFD max32_alloc_size 0x100000
    # 4: free B. B lies above the cached C, so the cache moves to B's successor, A.
    When the kernel calls free_iova with domain iovad pfn 0xFFFFE
    And the kernel calls iova_info with domain iovad
    Then the result has cached32_node 0xFFFFF max32_alloc_size 0x100000 nodes 3
    # 5: alloc 2 walks down from A, skips the 1-pfn hole at B and C, lands below C.
    When the kernel calls alloc_iova with domain iovad size 2 limit_pfn 0xFFFFF
    Then the result has pfn_lo 0xFFFFA pfn_hi 0xFFFFB
    When the kernel calls iova_info with domain iovad
    Then the result has cached32_node 0xFFFFA max32_alloc_size 0x100000
    # 6-7: E and F below D; the hole at 0xFFFFE (and the free 0xFFFFC) are ignored.
    When the kernel calls alloc_iova with domain iovad size 1 limit_pfn 0xFFFFF
    Then the result has pfn_lo 0xFFFF9 pfn_hi 0xFFFF9
    When the kernel calls iova_info with domain iovad
    Then the result has cached32_node 0xFFFF9 max32_alloc_size 0x100000
    When the kernel calls alloc_iova with domain iovad size 1 limit_pfn 0xFFFFF
    Then the result has pfn_lo 0xFFFF8 pfn_hi 0xFFFF8
    When the kernel calls iova_info with domain iovad
    Then the result has cached32_node 0xFFFF8 max32_alloc_size 0x100000
    # 8: nothing below F (start_pfn); F.hi = 0xFFFF8 < L, so pass 2 searches
    # [0xFFFF9, 0xFFFFF] from the top and finds B's old hole.
    When the kernel calls alloc_iova with domain iovad size 1 limit_pfn 0xFFFFF
    Then the result has pfn_lo 0xFFFFE pfn_hi 0xFFFFE
    When the kernel calls iova_info with domain iovad
    Then the result has cached32_node 0xFFFFE max32_alloc_size 0x100000
    # 9: from G down: 0xFFFFD is taken, 0xFFFFC is free.
    When the kernel calls alloc_iova with domain iovad size 1 limit_pfn 0xFFFFF
    Then the result has pfn_lo 0xFFFFC pfn_hi 0xFFFFC
    When the kernel calls iova_info with domain iovad
    Then the result has cached32_node 0xFFFFC max32_alloc_size 0x100000 nodes 8
    # 10: the window is full: both passes fail, and max32_alloc_size records the size.
    When the kernel calls alloc_iova with domain iovad size 1 limit_pfn 0xFFFFF
    Then it fails with NULL
    When the kernel calls iova_info with domain iovad
    Then the result has cached32_node 0xFFFFC max32_alloc_size 1 nodes 8
    # 11: any 32-bit request of size >= 1 now fails without a walk.
    When the kernel calls alloc_iova with domain iovad size 2 limit_pfn 0xFFFFF
    Then it fails with NULL
    When the kernel calls alloc_iova with domain iovad size 1 limit_pfn 0x7FFFF
    Then it fails with NULL
    When the kernel calls iova_info with domain iovad
    Then the result has cached32_node 0xFFFFC max32_alloc_size 1
    # 12: freeing E removes a node below D32: the shortcut is reset. E lies below
    # the cached H, so cached32_node stays; pass 1 walks down from H to E's hole.
    When the kernel calls free_iova with domain iovad pfn 0xFFFF9
    And the kernel calls iova_info with domain iovad
    Then the result has cached32_node 0xFFFFC max32_alloc_size 0x100000 nodes 7
    When the kernel calls alloc_iova with domain iovad size 1 limit_pfn 0xFFFFF
    Then the result has pfn_lo 0xFFFF9 pfn_hi 0xFFFF9
    When the kernel calls iova_info with domain iovad
    Then the result has cached32_node 0xFFFF9 max32_alloc_size 0x100000 nodes 8

  @I-A9 @iommu-2.5
  Scenario: A failure with a limit above 4 GiB sets max32_alloc_size too
    The window [0xFFFFE, 0x100001] has no 4-aligned run of four pfns. The
    failed 64-bit request leaves max32_alloc_size = 4, and a later 32-bit
    request of 4 pfns fails at once. Smaller requests are still searched,
    and inserting a node never resets the value.
    Given a platform
    And the kernel calls init_iova_domain with name iovad granule 4K start_pfn 0xFFFFE
    When the kernel calls alloc_iova with domain iovad size 4 limit_pfn 0x100001
    Then it fails with NULL
    When the kernel calls iova_info with domain iovad
    Then the result has max32_alloc_size 4
    When the kernel calls alloc_iova with domain iovad size 2 limit_pfn 0xFFFFF
    Then the result has pfn_lo 0xFFFFE pfn_hi 0xFFFFF
    When the kernel calls alloc_iova with domain iovad size 4 limit_pfn 0xFFFFF
    Then it fails with NULL
    When the kernel calls iova_info with domain iovad
    Then the result has max32_alloc_size 4 cached32_node 0xFFFFE

  @I-A9 @I-A11 @iommu-2.5
  Scenario: The shortcut is consulted only for limits at or below D32
    A full 32-bit window sets max32_alloc_size = 1, but a request with a
    64-bit limit ignores it and walks: the space above 4 GiB is free.
    Given a platform
    And the kernel calls init_iova_domain with name iovad granule 4K start_pfn 0xFFFFF
    When the kernel calls alloc_iova with domain iovad size 1 limit_pfn 0xFFFFF
    Then the result has pfn_lo 0xFFFFF
    When the kernel calls alloc_iova with domain iovad size 1 limit_pfn 0xFFFFF
    Then it fails with NULL
    When the kernel calls iova_info with domain iovad
    Then the result has max32_alloc_size 1
    When the kernel calls alloc_iova with domain iovad size 1 limit_pfn 0x1FFFFF
    Then the result has pfn_lo 0x1FFFFF
    When the kernel calls iova_info with domain iovad
    Then the result has max32_alloc_size 1 cached_node 0x1FFFFF cached32_node 0xFFFFF

  @I-A9 @iommu-2.5 @iommu-2.10
  Scenario: A range put into the range cache is still in the tree: max32_alloc_size is not reset
    Two pfns, both taken through alloc_iova_fast; a third request (no cache
    flush allowed) fails and sets max32_alloc_size = 1. free_iova_fast puts
    0xFFFFF into CPU 0's cache: the node stays, and so does the shortcut,
    though the cache can still serve the range. Only free_iova, which
    removes the node, resets it.
    Given a platform
    And the kernel calls init_iova_domain with name iovad granule 4K start_pfn 0xFFFFE
    When the kernel calls alloc_iova_fast with domain iovad size 1 limit_pfn 0xFFFFF repeat 2
    Then the result has pfn 0xFFFFE
    When the kernel calls alloc_iova_fast with domain iovad size 1 limit_pfn 0xFFFFF flush_rcache false
    Then it fails with 0
    When the kernel calls free_iova_fast with domain iovad pfn 0xFFFFF size 1
    And the kernel calls iova_info with domain iovad
    Then the result has max32_alloc_size 1 nodes 3
    When the kernel calls alloc_iova with domain iovad size 1 limit_pfn 0xFFFFF
    Then it fails with NULL
    When the kernel calls alloc_iova_fast with domain iovad size 1 limit_pfn 0xFFFFF
    Then the result has pfn 0xFFFFF
    When the kernel calls free_iova with domain iovad pfn 0xFFFFE
    And the kernel calls iova_info with domain iovad
    Then the result has max32_alloc_size 0x100000 nodes 2

  @I-A11 @iommu-2.6
  Scenario: The initial max32_alloc_size refuses the whole 32-bit space even when it is free
    init_iova_domain sets max32_alloc_size = dma_32bit_pfn (0x100000 pfns for
    G = 4K). With start_pfn 0 all 0x100000 pfns below 4 GiB are free, but
    the shortcut (size >= max32_alloc_size with a limit at or below the
    32-bit pfn) refuses the request without searching. One pfn less fits
    (size-aligned to 2^20 pfns, so it starts at pfn 0).
    Given a platform
    And the kernel calls init_iova_domain with name iovad granule 4K start_pfn 0
    When the kernel calls alloc_iova with domain iovad size 0x100000 limit_pfn 0xFFFFF
    Then it fails with NULL
    When the kernel calls iova_info with domain iovad
    Then the result has max32_alloc_size 0x100000 nodes 1
    When the kernel calls alloc_iova with domain iovad size 0xFFFFF limit_pfn 0xFFFFF
    Then the result has pfn_lo 0x0 pfn_hi 0xFFFFE
