/* Kernel log lines go to stderr (the protocol leaves stderr free for logs). */
#ifndef SHIM_PRINTK_H
#define SHIM_PRINTK_H
#include <stdio.h>
#define pr_err(fmt, ...) fprintf(stderr, "linux-iova: " fmt, ##__VA_ARGS__)
#endif
