/**
 * `ffnet sysctl`: the stack's tunables (stack/lcore/sysctl.h), read and set at once on a running
 * stack, range-checked by the stack's own table (the sysctl.list/get/set commands).
 *
 *   ffnet sysctl -a                      every tunable, `name: value`
 *   ffnet sysctl NAME...                 those tunables (a prefix such as net.inet.ip lists its subtree)
 *   ffnet sysctl -w NAME=VALUE...        sets them (NAME=VALUE alone works too, as on FreeBSD)
 *   ffnet sysctl -d NAME...              descriptions instead of values
 */
import { ToolError, type Command } from '../command.js';

/** A tunable as the stack describes it. */
export interface Tunable {
  name: string;
  value: number;
  default: number;
  min: number;
  max: number;
  unit: string;
  description: string;
}

/** The reply to sysctl.set. */
export interface TunableChange {
  name: string;
  old: number;
  value: number;
}

export const sysctl: Command = {
  name: 'sysctl',
  summary: 'read or set tunables (-a, NAME, -w NAME=VALUE)',
  usage: `ffnet sysctl [-p PID] [--json] [-a | -d] [NAME ...] [-w NAME=VALUE ...]

Prints tunables as "name: value" (-a: all of them; a NAME that is a prefix, such as net.inet.ip,
prints the tunables under it), their descriptions with unit and range (-d), or sets them
(-w NAME=VALUE, or NAME=VALUE). A new value takes effect at once on every lcore and is checked
against the tunable's range; an unknown name or a value out of range is refused with one line.`,
  options: {
    all: { type: 'boolean', short: 'a' },
    describe: { type: 'boolean', short: 'd' },
    write: { type: 'string', short: 'w', multiple: true },
  },
  allowPositionals: true,
  async run(ctx) {
    const writes = [...((ctx.values.write as string[] | undefined) ?? []), ...ctx.positionals.filter((p) => p.includes('='))];
    const names = ctx.positionals.filter((p) => !p.includes('='));
    if (!ctx.values.all && writes.length === 0 && names.length === 0) {
      throw new ToolError('name a tunable, -a for all, or -w NAME=VALUE (ffnet sysctl --help)', 2);
    }
    const client = await ctx.connect();
    const changes: TunableChange[] = [];
    for (const w of writes) {
      const eq = w.indexOf('=');
      const name = w.slice(0, eq);
      const value = w.slice(eq + 1);
      if (!name || !value) throw new ToolError(`'${w}' is not NAME=VALUE`, 2);
      changes.push(await client.request<TunableChange>('sysctl.set', { name, value }));
    }
    let shown: Tunable[] = [];
    if (ctx.values.all || names.length > 0) {
      const list = await client.request<Tunable[]>('sysctl.list');
      if (ctx.values.all) shown = list;
      for (const n of names) {
        const exact = list.find((t) => t.name === n);
        const under = list.filter((t) => t.name.startsWith(`${n}.`));
        if (!exact && under.length === 0) throw new ToolError(`unknown tunable ${n}`, 1, 'ENOENT');
        shown.push(...(exact ? [exact] : under));
      }
    }
    if (ctx.json) {
      ctx.out(JSON.stringify(writes.length > 0 && shown.length === 0 ? changes : shown.length > 0 && changes.length === 0 ? shown : { changes, tunables: shown }));
      return 0;
    }
    for (const c of changes) ctx.out(`${c.name}: ${c.old} -> ${c.value}`);
    for (const t of shown) {
      if (ctx.values.describe) {
        const unit = t.unit ? ` ${t.unit}` : '';
        ctx.out(`${t.name}: ${t.description} [${t.min}..${t.max}${unit}, default ${t.default}]`);
      } else {
        ctx.out(`${t.name}: ${t.value}`);
      }
    }
    return 0;
  },
};
