/* Module metadata: dropped, the allocator is linked into the driver program. */
#ifndef SHIM_MODULE_H
#define SHIM_MODULE_H
#include <linux/export.h>
#define MODULE_AUTHOR(s)
#define MODULE_DESCRIPTION(s)
#define MODULE_LICENSE(s)
#endif
