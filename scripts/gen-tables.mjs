// Derives everything that lists the stack's tunables and counters from the two C X-macros that
// define them, so each table is written once:
//   stack/lcore/sysctl.h   FFS_SYSCTLS  → config/sysctl.generated.ts (what config/sysctl.ts exports as
//                                          SYSCTLS) and the [sysctl] table of docs/configuration.md
//   stack/lcore/counters.h FFS_COUNTERS → tools/counters.generated.ts (each counter's kind, from which
//                                          tools/counters.ts takes DROP_COUNTERS) and the table of
//                                          docs/counters.md
// The outputs are committed, so that tsc, vitest and a reader of docs/ work on a fresh clone, and
// test/config/sysctl-table.test.ts fails while one differs from what the headers give. The build
// (scripts/setup.sh, npm run build:ts) rewrites the TypeScript module before every tsc run, so the
// compiled table is always the header's even before the new module is committed.
//
//   node scripts/gen-tables.mjs            rewrite the outputs that changed (run after editing a header)
//   node scripts/gen-tables.mjs --module   only the TypeScript modules (what the build runs)
//   node scripts/gen-tables.mjs --check    list the outputs that are out of date; exit 1 if any
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));

/** The arguments of each `X(...)` entry of the X-macro `macro` in C source `text`, as strings and numbers. */
export function parseXMacro(text, macro) {
  const lines = text.split('\n');
  const start = lines.findIndex((l) => l.startsWith(`#define ${macro}(`));
  if (start < 0) throw new Error(`no #define ${macro}(X) found`);
  let body = '';
  for (let i = start; i < lines.length; i++) {
    const line = lines[i];
    const continued = line.trimEnd().endsWith('\\');
    body += `${continued ? line.trimEnd().slice(0, -1) : line}\n`;
    if (!continued) break;
  }
  body = body.slice(body.indexOf(')') + 1);
  const tokens = tokenize(body, macro);
  const entries = [];
  let i = 0;
  while (i < tokens.length) {
    const head = tokens[i];
    if (head.kind !== 'ident' || tokens[i + 1]?.value !== '(') throw new Error(`${macro}: expected X(...) at ${describe(head)}`);
    i += 2;
    const args = [];
    let parts = [];
    for (;;) {
      const t = tokens[i++];
      if (!t) throw new Error(`${macro}: unterminated entry ${entries.length + 1}`);
      if (t.value === ',' || t.value === ')') {
        args.push(argument(parts, macro, entries.length + 1));
        parts = [];
        if (t.value === ')') break;
      } else {
        parts.push(t);
      }
    }
    entries.push(args);
  }
  return entries;
}

function describe(t) {
  return t ? `'${t.value}'` : 'end of macro';
}

/** One argument: an identifier, an integer, or adjacent string literals joined as C joins them. */
function argument(parts, macro, n) {
  if (parts.length === 1 && parts[0].kind !== 'string') return parts[0].value;
  if (parts.length > 0 && parts.every((p) => p.kind === 'string')) return parts.map((p) => p.value).join('');
  throw new Error(`${macro}: entry ${n} has an argument that is not an identifier, an integer or string literals: ${parts.map((p) => p.value).join(' ')}`);
}

const ESCAPES = { n: '\n', t: '\t', '"': '"', "'": "'", '\\': '\\', '?': '?' };

function tokenize(src, macro) {
  const tokens = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (/\s/.test(c)) {
      i++;
    } else if (src.startsWith('/*', i)) {
      const end = src.indexOf('*/', i + 2);
      if (end < 0) throw new Error(`${macro}: unterminated comment`);
      i = end + 2;
    } else if (c === '"') {
      let s = '';
      i++;
      while (src[i] !== '"') {
        if (i >= src.length || src[i] === '\n') throw new Error(`${macro}: unterminated string literal`);
        if (src[i] === '\\') {
          const e = ESCAPES[src[i + 1]];
          if (e === undefined) throw new Error(`${macro}: unsupported escape \\${src[i + 1]}`);
          s += e;
          i += 2;
        } else {
          s += src[i++];
        }
      }
      i++;
      tokens.push({ kind: 'string', value: s });
    } else if (/[-0-9]/.test(c)) {
      const m = /^-?[0-9]+(?:[uUlL]*)/.exec(src.slice(i));
      if (!m) throw new Error(`${macro}: bad number at ${src.slice(i, i + 12)}`);
      const n = Number(m[0].replace(/[uUlL]+$/, ''));
      if (!Number.isSafeInteger(n)) throw new Error(`${macro}: ${m[0]} is not a safe integer`);
      tokens.push({ kind: 'number', value: n });
      i += m[0].length;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i));
      tokens.push({ kind: 'ident', value: m[0] });
      i += m[0].length;
    } else if ('(),'.includes(c)) {
      tokens.push({ kind: 'punct', value: c });
      i++;
    } else {
      throw new Error(`${macro}: unexpected character '${c}'`);
    }
  }
  return tokens;
}

/** FFS_SYSCTLS as { name, default, min, max, unit, description } in table order. */
export function readSysctls(root = ROOT) {
  return parseXMacro(readFileSync(join(root, 'stack/lcore/sysctl.h'), 'utf8'), 'FFS_SYSCTLS').map((a, k) => {
    const [, name, def, min, max, unit, doc] = a;
    const ok = a.length === 7 && typeof name === 'string' && [def, min, max].every(Number.isSafeInteger)
      && typeof unit === 'string' && typeof doc === 'string';
    if (!ok) throw new Error(`FFS_SYSCTLS entry ${k + 1}: expected X(ID, "name", default, min, max, "unit", "doc")`);
    return { name, default: def, min, max, unit, description: doc };
  });
}

