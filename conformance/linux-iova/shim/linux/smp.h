/* The "current CPU" is the op's cpu argument, set by the driver (shim_rt.c). */
#ifndef SHIM_SMP_H
#define SHIM_SMP_H
#include <linux/percpu.h>
#endif
