/**
 * The registry of `ffnet` subcommands: one import and one entry per module in this folder, in the
 * order `ffnet --help` lists them.
 */
import type { Command } from '../command.js';
import { ps } from './ps.js';
import { capture } from './capture.js';

export const commands: Command[] = [
  ps,
  capture,
];
