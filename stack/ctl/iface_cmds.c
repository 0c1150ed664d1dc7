/* The interface commands of the control server (ctl.h): ifconfig, arp, route, ping. */
#include "stack/ctl/ctl.h"

const struct ffs_ctl_cmd ffs_ctl_cmds_iface[] = { { NULL } };
