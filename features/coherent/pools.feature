Feature: DMA pools: small coherent blocks (mm/dmapool.c)

  dma_pool_create(name, dev, size, align, boundary) makes a pool of fixed-size
  blocks carved out of coherent allocations of at least a page
  (Documentation/core-api/dma-api.rst Part Ib). In 6.12:

    - the block size is ALIGN(max(size, 16), align) (16 = sizeof(struct dma_block));
    - align must be a power of two, 0 meaning 1 (R5);
    - boundary 0 means no restriction; otherwise it must be a power of two at
      least the block size, and a block that would cross a multiple of it is
      skipped (R5);
    - free blocks form a LIFO list: dma_pool_alloc() returns the most recently
      freed block, and a fresh page hands out its blocks in address order.

  dma_pool_create() and dma_pool_destroy() may sleep (R4); dma_pool_free() may
  run in interrupt context but dma_pool_destroy() may not (H13); every block must
  be freed first (R8). dma_pool_free() must get the exact CPU/DMA pair
  dma_pool_alloc() returned (R7): without DMAPOOL_DEBUG (which needs
  CONFIG_SLUB_DEBUG_ON, off in distribution kernels) nothing checks it.

  Background:
    Given a platform
    And a device "nic"

  @R5
  Scenario Outline: size <size>, align <align>, boundary <boundary>: blocks <stride> apart, aligned to <alignment>
    When "nic" calls dma_pool_create with name rx size <size> align <align> boundary <boundary>
    Then it succeeds
    When the kernel calls dma_pool_alloc with pool rx as b1
    Then the result's dma_addr is a multiple of <alignment>
    When the kernel calls dma_pool_alloc with pool rx as b2
    Then the result's dma_addr is $b1+<stride>
    And the result's dma_addr is a multiple of <alignment>
    And the result's cpu_addr is $b1.cpu_addr+<stride>

    Examples: alignment
      | size | align | boundary | stride | alignment |
      | 1    | 0     | 0        | 0x10   | 16        |
      | 24   | 32    | 0        | 0x20   | 32        |
      | 100  | 128   | 0        | 0x80   | 128       |
      | 64   | 64    | 0        | 0x40   | 64        |

    Examples: boundary: the second block skips to the next multiple
      | size | align | boundary | stride | alignment |
      | 48   | 16    | 64       | 0x40   | 16        |
      | 1500 | 8     | 2K       | 0x800  | 8         |
      | 48   | 16    | 0        | 0x30   | 16        |

  @R5
  Scenario Outline: A <size>-byte block with boundary <boundary> never crosses it
    Three blocks in a row, each checked: offset within the boundary plus the
    block size stays within it.
    When "nic" calls dma_pool_create with name rx size <size> align 8 boundary <boundary>
    And the kernel calls dma_pool_alloc with pool rx
    Then the result's dma_addr & <mask> is at most <last>
    When the kernel calls dma_pool_alloc with pool rx
    Then the result's dma_addr & <mask> is at most <last>
    When the kernel calls dma_pool_alloc with pool rx
    Then the result's dma_addr & <mask> is at most <last>

    Examples:
      | size | boundary | mask  | last  |
      | 48   | 64       | 0x3f  | 0x10  |
      | 1500 | 2K       | 0x7ff | 0x120 |
      | 600  | 1K       | 0x3ff | 0x1a8 |

  @R5
  Scenario Outline: dma_pool_create refuses <why>
    When "nic" calls dma_pool_create with name rx size <size> align <align> boundary <boundary>
    Then it fails with NULL

    Examples:
      | size | align | boundary | why                                   |
      | 64   | 24    | 0        | an alignment that is no power of two  |
      | 64   | 0     | 96       | a boundary that is no power of two    |
      | 64   | 0     | 32       | a boundary smaller than the block     |
      | 24   | 32    | 16       | a boundary smaller than the aligned block |
      | 0    | 0     | 0        | a block size of 0                     |

  @R4 @H13
  Scenario Outline: dma_pool_create and dma_pool_destroy may sleep: not in <context> context
    When "nic" calls dma_pool_create with name rx size 64 context <context>
    Then it succeeds
    And the warnings are CONTEXT_MAY_NOT_SLEEP
    When the kernel calls dma_pool_destroy with pool rx context <context>
    Then the warnings are CONTEXT_MAY_NOT_SLEEP

    Examples:
      | context       |
      | atomic        |
      | irqs_disabled |

  @H13 @R7 @R8
  Scenario: Alloc and free in interrupt context, destroy in process context: no complaint
    Given "nic" calls dma_pool_create with name rx size 64
    When the kernel calls dma_pool_alloc with pool rx context atomic as b
    Then it succeeds
    And there are no warnings
    When the kernel calls dma_pool_free with pool rx cpu_addr $b.cpu_addr dma_addr $b context atomic
    Then there are no warnings
    When the kernel calls dma_pool_destroy with pool rx
    Then there are no warnings
    When device "nic" is removed
    Then the result has leaks 0

  @R8 @H13 @H18
  Scenario: Destroying a pool with a block in use leaks its pages
    6.12 prints "dma_pool_destroy rx busy" and does not free the backing
    allocation under the driver's feet. dma-debug then finds that coherent
    allocation still live when the driver unbinds.
    Given "nic" calls dma_pool_create with name rx size 64
    And the kernel calls dma_pool_alloc with pool rx as b
    When the kernel calls dma_pool_destroy with pool rx
    Then the warnings are DMAPOOL_DESTROY_BUSY
    When the kernel calls dma_debug_info
    Then the result has live_entries 1
    When device "nic" is removed
    Then the result has leaks 1
    And the warnings are DEBUG_LEAK_AT_REMOVE

  @R7
  Scenario: A block freed twice is handed out twice
    Without DMAPOOL_DEBUG dma_pool_free() pushes whatever it gets on the free
    list: two later allocations return the same block, and two users now share it.
    Given "nic" calls dma_pool_create with name rx size 64
    And the kernel calls dma_pool_alloc with pool rx as b1
    And the kernel calls dma_pool_free with pool rx cpu_addr $b1.cpu_addr dma_addr $b1
    When the kernel calls dma_pool_free with pool rx cpu_addr $b1.cpu_addr dma_addr $b1
    Then there are no warnings
    When the kernel calls dma_pool_alloc with pool rx as x
    Then the result's dma_addr is $b1
    When the kernel calls dma_pool_alloc with pool rx as y
    Then the result's dma_addr is $b1

  @R7
  Scenario: A mismatched CPU/DMA pair comes back as a mismatched block
    dma_pool_free() stores the DMA address it is given in the freed block; the
    next dma_pool_alloc() returns the first block's CPU address with the
    second block's DMA address, so the device would DMA into the wrong block.
    Given "nic" calls dma_pool_create with name rx size 64
    And the kernel calls dma_pool_alloc with pool rx as b1
    And the kernel calls dma_pool_alloc with pool rx as b2
    When the kernel calls dma_pool_free with pool rx cpu_addr $b1.cpu_addr dma_addr $b2
    And the kernel calls dma_pool_alloc with pool rx
    Then the result has cpu_addr $b1.cpu_addr dma_addr $b2

  @R5 @H11
  Scenario: Pool pages come from dma_alloc_coherent and are recorded by dma-debug
    A block size above PAGE_SIZE makes each backing allocation exactly one block.
    Given "nic" calls dma_pool_create with name big size 6K
    When the kernel calls dma_pool_alloc with pool big as b1
    Then the result's dma_addr is a multiple of 8K
    When the kernel calls dma_pool_alloc with pool big as b2
    And the kernel calls dma_debug_info
    Then the result has live_entries 2
