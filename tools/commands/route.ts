/**
 * `ffnet route [-6] [show | add default GW | add NET/LEN GW [src ADDR] [metric N] | delete NET/LEN
 * [metric N]]`: the stack's routing table in FreeBSD netstat -rn's layout with Linux's metric and
 * preferred source added (with -6, the Internet6 one), and static routes added and deleted at run
 * time (longest-prefix match: the most specific route wins; among routes to one prefix, the lowest
 * metric).
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
  /** The preferred source for destinations through the route; null = the port's address. */
  src: string | null;
  /** Among routes to one prefix the lowest metric wins (connected routes: 0). */
  metric: number;
}

/** The table as `netstat -rn` prints its Internet section, with Linux's metric and preferred source. */
export function formatRoutes(routes: RouteEntry[]): string {
  const rows = routes.map((r) => [
    r.prefixlen === 0 ? 'default' : `${r.dest}/${r.prefixlen}`,
    r.gateway ?? `link#${r.port}`,
    r.flags,
    `port${r.port}`,
    String(r.metric),
    r.src ?? '',
  ]);
  return `Routing tables\n\nInternet:\n${table(['Destination', 'Gateway', 'Flags', 'Netif', 'Metric', 'Src'], rows)}`;
}

/** One IPv6 route as `route6.list` returns it (stack/ctl/iface_cmds.c). */
export interface Route6Entry {
  dest: string;
  prefixlen: number;
  /** The router (a default route), null for an on-link prefix. */
  gateway: string | null;
  port: number;
  flags: string;
  /** Seconds left (learned from a router advertisement); null = forever. */
  expires_s: number | null;
}

/** The IPv6 table as `netstat -rn -6` prints its Internet6 section; a link-local router carries its %portN. */
export function formatRoutes6(routes: Route6Entry[]): string {
  const rows = routes.map((r) => [
    r.prefixlen === 0 ? 'default' : `${r.dest}/${r.prefixlen}`,
    r.gateway === null ? `link#${r.port}` : /^fe[89ab]/i.test(r.gateway) ? `${r.gateway}%port${r.port}` : r.gateway,
    r.flags,
    `port${r.port}`,
    r.expires_s === null ? '' : String(r.expires_s),
  ]);
  return `Routing tables\n\nInternet6:\n${table(['Destination', 'Gateway', 'Flags', 'Netif', 'Expire'], rows)}`;
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

/** The `src ADDR` and `metric N` words after a route's destination and gateway, as route.add/del take them. */
export function routeOptions(words: string[], allowed: ReadonlyArray<'src' | 'metric'>): { src?: string; metric?: string } {
  const opts: { src?: string; metric?: string } = {};
  for (let i = 0; i < words.length; i += 2) {
    const key = words[i]!;
    const value = words[i + 1];
    if (!(allowed as readonly string[]).includes(key)) throw new ToolError(`unknown word '${key}' (expected ${allowed.join(' or ')})`, 2);
    if (value === undefined) throw new ToolError(`${key} needs a value`, 2);
    if (key in opts) throw new ToolError(`${key} given twice`, 2);
    if (key === 'metric' && (!/^\d{1,10}$/.test(value) || Number(value) > 0xffffffff)) {
      throw new ToolError(`bad metric '${value}' (0 to 4294967295)`, 2);
    }
    if (key === 'src' && !isIPv4(value)) throw new ToolError(`bad source address '${value}' (an IPv4 address)`, 2);
    opts[key as 'src' | 'metric'] = value;
  }
  return opts;
}

export const route: Command = {
  name: 'route',
  summary: "show the stack's routing table, add or delete static routes",
  usage: `ffnet route [show | add default GW | add NET/LEN GW [src ADDR] [metric N] | delete NET/LEN [metric N]]

  show                the table (the default): longest prefix first, then lowest metric, as lookups see it
  add default GW      the default route via GW (a neighbour on a port's subnet)
  add NET/LEN GW      a static route to NET/LEN via GW
    src ADDR          the source address unbound sockets use through it (one of the stack's addresses)
    metric N          0 (the default) to 4294967295: among routes to one prefix the lowest wins
  delete NET/LEN      removes a static route (delete default: the default route); with metric N,
                      the one of that metric, else the one of lowest metric
  -6, --inet6         the IPv6 table (show only): on-link prefixes, longest first, then default
                      routers (gateway6, and those router advertisements named, with their lifetime)
Flags: U up, G via a gateway, S static, C a port's connected subnet (or an address's prefix),
1 learned from a router advertisement.`,
  options: { inet6: { type: 'boolean', short: '6' } },
  allowPositionals: true,
  async run(ctx) {
    const [verb = 'show', ...args] = ctx.positionals;
    if (ctx.values.inet6) {
      if (verb !== 'show' || args.length) throw new ToolError('-6 shows the IPv6 table: route -6 [show]', 2);
      const routes = await (await ctx.connect()).request<Route6Entry[]>('route6.list');
      ctx.out(ctx.json ? JSON.stringify(routes) : formatRoutes6(routes));
      return 0;
    }
    if (verb === 'show') {
      if (args.length) throw new ToolError('show takes no arguments', 2);
      const routes = await (await ctx.connect()).request<RouteEntry[]>('route.list');
      ctx.out(ctx.json ? JSON.stringify(routes) : formatRoutes(routes));
      return 0;
    }
    if (verb === 'add') {
      if (args.length < 2) throw new ToolError('usage: route add NET/LEN GW [src ADDR] [metric N] | add default GW ...', 2);
      const dest = destination(args[0]);
      const gateway = resolveHost(args[1]!);
      const opts = routeOptions(args.slice(2), ['src', 'metric']);
      const routes = await (await ctx.connect()).request<RouteEntry[]>('route.add', { dest, gateway, ...opts });
      ctx.out(ctx.json ? JSON.stringify(routes) : `add net ${dest}: gateway ${gateway}`);
      return 0;
    }
    if (verb === 'delete' || verb === 'del') {
      if (args.length < 1) throw new ToolError('usage: route delete NET/LEN [metric N] | delete default [metric N]', 2);
      const dest = destination(args[0]);
      const opts = routeOptions(args.slice(1), ['metric']);
      const routes = await (await ctx.connect()).request<RouteEntry[]>('route.del', { dest, ...opts });
      ctx.out(ctx.json ? JSON.stringify(routes) : `delete net ${dest}`);
      return 0;
    }
    throw new ToolError(`unknown action '${verb}' (show, add, delete)`, 2);
  },
};