/** The kinds of FFS_COUNTERS' kind column (stack/lcore/counters.h says what each means). */
export const COUNTER_KINDS = ['drop', 'count'];

/** FFS_COUNTERS as { name, kind, description } in struct order. */
export function readCounters(root = ROOT) {
  return parseXMacro(readFileSync(join(root, 'stack/lcore/counters.h'), 'utf8'), 'FFS_COUNTERS').map((a, k) => {
    const [, name, kind, doc] = a;
    if (a.length !== 4 || typeof name !== 'string' || !COUNTER_KINDS.includes(kind) || typeof doc !== 'string') {
      throw new Error(`FFS_COUNTERS entry ${k + 1}: expected X(field, "name", ${COUNTER_KINDS.join('|')}, "doc")`);
    }
    return { name, kind, description: doc };
  });
}

const cell = (s) => s.replace(/\|/g, '\\|');

/** The TypeScript module config/sysctl.ts builds SYSCTLS from. */
export function renderSysctlModule(sysctls) {
  const rows = sysctls.map((s) => [
    '  {',
    `    name: ${JSON.stringify(s.name)},`,
    `    default: ${s.default}, min: ${s.min}, max: ${s.max}, unit: ${JSON.stringify(s.unit)},`,
    `    description: ${JSON.stringify(s.description)},`,
    '  },',
  ].join('\n'));
  return `/**
 * GENERATED by scripts/gen-tables.mjs from FFS_SYSCTLS in stack/lcore/sysctl.h: do not edit; change
 * the header and run \`node scripts/gen-tables.mjs\`. The build rewrites this file before every tsc
 * run, so what is compiled is the header's table; it is committed so that tsc and vitest also work on
 * a fresh clone, and test/config/sysctl-table.test.ts fails while it differs from the header.
 * config/sysctl.ts exports it as SYSCTLS.
 */

/** Every tunable the stack knows, in the header's order. */
export const SYSCTL_TABLE = [
${rows.join('\n')}
] as const;
`;
}

/** The module tools/counters.ts takes the counters' kinds from. */
export function renderCounterModule(counters) {
  const rows = counters.map((c) => `  { name: ${JSON.stringify(c.name)}, kind: ${JSON.stringify(c.kind)} },`);
  return `/**
 * GENERATED by scripts/gen-tables.mjs from FFS_COUNTERS in stack/lcore/counters.h: do not edit; change
 * the header and run \`node scripts/gen-tables.mjs\`. The build rewrites this file before every tsc
 * run; test/config/sysctl-table.test.ts fails while the committed one differs from the header.
 * tools/counters.ts takes DROP_COUNTERS from it.
 */

/** Every counter of the stack in struct order, with its kind (drop or count, see counters.h). */
export const COUNTER_TABLE = [
${rows.join('\n')}
] as const;
`;
}

/** The [sysctl] table of docs/configuration.md. */
export function renderSysctlDoc(sysctls) {
  return [
    '| Name | Default | Range | Meaning |',
    '|---|---|---|---|',
    ...sysctls.map((s) => `| \`${s.name}\` | \`${s.default}\` | ${s.min}..${s.max}${s.unit ? ` ${s.unit}` : ''} | ${cell(s.description)} |`),
  ].join('\n');
}

/** The table of docs/counters.md. */
export function renderCounterDoc(counters) {
  return ['| Counter | Kind | Meaning |', '|---|---|---|', ...counters.map((c) => `| \`${c.name}\` | ${c.kind} | ${cell(c.description)} |`)].join('\n');
}

/** `text` with the block between `<!-- generated:NAME -->` and `<!-- /generated:NAME -->` replaced by `block`. */
export function replaceBlock(text, name, block, file) {
  const open = `<!-- generated:${name} (scripts/gen-tables.mjs) -->`;
  const close = `<!-- /generated:${name} -->`;
  const a = text.indexOf(open);
  const b = text.indexOf(close);
  if (a < 0 || b < a) throw new Error(`${file}: no ${open} ... ${close} block`);
  return `${text.slice(0, a + open.length)}\n\n${block}\n\n${text.slice(b)}`;
}

/** Every output as { path (relative to root), text } from the headers as they are now; `docs: false`: the module only. */
export function outputs(root = ROOT, { docs = true } = {}) {
  const sysctls = readSysctls(root);
  const counters = readCounters(root);
  const out = [
    { path: 'config/sysctl.generated.ts', text: renderSysctlModule(sysctls) },
    { path: 'tools/counters.generated.ts', text: renderCounterModule(counters) },
  ];
  if (!docs) return out;
  const doc = (path, name, block) => ({ path, text: replaceBlock(readFileSync(join(root, path), 'utf8'), name, block, path) });
  out.push(doc('docs/configuration.md', 'sysctl', renderSysctlDoc(sysctls)));
  out.push(doc('docs/counters.md', 'counters', renderCounterDoc(counters)));
  return out;
}

function current(root, path) {
  try {
    return readFileSync(join(root, path), 'utf8');
  } catch {
    return undefined;
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const check = process.argv.includes('--check');
  const stale = outputs(ROOT, { docs: !process.argv.includes('--module') }).filter((o) => current(ROOT, o.path) !== o.text);
  for (const o of stale) {
    if (check) {
      console.error(`${o.path} is out of date: run node scripts/gen-tables.mjs`);
    } else {
      writeFileSync(join(ROOT, o.path), o.text);
      console.error(`[gen-tables] wrote ${o.path} from the stack's headers (commit it)`);
    }
  }
  if (check && stale.length) process.exit(1);
}
