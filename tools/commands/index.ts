/**
 * The registry of `ffnet` subcommands: one import and one entry per module in this folder, in the
 * order `ffnet --help` lists them.
 */
import type { Command } from '../command.js';
import { capture } from './capture.js';
import { migrate } from './migrate.js';
import { netstat } from './netstat.js';
import { ps } from './ps.js';
import { run } from './run.js';
import { sysctl } from './sysctl.js';
import { top } from './top.js';
import { ifconfig } from './ifconfig.js';
import { arp } from './arp.js';
import { ndp } from './ndp.js';
import { route } from './route.js';
import { ping } from './ping.js';
import { doctor } from './doctor.js';

export const commands: Command[] = [
  ps,
  ifconfig,
  arp,
  ndp,
  route,
  netstat,
  sysctl,
  top,
  capture,
  ping,
  run,
  migrate,
  doctor,
];
