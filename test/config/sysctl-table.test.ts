/**
 * One table of tunables: config/'s SYSCTLS is the stack's FFS_SYSCTLS (stack/lcore/sysctl.h), through
 * config/sysctl.generated.ts, and the generated module and the tables of docs/ are what
 * scripts/gen-tables.mjs makes of the headers today (run it after changing a header).
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { SYSCTLS } from '../../config/index.js';
import { outputs, parseXMacro, readCounters, readSysctls } from '../../scripts/gen-tables.mjs';

const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const scratch = mkdtempSync(join(tmpdir(), 'ffnet-tables-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('the tables derived from the stack\'s headers', () => {
  it('SYSCTLS is FFS_SYSCTLS: names, defaults, ranges, units and descriptions in the header\'s order', () => {
    const fromHeader = readSysctls(root);
    expect(fromHeader.length).toBeGreaterThanOrEqual(20);
    expect(SYSCTLS.map((s) => ({ ...s }))).toEqual(fromHeader);
    expect(Object.isFrozen(SYSCTLS)).toBe(true);
    expect(SYSCTLS.every((s) => Object.isFrozen(s))).toBe(true);
  });

  it.each(outputs(root).map((o) => o.path))('%s is up to date with the headers', (path) => {
    const want = outputs(root).find((o) => o.path === path)!.text;
    expect(readFileSync(join(root, path), 'utf8'), `${path} is out of date: run node scripts/gen-tables.mjs`).toBe(want);
  });

  it('docs/counters.md lists every counter of FFS_COUNTERS with its kind and description', () => {
    const md = readFileSync(join(root, 'docs/counters.md'), 'utf8');
    const counters = readCounters(root);
    expect(counters.length).toBeGreaterThan(40);
    for (const c of counters) expect(md).toContain(`| \`${c.name}\` | ${c.kind} | ${c.description} |`);
  });

  it('a counter without a kind of drop or count is refused, naming the entry', () => {
    cpSync(join(root, 'stack'), join(scratch, 'stack'), { recursive: true });
    const header = join(scratch, 'stack/lcore/counters.h');
    writeFileSync(header, readFileSync(header, 'utf8').replace('"eth.rx", count,', '"eth.rx", dropped,'));
    expect(() => readCounters(scratch)).toThrow(/FFS_COUNTERS entry 1: expected X\(field, "name", drop\|count, "doc"\)/);
  });

  it('a changed header makes the committed module out of date', () => {
    cpSync(join(root, 'stack'), join(scratch, 'stack'), { recursive: true });
    const header = join(scratch, 'stack/lcore/sysctl.h');
    writeFileSync(header, readFileSync(header, 'utf8').replace('"net.inet.ip.ttl", 64,', '"net.inet.ip.ttl", 32,'));
    const [module] = outputs(scratch, { docs: false });
    expect(module?.path).toBe('config/sysctl.generated.ts');
    expect(module?.text).toContain('default: 32, min: 1, max: 255, unit: "hops"');
    expect(module?.text).not.toBe(readFileSync(join(root, 'config/sysctl.generated.ts'), 'utf8'));
  });
});

describe('the X-macro reader', () => {
  const header = (body: string) => `#define FFS_T(X) \\\n${body}\n\nenum x {};\n`;

  it('joins adjacent string literals, decodes escapes and reads negative integers', () => {
    const text = header('\tX(A, "a.b", -1, 0, 9, "ms", \\\n\t  "one " "two \\"quoted\\"") \\\n\tX(B, "c", 1, 2, 3, "", "d")');
    expect(parseXMacro(text, 'FFS_T')).toEqual([
      ['A', 'a.b', -1, 0, 9, 'ms', 'one two "quoted"'],
      ['B', 'c', 1, 2, 3, '', 'd'],
    ]);
  });

  it('refuses what it cannot read as literals, naming the macro', () => {
    expect(() => parseXMacro(header('\tX(A, "a", 4 * 1024, 0, 9, "", "d")'), 'FFS_T')).toThrow(/FFS_T: unexpected character '\*'/);
    expect(() => parseXMacro(header('\tX(A, "a", SOME_MAX, 0, 9, "", "d" x)'), 'FFS_T')).toThrow(/FFS_T: entry 1 has an argument/);
    expect(() => parseXMacro('int x;\n', 'FFS_T')).toThrow(/no #define FFS_T\(X\)/);
    expect(() => parseXMacro(header('\tX(A, "unterminated)'), 'FFS_T')).toThrow(/unterminated string literal/);
  });
});
