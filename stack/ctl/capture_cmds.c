/* The capture command of the control server (ctl.h): frames as pcapng over the connection. */
#include "stack/ctl/ctl.h"

const struct ffs_ctl_cmd ffs_ctl_cmds_capture[] = { { NULL } };
