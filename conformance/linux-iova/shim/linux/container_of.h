#ifndef SHIM_CONTAINER_OF_H
#define SHIM_CONTAINER_OF_H
#include <stddef.h>

/* The enclosing struct of a member pointer (rb_entry, container_of in iova.c). */
#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))

#endif
