/* Reading ffnet.ini for ff_init (see ff_config.c): the stack's configuration and the EAL argv. */
#ifndef FFNET_POSIX_FF_CONFIG_H
#define FFNET_POSIX_FF_CONFIG_H

#include "stack/stack.h"

/**
 * Reads and checks the file at `path`. On success returns 0 with the configuration and the EAL
 * argv (argv[argc] is NULL) in storage that stays valid until the next call; on failure prints the
 * first problem to stderr, as the TypeScript loader words it, and returns -1.
 */
int ff_config_read(const char *path, struct ffs_conf **conf, int *argc, char ***argv);

/** The `[dpdk] log` sink of the last file read ("stderr", "syslog", "file:PATH"), or NULL for none. */
const char *ff_config_log(void);

#endif
