/* iova.h only needs dma_addr_t from here; it lives in types.h. */
#ifndef SHIM_DMA_MAPPING_H
#define SHIM_DMA_MAPPING_H
#include <linux/types.h>
#endif
