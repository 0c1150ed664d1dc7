/**
 * `ffnet ps`: the running stacks this user can reach — pid, program, mode, lcores, ports, uptime,
 * file prefix. A socket left by a crashed stack refuses connections and is not listed.
 */
import { deniedMessage, describeStack, matches, noStackMessage, scanStacks, type StackEntry } from '../client.js';
import { ToolError, type Command } from '../command.js';
import { duration, table } from '../format.js';

function row(s: StackEntry): Array<string | number> {
  const i = s.info!;
  return [
    s.pid,
    i.program,
    i.proc_type === 'secondary' ? `${i.mode}/q${i.proc_queue}` : i.mode,
    i.lcores.map((l) => l.lcore_id).join(','),
    i.ports.map((p) => `port${p.port_id}(${p.name})`).join(',') || '-',
    duration(i.uptime_ms),
    s.filePrefix,
  ];
}

export const ps: Command = {
  name: 'ps',
  summary: 'list the running stacks (pid, program, lcores, ports, uptime)',
  usage: `ffnet ps [-p PID|NAME] [--json]

Lists every ffnet stack of this user (root sees every user's): the Node programs and C programs on
ff_init running now; with -p, those matching it (pid, program name or file prefix). MODE is inline (the application's thread turns the stack) or dedicated
(data-path lcores); LCORES are DPDK lcore ids; PREFIX is the EAL file prefix.`,
  async run(ctx) {
    const scan = await scanStacks();
    const target = ctx.target;
    const stacks = scan.stacks.filter((s) => s.info && (target === undefined || matches(s, target)));
    if (target !== undefined && stacks.length === 0 && scan.stacks.length > 0) {
      throw new ToolError(`no stack matches '${target}' (running: ${scan.stacks.map(describeStack).join(', ')})`);
    }
    if (ctx.json) {
      ctx.out(JSON.stringify(stacks.map((s) => ({ ...s.info, socket: s.path }))));
      return 0;
    }
    if (stacks.length === 0) {
      if (scan.denied[0]) throw new ToolError(deniedMessage(scan.denied[0]));
      throw new ToolError(noStackMessage(scan.looked));
    }
    ctx.out(table(['PID', 'PROGRAM', 'MODE', 'LCORES', 'PORTS', 'UPTIME', 'PREFIX'], stacks.map(row), { align: ['right', 'left', 'left', 'left', 'left', 'right', 'left'] }));
    return 0;
  },
};
