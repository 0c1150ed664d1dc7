/* The tunables' table (see sysctl.h). */
#include <string.h>
#include "stack/lcore/sysctl.h"

const struct ffs_sysctl_desc ffs_sysctl_table[FFS_SYSCTL_COUNT] = {
#define FFS_SYSCTL_DESC(id, name, def, min, max, unit, doc) { name, def, min, max, unit, doc },
	FFS_SYSCTLS(FFS_SYSCTL_DESC)
#undef FFS_SYSCTL_DESC
};

int ffs_sysctl_find(const char *name)
{
	for (int i = 0; i < FFS_SYSCTL_COUNT; i++)
		if (strcmp(ffs_sysctl_table[i].name, name) == 0)
			return i;
	return -1;
}
