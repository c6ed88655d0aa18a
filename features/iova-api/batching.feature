Feature: Why the IOVA-based API exists: one iotlb_sync_map for a whole I/O instead of one per piece
  IOMMUs that may cache non-present entries (Intel VT-d in caching mode,
  AMD, virtio-iommu) need the driver's iotlb_sync_map after every new
  mapping, before a device may use it; iommu_map() calls it each time
  (iommu.md §4.4). A streaming map of one piece is one iommu_map(), so an I/O
  of N pieces mapped with dma_map_phys() pays N of them. dma_iova_link()
  maps with iommu_map_nosync() and dma_iova_sync() calls
  iommu_sync_map() once for the linked range: one for the whole I/O,
  whatever N is. (dma_map_sg() batches too, through iommu_map_sg(), but only
  for what fits one scatterlist and one IOVA allocation per call.)

  SMMUv3 has no iotlb_sync_map: there both ways cost 0 syncs, and
  dma_iova_sync() returns 0 doing nothing.

  On an IOMMU with iotlb_sync_map, a range that is linked but not yet
  synced may translate or fault (unspecified, iommu.md §3.11). The model's
  page-table walk translates it; no scenario relies on either, since a
  driver must sync before handing state.addr to the device (U1).

  The IOMMU "vtd" here is the model's LPAE IOMMU with has_iotlb_sync_map
  true; iommu_info reports the driver calls as sync_maps, and map_pages as
  map_pages. Nothing is unmapped, so iotlb_syncs (invalidations) stays 0.

  The op language cannot write N links as one step: repeat runs the same
  op with the same literal offset each round, so N separate dma_iova_link
  steps must be written out. The outline therefore links its N pages in one
  dma_iova_link (sync_maps does not depend on how many links there are:
  link never syncs), and the scenario after it writes 8 links out one by one.

  Background:
    Given a platform with ram [{base 0x0, size 4G}, {base 0x1_0000_0000, size 4G}] swiotlb {size 64M} dma_debug false
    And the kernel calls iommu_add with name vtd has_iotlb_sync_map true
    And a device "nic" with iommu vtd dma_mask DMA_BIT_MASK(64)
    And a device "nvme" with iommu vtd dma_mask DMA_BIT_MASK(64)

  @U1 @I-D11 @iommu-3.11 @iommu-4.4
  Scenario Outline: An I/O of <n> pages: <n> dma_map_phys calls sync <n> times, one linked IOVA range syncs once
    When the kernel calls repeat with times <n> ops [{op dma_map_phys, dev nic, phys 0x1_0000_0000, size 4K, dir DMA_TO_DEVICE}]
    Then the result has runs <n>
    When the kernel calls iommu_info with domain nic
    Then the result has sync_maps <n> map_pages <n> leaves <n> iotlb_syncs 0
    When "nvme" calls dma_iova_try_alloc with state io phys 0 size <bytes>
    Then the result has value true
    When "nvme" calls dma_iova_link with state io phys 0x1_0000_0000 offset 0 size <bytes> dir DMA_TO_DEVICE
    Then it succeeds
    When the kernel calls iommu_info with domain nvme
    Then the result has sync_maps 0 leaves <n>
    When "nvme" calls dma_iova_sync with state io offset 0 size <bytes>
    Then it succeeds
    When the kernel calls iommu_info with domain nvme
    Then the result has sync_maps 1 leaves <n> iotlb_syncs 0

    Examples:
      | n  | bytes |
      | 1  | 4K    |
      | 8  | 32K   |
      | 64 | 256K  |

  @U1 @I-D11 @iommu-3.11 @iommu-4.4
  Scenario: 8 scattered pages: 8 dma_iova_link calls make 8 map_pages and no sync; one dma_iova_sync makes the one sync
    The streaming equivalent, 8 dma_map_phys calls, costs 8 syncs (the
    outline above); here the same 8 page-table updates cost 1.
    When "nvme" calls dma_iova_try_alloc with state io phys 0 size 32K
    Then the result has value true addr 0xFFFF_8000
    When "nvme" calls dma_iova_link with state io phys 0x1_0000_0000 offset 0 size 4K dir DMA_TO_DEVICE
    And "nvme" calls dma_iova_link with state io phys 0x1_0010_0000 offset 4K size 4K dir DMA_TO_DEVICE
    And "nvme" calls dma_iova_link with state io phys 0x1_0020_0000 offset 8K size 4K dir DMA_TO_DEVICE
    And "nvme" calls dma_iova_link with state io phys 0x1_0030_0000 offset 12K size 4K dir DMA_TO_DEVICE
    And "nvme" calls dma_iova_link with state io phys 0x1_0040_0000 offset 16K size 4K dir DMA_TO_DEVICE
    And "nvme" calls dma_iova_link with state io phys 0x1_0050_0000 offset 20K size 4K dir DMA_TO_DEVICE
    And "nvme" calls dma_iova_link with state io phys 0x1_0060_0000 offset 24K size 4K dir DMA_TO_DEVICE
    And "nvme" calls dma_iova_link with state io phys 0x1_0070_0000 offset 28K size 4K dir DMA_TO_DEVICE
    Then it succeeds
    When the kernel calls iommu_info with domain nvme
    Then the result has map_pages 8 leaves 8 sync_maps 0
    When "nvme" calls dma_iova_sync with state io offset 0 size 32K
    Then it succeeds
    When the kernel calls iommu_info with domain nvme
    Then the result has map_pages 8 sync_maps 1 iotlb_syncs 0
    When the kernel calls iommu_iova_to_phys with domain nvme iova 0xFFFF_F000
    Then the result has phys 0x1_0070_0000
    When "nvme" calls dma_iova_destroy with state io mapped_len 32K dir DMA_TO_DEVICE
    And the kernel calls iommu_info with domain nvme
    Then the result has leaves 0 iotlb_syncs 1 sync_maps 1

  @U1 @iommu-3.11 @iommu-4.4
  Scenario: Syncing piece by piece gives the saving back: one dma_iova_sync per link is one iotlb_sync_map per link
    dma_iova_sync() takes a range so that a driver linking in batches can
    sync each batch; syncing after every link costs what streaming maps do.
    When "nvme" calls dma_iova_try_alloc with state io phys 0 size 12K
    And "nvme" calls dma_iova_link with state io phys 0x1_0000_0000 offset 0 size 4K dir DMA_TO_DEVICE
    And "nvme" calls dma_iova_sync with state io offset 0 size 4K
    And "nvme" calls dma_iova_link with state io phys 0x1_0010_0000 offset 4K size 4K dir DMA_TO_DEVICE
    And "nvme" calls dma_iova_sync with state io offset 4K size 4K
    And "nvme" calls dma_iova_link with state io phys 0x1_0020_0000 offset 8K size 4K dir DMA_TO_DEVICE
    And "nvme" calls dma_iova_sync with state io offset 8K size 4K
    And the kernel calls iommu_info with domain nvme
    Then the result has sync_maps 3 map_pages 3

  @U1 @iommu-3.11 @iommu-4.4
  Scenario Outline: On <iommu> the whole one-shot I/O of 8 pages costs <sync_maps> iotlb_sync_map calls and 1 IOTLB invalidation
    Given the kernel calls iommu_add with name mmu has_iotlb_sync_map <has>
    And a device "dev" with iommu mmu dma_mask DMA_BIT_MASK(64)
    When "dev" calls dma_iova_try_alloc with state io phys 0 size 32K
    And "dev" calls dma_iova_link with state io phys 0x1_0000_0000 offset 0 size 32K dir DMA_TO_DEVICE
    And "dev" calls dma_iova_sync with state io offset 0 size 32K
    Then it succeeds
    When "dev" calls dma_iova_destroy with state io mapped_len 32K dir DMA_TO_DEVICE
    And the kernel calls iommu_info with domain dev
    Then the result has sync_maps <sync_maps> iotlb_syncs 1 leaves 0

    Examples:
      | iommu                         | has   | sync_maps |
      | an SMMUv3 (no iotlb_sync_map) | false | 0         |
      | a VT-d-like IOMMU             | true  | 1         |
