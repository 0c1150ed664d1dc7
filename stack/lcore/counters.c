/* Name and description tables for the per-lcore counters (see counters.h). */
#include "stack/lcore/counters.h"

const char *const ffs_counter_names[] = {
#define FFS_COUNTER_NAME(field, name, kind, doc) name,
	FFS_COUNTERS(FFS_COUNTER_NAME)
#undef FFS_COUNTER_NAME
};

const char *const ffs_counter_docs[] = {
#define FFS_COUNTER_DOC(field, name, kind, doc) doc,
	FFS_COUNTERS(FFS_COUNTER_DOC)
#undef FFS_COUNTER_DOC
};
