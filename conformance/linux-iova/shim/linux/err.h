/* Error pointers (iova_cache_get prints one with %pe). */
#ifndef SHIM_ERR_H
#define SHIM_ERR_H
#define ERR_PTR(err) ((void *)(long)(err))
#define PTR_ERR(ptr) ((long)(ptr))
#endif
