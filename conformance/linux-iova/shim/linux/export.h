/* Symbol exports mean nothing in one program. */
#ifndef SHIM_EXPORT_H
#define SHIM_EXPORT_H
#define EXPORT_SYMBOL(sym)
#define EXPORT_SYMBOL_GPL(sym)
#endif
