/*
 * CPU masks: the platform's ncpus CPUs are all possible and all online.
 * Hot-unplug is not simulated as a state change; the driver calls the
 * allocator's own iova_cpuhp_dead() callback directly for the op of that name,
 * like the reference model, which keeps the CPU counted as online.
 */
#ifndef SHIM_CPUMASK_H
#define SHIM_CPUMASK_H
#include "../shim_rt.h"

#define for_each_possible_cpu(cpu) for ((cpu) = 0; (cpu) < shim_nr_cpus; (cpu)++)
#define for_each_online_cpu(cpu) for_each_possible_cpu(cpu)
#define num_online_cpus() (shim_nr_cpus)

#endif
