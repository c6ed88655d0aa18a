/*
 * Kernel error numbers. Defined here rather than taken from <errno.h>:
 * glibc's errno.h itself includes <linux/errno.h>, which with shim/ on the
 * include path is this file.
 */
#ifndef SHIM_LINUX_ERRNO_H
#define SHIM_LINUX_ERRNO_H
#define ENOMEM 12
#define EINVAL 22
#define ENOTSUPP 524
#endif
