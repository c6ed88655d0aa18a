/*
 * Per-CPU data as an array with one element per possible CPU. The __percpu
 * pointer is the array itself, so per_cpu_ptr() indexes by the element type,
 * and raw_cpu_ptr() picks the CPU the driver says the current op runs on.
 */
#ifndef SHIM_PERCPU_H
#define SHIM_PERCPU_H
#include <linux/types.h>
#include "../shim_rt.h"

void *__alloc_percpu(size_t size, size_t align);
void free_percpu(void *ptr);
#define per_cpu_ptr(ptr, cpu) (&(ptr)[(cpu)])
#define raw_cpu_ptr(ptr) per_cpu_ptr(ptr, shim_cur_cpu)
#define smp_processor_id() shim_cur_cpu
/* Only an alignment hint to __alloc_percpu here. */
#define cache_line_size() 64

#endif
