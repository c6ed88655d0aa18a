/* HZ = 1000: one jiffy is one millisecond of model time (advance_time's unit). */
#ifndef SHIM_JIFFIES_H
#define SHIM_JIFFIES_H
#include "../shim_rt.h"
#define HZ 1000
#define jiffies shim_jiffies
#define msecs_to_jiffies(ms) ((unsigned long)(ms))
#endif
