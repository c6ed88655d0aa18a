Feature: IOVA allocator: the per-CPU range caches (magazines and the depot)
  alloc_iova_fast() and free_iova_fast() put a cache in front of the tree,
  so that a streaming DMA mapping rarely takes the rbtree lock. There are six
  size classes (IOVA_RANGE_CACHE_MAX_SIZE): 1, 2, 4, 8, 16 and 32 pfns,
  chosen by order_base_2() of the size the caller passes. Per class, each
  CPU has a "loaded" and a "prev" magazine, stacks of up to 127 pfns
  (IOVA_MAG_SIZE, so that a magazine is exactly 1 KiB), and all CPUs share
  a depot of full magazines.

  - alloc_iova_fast() rounds sizes below 32 pfns up to a power of two, tries
    the current CPU's cache, then alloc_iova(aligned); if that fails and
    flush_rcache is set it empties every online CPU's magazines and the
    depot into the tree and tries the tree once more.
  - free_iova_fast() pushes the pfn onto the loaded magazine; a full loaded
    magazine is swapped with an empty-enough prev; when both are full, the
    loaded one goes to the depot (__iova_rcache_insert). Ranges of 33 pfns
    or more are never cached: they go straight back to the tree.
  - __iova_rcache_get() pops from loaded, else swaps in prev, else takes a
    full magazine from the depot; iova_magazine_pop() takes the topmost pfn
    that satisfies the limit and moves the top element into its slot. When
    no pfn in that one magazine fits, the cache misses: neither prev nor
    the depot is tried.
  - iova_depot_work_func() runs 100 ms (IOVA_DEPOT_DELAY) after a magazine
    reaches the depot and returns one magazine to the tree while the depot
    holds more magazines than there are online CPUs.

  A cached range is still a node of the tree (find_iova finds it): only
  the cache knows it is free. iova_info counts the tree's nodes (the anchor
  included), the cache hits and misses, and depot_size, the full magazines
  in the depots.

  The `repeat` argument makes N calls in one step: alloc_iova_fast
  repeats the same call and reports the last pfn; free_iova_fast frees
  pfn, pfn + size, pfn + 2*size, ... in that order.

  Background:
    Given a platform with ncpus 2
    And the kernel calls init_iova_domain with name iovad granule 4K start_pfn 1

  @E2.3 @I-A6 @I-A7 @iommu-2.9 @iommu-2.10
  Scenario: E2.3, a freed range comes straight back from the cache; the tree is not touched
    When the kernel calls alloc_iova_fast with domain iovad size 1 limit_pfn 0xFFFFF
    Then the result has pfn 0xFFFFF
    When the kernel calls free_iova_fast with domain iovad pfn 0xFFFFF size 1
    And the kernel calls find_iova with domain iovad pfn 0xFFFFF
    Then the result has pfn_lo 0xFFFFF pfn_hi 0xFFFFF
    When the kernel calls alloc_iova_fast with domain iovad size 1 limit_pfn 0xFFFFF
    Then the result has pfn 0xFFFFF
    When the kernel calls iova_info with domain iovad
    Then the result has nodes 2 rcache_hits 1 rcache_misses 1 cached32_node 0xFFFFF

  @E2.2 @I-A3 @I-A8 @iommu-2.10
  Scenario: E2.2, 40 pfns are not rounded, are aligned to 64, and are never cached
    (0x100000 - 40) rounded down to a multiple of 64 is 0xFFFC0. The free
    finds bucket order_base_2(40) = 6, which does not exist, so the range
    goes back to the tree at once.
    When the kernel calls alloc_iova_fast with domain iovad size 40 limit_pfn 0xFFFFF
    Then the result has pfn 0xFFFC0
    When the kernel calls find_iova with domain iovad pfn 0xFFFC0
    Then the result has pfn_lo 0xFFFC0 pfn_hi 0xFFFE7
    When the kernel calls free_iova_fast with domain iovad pfn 0xFFFC0 size 40
    And the kernel calls find_iova with domain iovad pfn 0xFFFC0
    Then it fails with NULL
    When the kernel calls iova_info with domain iovad
    Then the result has nodes 1

  @I-A3 @I-A6 @iommu-2.10
  Scenario Outline: alloc_iova_fast of <size> pfns takes the node [<lo>, <hi>]; cached on free: <cached>
    Sizes below 32 become a power of two ("the order of the unadjusted size
    will still match upon freeing"); 32 and above keep their size and are
    aligned to the next power of two. Only the classes 1-32 are cached.
    When the kernel calls alloc_iova_fast with domain iovad size <size> limit_pfn 0xFFFFF
    Then the result has pfn <lo>
    When the kernel calls find_iova with domain iovad pfn <lo>
    Then the result has pfn_lo <lo> pfn_hi <hi>
    When the kernel calls free_iova_fast with domain iovad pfn <lo> size <size>
    And the kernel calls iova_info with domain iovad
    Then the result has nodes <nodes>

    Examples:
      | size | lo      | hi      | cached | nodes |
      | 1    | 0xFFFFF | 0xFFFFF | yes    | 2     |
      | 3    | 0xFFFFC | 0xFFFFF | yes    | 2     |
      | 5    | 0xFFFF8 | 0xFFFFF | yes    | 2     |
      | 31   | 0xFFFE0 | 0xFFFFF | yes    | 2     |
      | 32   | 0xFFFE0 | 0xFFFFF | yes    | 2     |
      | 33   | 0xFFFC0 | 0xFFFE0 | no     | 1     |

  @I-A6 @iommu-2.10
  Scenario: A range allocated as 3 pfns and freed as 3 pfns lands in the 4-pfn class
    The node is 4 pfns long; order_base_2(3) = 2 is the class of 4, so a
    later request for 4 pfns (or 3) is served from the cache.
    When the kernel calls alloc_iova_fast with domain iovad size 3 limit_pfn 0xFFFFF
    Then the result has pfn 0xFFFFC
    When the kernel calls free_iova_fast with domain iovad pfn 0xFFFFC size 3
    And the kernel calls alloc_iova_fast with domain iovad size 4 limit_pfn 0xFFFFF
    Then the result has pfn 0xFFFFC
    When the kernel calls iova_info with domain iovad
    Then the result has rcache_hits 1 nodes 2

  @I-A6 @I-A7 @iommu-2.9 @iommu-2.12
  Scenario: Ranges come back last-in, first-out on the CPU that freed them
    When the kernel calls alloc_iova_fast with domain iovad size 1 limit_pfn 0xFFFFF repeat 3
    Then the result has pfn 0xFFFFD
    When the kernel calls free_iova_fast with domain iovad pfn 0xFFFFE size 1
    And the kernel calls free_iova_fast with domain iovad pfn 0xFFFFD size 1
    And the kernel calls free_iova_fast with domain iovad pfn 0xFFFFF size 1
    And the kernel calls alloc_iova_fast with domain iovad size 1 limit_pfn 0xFFFFF
    Then the result has pfn 0xFFFFF
    When the kernel calls alloc_iova_fast with domain iovad size 1 limit_pfn 0xFFFFF
    Then the result has pfn 0xFFFFD
    When the kernel calls alloc_iova_fast with domain iovad size 1 limit_pfn 0xFFFFF
    Then the result has pfn 0xFFFFE

  @I-A6 @I-A7 @iommu-2.9 @iommu-2.12
  Scenario: A range freed on CPU 1 is invisible to CPU 0
    CPU 0 misses and allocates a fresh pfn from the tree, below the cached
    node; CPU 1 gets its own range back.
    When the kernel calls alloc_iova_fast with domain iovad size 1 limit_pfn 0xFFFFF
    Then the result has pfn 0xFFFFF
    When the kernel calls free_iova_fast with domain iovad pfn 0xFFFFF size 1 cpu 1
    And the kernel calls alloc_iova_fast with domain iovad size 1 limit_pfn 0xFFFFF cpu 0
    Then the result has pfn 0xFFFFE
    When the kernel calls alloc_iova_fast with domain iovad size 1 limit_pfn 0xFFFFF cpu 1
    Then the result has pfn 0xFFFFF
    When the kernel calls iova_info with domain iovad
    Then the result has rcache_hits 1 rcache_misses 2

  @I-A6 @iommu-2.9
  Scenario: Pop with a limit takes the topmost pfn that fits and moves the top into its slot
    Four pfns are freed in the order 0xFFFFC, 0xFFFFD, 0xFFFFE, 0xFFFFF. A
    request limited to 0xFFFFD skips the two above the limit and takes
    0xFFFFD; iova_magazine_pop() fills the hole with the top element, so the
    magazine is now [0xFFFFC, 0xFFFFF, 0xFFFFE] and 0xFFFFE comes out before
    0xFFFFF.
    When the kernel calls alloc_iova_fast with domain iovad size 1 limit_pfn 0xFFFFF repeat 4
    Then the result has pfn 0xFFFFC
    When the kernel calls free_iova_fast with domain iovad pfn 0xFFFFC size 1 repeat 4
    And the kernel calls alloc_iova_fast with domain iovad size 1 limit_pfn 0xFFFFD
    Then the result has pfn 0xFFFFD
    When the kernel calls alloc_iova_fast with domain iovad size 1 limit_pfn 0xFFFFF
    Then the result has pfn 0xFFFFE
    When the kernel calls alloc_iova_fast with domain iovad size 1 limit_pfn 0xFFFFF
    Then the result has pfn 0xFFFFF
    When the kernel calls alloc_iova_fast with domain iovad size 1 limit_pfn 0xFFFFF
    Then the result has pfn 0xFFFFC
    When the kernel calls iova_info with domain iovad
    Then the result has rcache_hits 4 nodes 5

  @I-A6 @I-A10 @iommu-2.9
  Scenario: A limit miss in the loaded magazine does not look at prev: the tree serves it
    128 frees: the first 127 fill loaded, the 128th finds it full and swaps
    it with the empty prev. loaded is now [0xFFFFF]. A request limited to
    0xFFFFE misses although prev holds 127 suitable pfns, and the tree hands
    out 0xFFF7F below them.
    When the kernel calls alloc_iova_fast with domain iovad size 1 limit_pfn 0xFFFFF repeat 128
    Then the result has pfn 0xFFF80
    When the kernel calls free_iova_fast with domain iovad pfn 0xFFF80 size 1 repeat 128
    And the kernel calls alloc_iova_fast with domain iovad size 1 limit_pfn 0xFFFFE
    Then the result has pfn 0xFFF7F
    When the kernel calls iova_info with domain iovad
    Then the result has rcache_hits 0 rcache_misses 129
    When the kernel calls alloc_iova_fast with domain iovad size 1 limit_pfn 0xFFFFF
    Then the result has pfn 0xFFFFF
    When the kernel calls alloc_iova_fast with domain iovad size 1 limit_pfn 0xFFFFF
    Then the result has pfn 0xFFFFE

  @I-A6 @I-A10 @iommu-2.9
  Scenario: The 255th free on one CPU sends a full magazine to the depot, where any CPU finds it
    255 pfns 0xFFF01-0xFFFFF are freed on CPU 0 in ascending order. The
    first 127 fill loaded, the next 127 fill the swapped-in prev; the 255th
    finds both full and pushes loaded, [0xFFF80..0xFFFFE], to the depot.
    CPU 1, whose own magazines are empty, takes that magazine and pops its
    top, 0xFFFFE; CPU 0 still has 0xFFFFF on top of its new magazine.
    When the kernel calls alloc_iova_fast with domain iovad size 1 limit_pfn 0xFFFFF repeat 255
    Then the result has pfn 0xFFF01
    When the kernel calls free_iova_fast with domain iovad pfn 0xFFF01 size 1 repeat 254
    And the kernel calls iova_info with domain iovad
    Then the result has depot_size 0
    When the kernel calls free_iova_fast with domain iovad pfn 0xFFFFF size 1
    And the kernel calls iova_info with domain iovad
    Then the result has depot_size 1 nodes 256
    When the kernel calls alloc_iova_fast with domain iovad size 1 limit_pfn 0xFFFFF cpu 1
    Then the result has pfn 0xFFFFE
    When the kernel calls iova_info with domain iovad
    Then the result has depot_size 0
    When the kernel calls alloc_iova_fast with domain iovad size 1 limit_pfn 0xFFFFF cpu 0
    Then the result has pfn 0xFFFFF

  @I-A6 @I-A8 @I-A10 @iommu-2.9
  Scenario Outline: Depot trimming with <ncpus> online CPU(s): <outcome>
    382 single pfns 0xFFE82-0xFFFFF are freed on CPU 0: the 255th free
    pushes [0xFFF01..0xFFF7F] to the depot, the 382nd pushes
    [0xFFF80..0xFFFFE]. The depot work was queued by the first push and
    runs 100 ms later: while depot_size (2) exceeds the online CPUs it pops
    the newest magazine, returns its 127 pfns to the tree and requeues
    itself; the next run finds depot_size 1 and stops.
    Given a platform with ncpus <ncpus>
    And the kernel calls init_iova_domain with name iovad granule 4K start_pfn 1
    When the kernel calls alloc_iova_fast with domain iovad size 1 limit_pfn 0xFFFFF repeat 382
    Then the result has pfn 0xFFE82
    When the kernel calls free_iova_fast with domain iovad pfn 0xFFE82 size 1 repeat 382
    And the kernel calls iova_info with domain iovad
    Then the result has depot_size 2 nodes 383
    When the kernel calls advance_time with ms 99
    And the kernel calls iova_info with domain iovad
    Then the result has depot_size 2 nodes 383
    When the kernel calls advance_time with ms 1
    And the kernel calls iova_info with domain iovad
    Then the result has depot_size <depot> nodes <nodes>
    When the kernel calls advance_time with ms 100
    And the kernel calls iova_info with domain iovad
    Then the result has depot_size <depot> nodes <nodes>

    Examples:
      | ncpus | outcome                            | depot | nodes |
      | 1     | one magazine goes back to the tree | 1     | 256   |
      | 2     | the depot is left alone            | 2     | 383   |

  @I-A6 @I-A8 @iommu-2.9
  Scenario: The depot work trims the newest magazine first
    The depot is a stack: the magazine pushed by the 382nd free,
    [0xFFF80..0xFFFFE], is the one returned to the tree; the older
    [0xFFF01..0xFFF7F] stays cached, and so does 0xFFFFF in CPU 0's loaded
    magazine.
    Given a platform with ncpus 1
    And the kernel calls init_iova_domain with name iovad granule 4K start_pfn 1
    When the kernel calls alloc_iova_fast with domain iovad size 1 limit_pfn 0xFFFFF repeat 382
    And the kernel calls free_iova_fast with domain iovad pfn 0xFFE82 size 1 repeat 382
    And the kernel calls advance_time with ms 100
    And the kernel calls find_iova with domain iovad pfn 0xFFFC0
    Then it fails with NULL
    When the kernel calls find_iova with domain iovad pfn 0xFFF40
    Then the result has pfn_lo 0xFFF40 pfn_hi 0xFFF40
    When the kernel calls find_iova with domain iovad pfn 0xFFFFF
    Then the result has pfn_lo 0xFFFFF pfn_hi 0xFFFFF

  @I-A10 @iommu-2.9
  Scenario: The depot work runs 100 ms after the first push; a later push does not delay it
    schedule_delayed_work() does nothing while the work is already queued.
    The first magazine reaches the depot at 0 ms, the second at 60 ms; the
    work still runs at 100 ms and trims the second one.
    Given a platform with ncpus 1
    And the kernel calls init_iova_domain with name iovad granule 4K start_pfn 1
    When the kernel calls alloc_iova_fast with domain iovad size 1 limit_pfn 0xFFFFF repeat 382
    And the kernel calls free_iova_fast with domain iovad pfn 0xFFE82 size 1 repeat 255
    And the kernel calls iova_info with domain iovad
    Then the result has depot_size 1
    When the kernel calls advance_time with ms 60
    And the kernel calls free_iova_fast with domain iovad pfn 0xFFF81 size 1 repeat 127
    And the kernel calls iova_info with domain iovad
    Then the result has depot_size 2 nodes 383
    When the kernel calls advance_time with ms 40
    Then the result has now_ms 100
    When the kernel calls iova_info with domain iovad
    Then the result has depot_size 1 nodes 256

  @E2.5 @I-A9 @I-A11 @iommu-2.10
  Scenario: E2.5, the caches are flushed into the tree before an allocation fails
    A window of four pfns, all allocated and then freed into the caches of
    CPU 0 and CPU 1. A 2-pfn request misses the (empty) 2-pfn class and
    finds the tree full. With flush_rcache false it fails with 0; with
    flush_rcache true alloc_iova_fast empties every online CPU's magazines
    into the tree (which also resets max32_alloc_size) and succeeds.
    Given the kernel calls init_iova_domain with name small granule 4K start_pfn 0xFFFFC
    When the kernel calls alloc_iova_fast with domain small size 1 limit_pfn 0xFFFFF repeat 4
    Then the result has pfn 0xFFFFC
    When the kernel calls free_iova_fast with domain small pfn 0xFFFFC size 1 repeat 2 cpu 0
    And the kernel calls free_iova_fast with domain small pfn 0xFFFFE size 1 repeat 2 cpu 1
    And the kernel calls alloc_iova_fast with domain small size 2 limit_pfn 0xFFFFF flush_rcache false
    Then it fails with 0
    When the kernel calls iova_info with domain small
    Then the result has nodes 5 max32_alloc_size 2
    When the kernel calls alloc_iova_fast with domain small size 2 limit_pfn 0xFFFFF
    Then the result has pfn 0xFFFFE
    When the kernel calls iova_info with domain small
    Then the result has nodes 2 max32_alloc_size 0x100000
    When the kernel calls alloc_iova_fast with domain small size 1 limit_pfn 0xFFFFF cpu 1
    Then the result has pfn 0xFFFFD

  @E2.5 @I-A11 @iommu-2.10
  Scenario: The flush also empties the depot
    A window of exactly 255 pfns, 0xFFF01-0xFFFFF, all freed on CPU 0:
    one full magazine in the depot, one in prev, one pfn in loaded. A 2-pfn
    request misses and finds the tree full; free_global_cached_iovas()
    returns the depot magazine along with the per-CPU ones.
    Given the kernel calls init_iova_domain with name w granule 4K start_pfn 0xFFF01
    When the kernel calls alloc_iova_fast with domain w size 1 limit_pfn 0xFFFFF repeat 255
    Then the result has pfn 0xFFF01
    When the kernel calls free_iova_fast with domain w pfn 0xFFF01 size 1 repeat 255
    And the kernel calls iova_info with domain w
    Then the result has depot_size 1 nodes 256
    When the kernel calls alloc_iova_fast with domain w size 2 limit_pfn 0xFFFFF
    Then the result has pfn 0xFFFFE
    When the kernel calls iova_info with domain w
    Then the result has depot_size 0 nodes 2

  @I-A6 @I-A8 @iommu-2.9
  Scenario: iova_cpuhp_dead returns the dead CPU's magazines to the tree, and only those
    CPU 1 caches three pfns, CPU 0 one. When CPU 1 goes offline its loaded
    and prev magazines are emptied into the tree; CPU 0's cached pfn stays
    cached and is still served to CPU 0.
    When the kernel calls alloc_iova_fast with domain iovad size 1 limit_pfn 0xFFFFF repeat 4
    Then the result has pfn 0xFFFFC
    When the kernel calls free_iova_fast with domain iovad pfn 0xFFFFC size 1 repeat 3 cpu 1
    And the kernel calls free_iova_fast with domain iovad pfn 0xFFFFF size 1 cpu 0
    And the kernel calls iova_cpuhp_dead with domain iovad cpu 1
    And the kernel calls iova_info with domain iovad
    Then the result has nodes 2
    When the kernel calls find_iova with domain iovad pfn 0xFFFFD
    Then it fails with NULL
    When the kernel calls alloc_iova_fast with domain iovad size 1 limit_pfn 0xFFFFF cpu 0
    Then the result has pfn 0xFFFFF
    When the kernel calls iova_info with domain iovad
    Then the result has rcache_hits 1

  @I-A8 @iommu-2.10
  Scenario: alloc_iova_fast in a domain with start_pfn 0 can lose a range at pfn 0
    alloc_iova_fast returns new_iova->pfn_lo, and 0 is what every caller
    reads as failure. In a domain whose start_pfn is 0 the second half of
    the 32-bit space lands at pfn 0: the call "fails", the node stays in the
    tree and nobody will free it. Linux prints nothing; the model reports it
    as the kernel warning IOVA-FAST-PFN0-LOST and I-A8 counts the node.
    Given a platform
    And the kernel calls init_iova_domain with name iovad granule 4K start_pfn 0
    When the kernel calls alloc_iova_fast with domain iovad size 0x80000 limit_pfn 0xFFFFF
    Then the result has pfn 0x80000
    When the kernel calls alloc_iova_fast with domain iovad size 0x80000 limit_pfn 0xFFFFF
    Then it fails with 0
    And the warnings are IOVA-FAST-PFN0-LOST
    When the kernel calls iova_info with domain iovad
    Then the result has nodes 3
    When the kernel calls alloc_iova_fast with domain iovad size 1 limit_pfn 0xFFFFF
    Then it fails with 0
    And there are no warnings
