/*
 * CPU hotplug registration: the allocator registers its dead-CPU callback and
 * one instance per domain. Nothing ever goes offline on its own here, so the
 * registry only checks that registrations pair up (see shim_rt.c).
 */
#ifndef SHIM_CPU_H
#define SHIM_CPU_H
#include <linux/types.h>
#include <linux/cpumask.h>
#include <linux/percpu.h>

enum cpuhp_state { CPUHP_IOMMU_IOVA_DEAD };

int cpuhp_setup_state_multi(enum cpuhp_state state, const char *name,
			    int (*startup)(unsigned int cpu, struct hlist_node *node),
			    int (*teardown)(unsigned int cpu, struct hlist_node *node));
void cpuhp_remove_multi_state(enum cpuhp_state state);
int cpuhp_state_add_instance_nocalls(enum cpuhp_state state, struct hlist_node *node);
int cpuhp_state_remove_instance_nocalls(enum cpuhp_state state, struct hlist_node *node);

#endif
