/* No leak scanner here (the shim's caches count live objects instead). */
#ifndef SHIM_KMEMLEAK_H
#define SHIM_KMEMLEAK_H
#define kmemleak_transient_leak(ptr) do { (void)(ptr); } while (0)
#endif
