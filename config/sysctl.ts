/**
 * The stack's tunables, FreeBSD-style names, as one table.
 *
 * The `[sysctl]` section of ffnet.ini may set any of these; every other name is an error. The stack
 * receives the complete set (defaults filled in) at start, and `ffnet sysctl` reads and writes the
 * same names at run time, so this table is the contract between configuration, tools and the native
 * stack. All values are integers.
 *
 * The table itself is the stack's: FFS_SYSCTLS in stack/lcore/sysctl.h, from which
 * scripts/gen-tables.mjs writes config/sysctl.generated.ts (committed, and checked against the header
 * by test/config/sysctl-table.test.ts), so configuration, tools and the stack cannot disagree on a
 * name, default, range, unit or description.
 */
import { SYSCTL_TABLE } from './sysctl.generated.js';

/** One tunable: its name, default, inclusive range, unit and what it controls. */
export interface SysctlSpec {
  /** FreeBSD-style dotted name, e.g. 'net.inet.ip.ttl'. */
  readonly name: string;
  readonly default: number;
  readonly min: number;
  readonly max: number;
  /** Unit of the value ('s', 'ms', 'packets', ...), or '' for a plain count. */
  readonly unit: string;
  /** One line: what the value controls. */
  readonly description: string;
}

/** Every tunable the stack knows, in documentation order (the header's). */
export const SYSCTLS: readonly SysctlSpec[] = Object.freeze(SYSCTL_TABLE.map((s): SysctlSpec => Object.freeze({ ...s })));

const BY_NAME: ReadonlyMap<string, SysctlSpec> = new Map(SYSCTLS.map((s) => [s.name, s]));

/** The tunable called `name`, or undefined when the stack has no such tunable. */
export function lookupSysctl(name: string): SysctlSpec | undefined {
  return BY_NAME.get(name);
}

/** Every tunable at its default value, by name. */
export function sysctlDefaults(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of SYSCTLS) out[s.name] = s.default;
  return out;
}

/**
 * A value for a tunable set at run time: the integer itself, or a RangeError naming the tunable.
 * Tunables are int64 in the stack, where a fraction would be truncated silently.
 */
export function sysctlValue(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw new RangeError(`sysctl ${name}: ${String(value)} is not an integer`);
  return value;
}
