/**
 * `ffnet top`: per-lcore load of a running stack, refreshed in place like top(1): busy % (time in
 * loop turns that did work, the counter loop.busy_ns, over the interval), loop turns, frames in and
 * out, and drops per second.
 *
 *   ffnet top [-d DELAY] [-n ITERATIONS] [-b]
 *
 * On a terminal each refresh redraws the screen (ANSI home + clear); with -b, or when stdout is not
 * a terminal, refreshes follow one another (top -b).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { StackInfo } from '../client.js';
import { ToolError, type Command } from '../command.js';
import type { StatsReply } from '../counters.js';
import { duration, rate, table } from '../format.js';
import { counterRates } from '../rates.js';

/** One lcore's figures over an interval (top --json). */
export interface LcoreLoad {
  index: number;
  lcore_id: number;
  busy_pct: number;
  turns_per_s: number;
  rx_per_s: number;
  tx_per_s: number;
  udp_in_per_s: number;
  udp_out_per_s: number;
  drops_per_s: number;
}

/** What one refresh shows (top --json prints one such line per refresh). */
export interface TopFrame {
  pid: number;
  program: string;
  mode: string;
  uptime_ms: number;
  seconds: number;
  lcores: LcoreLoad[];
}

/** The load of each lcore between two `stats` replies. */
export function lcoreLoads(a: StatsReply, b: StatsReply): LcoreLoad[] {
  const ns = b.now_ns - a.now_ns;
  const secs = ns / 1e9;
  return b.lcores.map((l) => {
    const before = a.lcores.find((x) => x.index === l.index)?.counters ?? {};
    const r = counterRates(before, l.counters, secs);
    return {
      index: l.index,
      lcore_id: l.lcore_id,
      busy_pct: Math.min(100, Math.round(((r.delta['loop.busy_ns'] ?? 0) / ns) * 1000) / 10),
      turns_per_s: r.per('loop.turns'),
      rx_per_s: r.per('eth.rx'),
      tx_per_s: r.per('eth.tx'),
      udp_in_per_s: r.per('udp.delivered'),
      udp_out_per_s: r.per('udp.tx'),
      drops_per_s: r.drops,
    };
  });
}

function render(f: TopFrame): string {
  const total = (k: keyof LcoreLoad) => f.lcores.reduce((s, l) => s + (l[k] as number), 0);
  const head = `ffnet top - pid ${f.pid} ${f.program}, up ${duration(f.uptime_ms)}, ${f.mode}, ${f.lcores.length} lcore${f.lcores.length === 1 ? '' : 's'}, every ${f.seconds.toFixed(1)} s\n`
    + `Frames: ${rate(Math.round(total('rx_per_s')))} in/s, ${rate(Math.round(total('tx_per_s')))} out/s; `
    + `UDP: ${rate(Math.round(total('udp_in_per_s')))} delivered/s, ${rate(Math.round(total('udp_out_per_s')))} sent/s; `
    + `drops: ${rate(Math.round(total('drops_per_s')))}/s\n`;
  const rows = f.lcores.map((l) => [l.index, l.lcore_id, l.busy_pct.toFixed(1), rate(l.turns_per_s), rate(l.rx_per_s), rate(l.tx_per_s),
    rate(l.udp_in_per_s), rate(l.udp_out_per_s), rate(l.drops_per_s)]);
  return head + '\n' + table(['LCORE', 'ID', 'BUSY%', 'TURNS/s', 'RX/s', 'TX/s', 'UDP-IN/s', 'UDP-OUT/s', 'DROPS/s'], rows,
    { align: ['right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right'] });
}

/** ANSI: cursor home, clear the screen. */
const CLEAR = '\x1b[H\x1b[2J';

export const top: Command = {
  name: 'top',
  summary: 'per-lcore busy %, loop turns, packets in and out, drops, refreshed in place',
  usage: `ffnet top [-p PID] [--json] [-d DELAY] [-n ITERATIONS] [-b]

  -d DELAY        seconds between refreshes (default 1; fractions allowed)
  -n ITERATIONS   stop after this many refreshes (default: until interrupted)
  -b              batch mode: refreshes follow one another instead of redrawing the screen
                  (the default when stdout is not a terminal)

BUSY% is the share of the interval the lcore spent in loop turns that did work (counter
loop.busy_ns): an idle stack reads 0 whether it sleeps or busy-polls. RX/TX are frames from and to
the devices, UDP-IN datagrams queued to sockets, DROPS every drop reason (netstat -s) together.
With --json, each refresh is one JSON line.`,
  options: {
    delay: { type: 'string', short: 'd' },
    iterations: { type: 'string', short: 'n' },
    batch: { type: 'boolean', short: 'b' },
  },
  async run(ctx) {
    const delay = ctx.values.delay === undefined ? 1 : Number(ctx.values.delay);
    if (!Number.isFinite(delay) || delay <= 0) throw new ToolError(`-d: '${String(ctx.values.delay)}' is not a positive number of seconds`, 2);
    const n = ctx.values.iterations === undefined ? Infinity : Number(ctx.values.iterations);
    if (n !== Infinity && (!Number.isInteger(n) || n <= 0)) throw new ToolError(`-n: '${String(ctx.values.iterations)}' is not a positive whole number`, 2);
    const redraw = !ctx.json && !ctx.values.batch && process.stdout.isTTY === true;
    const client = await ctx.connect();
    const info = await client.request<StackInfo>('info');
    let prev = await client.request<StatsReply>('stats');
    for (let i = 0; i < n; i++) {
      await sleep(delay * 1000);
      const next = await client.request<StatsReply>('stats');
      const frame: TopFrame = {
        pid: info.pid,
        program: info.program,
        mode: info.mode,
        uptime_ms: Date.now() - info.started_ms,
        seconds: (next.now_ns - prev.now_ns) / 1e9,
        lcores: lcoreLoads(prev, next),
      };
      prev = next;
      if (ctx.json) ctx.out(JSON.stringify(frame));
      else ctx.out((redraw ? CLEAR : i > 0 ? '\n' : '') + render(frame));
    }
    return 0;
  },
};
