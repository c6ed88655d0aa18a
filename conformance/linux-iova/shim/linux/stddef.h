/* linux/stddef.h: the C library's offsetof/NULL and the bool constants. */
#ifndef SHIM_LINUX_STDDEF_H
#define SHIM_LINUX_STDDEF_H
#include <stddef.h>
#include <stdbool.h>
#endif
