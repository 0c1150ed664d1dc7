/**
 * `ffnet route [show | add default GW | add NET/LEN GW | delete NET/LEN]`: the stack's routing
 * table in FreeBSD netstat -rn's layout, and static routes added and deleted at run time
 * (longest-prefix match: the most specific route wins).
 */
import { isIPv4 } from 'node:net';
import { ToolError, type Command } from '../command.js';
import { table } from '../format.js';
import { resolveHost } from './host.js';

/** One route as `route.list` returns it (stack/ctl/iface_cmds.c). */
export interface RouteEntry {
  dest: string;
  prefixlen: number;
  gateway: string | null;
  port: number;
  flags: string;
}

/** The table as `netstat -rn` prints its Internet section. */
export function formatRoutes(routes: RouteEntry[]): string {
  const rows = routes.map((r) => [
    r.prefixlen === 0 ? 'default' : `${r.dest}/${r.prefixlen}`,
    r.gateway ?? `link#${r.port}`,
    r.flags,
    `port${r.port}`,
  ]);
  return `Routing tables\n\nInternet:\n${table(['Destination', 'Gateway', 'Flags', 'Netif'], rows)}`;
}

/** NET/LEN or default, checked for its shape (the stack checks the rest). */
function destination(s: string | undefined): string {
  if (s === 'default') return s;
  const [net, len, extra] = (s ?? '').split('/');
  if (!net || !isIPv4(net) || len === undefined || !/^\d{1,2}$/.test(len) || Number(len) > 32 || extra !== undefined) {
    throw new ToolError(`bad destination '${s ?? ''}' (NET/LEN, e.g. 10.1.0.0/16, or default)`);
  }
  return s!;
}

export const route: Command = {
  name: 'route',
  summary: "show the stack's routing table, add or delete static routes",
  usage: `ffnet route [show | add default GW | add NET/LEN GW | delete NET/LEN]

  show                the table (the default): longest prefix first, as lookups see it
  add default GW      the default route via GW (a neighbour on a port's subnet)
  add NET/LEN GW      a static route to NET/LEN via GW
  delete NET/LEN      removes a static route (delete default: the default route)
Flags: U up, G via a gateway, S static, C a port's connected subnet.`,
  allowPositionals: true,
  async run(ctx) {
    const [verb = 'show', ...args] = ctx.positionals;
    if (verb === 'show') {
      if (args.length) throw new ToolError('show takes no arguments', 2);
      const routes = await (await ctx.connect()).request<RouteEntry[]>('route.list');
      ctx.out(ctx.json ? JSON.stringify(routes) : formatRoutes(routes));
      return 0;
    }
    if (verb === 'add') {
      if (args.length !== 2) throw new ToolError('usage: route add NET/LEN GW | add default GW', 2);
      const dest = destination(args[0]);
      const gateway = resolveHost(args[1]!);
      const routes = await (await ctx.connect()).request<RouteEntry[]>('route.add', { dest, gateway });
      ctx.out(ctx.json ? JSON.stringify(routes) : `add net ${dest}: gateway ${gateway}`);
      return 0;
    }
    if (verb === 'delete' || verb === 'del') {
      if (args.length !== 1) throw new ToolError('usage: route delete NET/LEN | delete default', 2);
      const dest = destination(args[0]);
      const routes = await (await ctx.connect()).request<RouteEntry[]>('route.del', { dest });
      ctx.out(ctx.json ? JSON.stringify(routes) : `delete net ${dest}`);
      return 0;
    }
    throw new ToolError(`unknown action '${verb}' (show, add, delete)`, 2);
  },
};
