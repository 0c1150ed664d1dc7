/**
 * The documentation's relative links resolve: every link in README.md and docs/**\/*.md to a file of the
 * repository points to one that exists, and a link with a #fragment to a heading of the page it names
 * (GitHub's heading anchors). Every page of docs/ is reachable from the README. Links to the `ffnet`
 * commands' pages in the README's Tools list are checked once the command exists (tools/commands/NAME.ts).
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));

/** Markdown files to check under `dir`: README.md and docs/, recursively. */
function pages(dir: string): string[] {
  const out = [join(dir, 'README.md')];
  const walk = (d: string) => {
    if (!existsSync(d)) return;
    for (const e of readdirSync(d)) {
      const p = join(d, e);
      if (statSync(p).isDirectory()) walk(p);
      else if (e.endsWith('.md')) out.push(p);
    }
  };
  walk(join(dir, 'docs'));
  return out;
}

/** `md` with fenced code blocks and inline code spans blanked out (same offsets), where links are not links. */
function prose(md: string): string {
  const blank = (s: string) => s.replace(/[^\n]/g, ' ');
  return md.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, blank).replace(/`[^`\n]*`/g, blank);
}

/** GitHub's anchors for the headings of a page: lower case, punctuation dropped, spaces to hyphens, -N for repeats. */
export function anchors(md: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  const text = md.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '');
  for (const m of text.matchAll(/^#{1,6}[ \t]+(.+?)[ \t#]*$/gm)) {
    const heading = m[1]!.replace(/\[([^\]]*)\]\([^)]*\)/g, '$1').replace(/`/g, '').replace(/<[^>]+>/g, '');
    const base = heading.toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

interface Link { from: string; target: string; inToolsList: boolean }

/** The relative links of a page (external ones, mailto: and bare #fragments included as written). */
function links(file: string): Link[] {
  const md = readFileSync(file, 'utf8');
  const out: Link[] = [];
  const toolsStart = md.indexOf('<!-- tools -->');
  const toolsEnd = md.indexOf('<!-- /tools -->');
  for (const m of prose(md).matchAll(/!?\[(?:[^\]\\]|\\.)*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
    const target = m[1]!;
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue;
    out.push({ from: file, target, inToolsList: toolsStart >= 0 && m.index > toolsStart && m.index < toolsEnd });
  }
  return out;
}

/** Every link of the pages under `dir` that does not resolve, as "page: target (why)". */
export function brokenLinks(dir: string): string[] {
  const broken: string[] = [];
  for (const page of pages(dir)) {
    for (const link of links(page)) {
      const [path, fragment] = link.target.split('#', 2) as [string, string | undefined];
      const file = path === '' ? page : resolve(dirname(page), decodeURI(path));
      const command = /^docs\/tools\/([a-z]+)\.md$/.exec(relative(dir, file))?.[1];
      if (link.inToolsList && command && !existsSync(join(dir, 'tools/commands', `${command}.ts`))) continue;
      const where = `${relative(dir, page)}: ${link.target}`;
      if (!file.startsWith(dir) || !existsSync(file)) {
        broken.push(`${where} (no such file)`);
      } else if (fragment !== undefined) {
        if (!file.endsWith('.md')) broken.push(`${where} (a #fragment on a file that is not markdown)`);
        else if (!anchors(readFileSync(file, 'utf8')).has(fragment)) broken.push(`${where} (no heading #${fragment} in ${relative(dir, file)})`);
      }
    }
  }
  return broken;
}

const scratch = mkdtempSync(join(tmpdir(), 'ffnet-links-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('documentation links', () => {
  it('every relative link in README.md and docs/ resolves to a file and heading', () => {
    expect(brokenLinks(root)).toEqual([]);
  });

  it('every page of docs/ is linked from the README', () => {
    const linked = new Set(links(join(root, 'README.md')).map((l) => resolve(root, l.target.split('#')[0]!)));
    const top = readdirSync(join(root, 'docs')).filter((e) => e.endsWith('.md')).map((e) => join(root, 'docs', e));
    expect(top.length).toBeGreaterThanOrEqual(8);
    expect(top.filter((p) => !linked.has(p)).map((p) => relative(root, p))).toEqual([]);
  });

  it('names a missing file, a missing heading and a fragment on a non-markdown file', () => {
    mkdirSync(join(scratch, 'docs'), { recursive: true });
    mkdirSync(join(scratch, 'tools/commands'), { recursive: true });
    writeFileSync(join(scratch, 'tools/commands/ps.ts'), '');
    writeFileSync(join(scratch, 'docs/a.md'), '# Page A\n\n## `[portN]` — one section (N = 0..31)\n\n## Worker threads\n');
    writeFileSync(join(scratch, 'README.md'), [
      '# R', '', '## Multi-process: node:cluster', '',
      '[ok](docs/a.md#portn--one-section-n--031) [ok](docs/a.md#worker-threads) [ok](#multi-process-nodecluster)',
      '[gone](docs/b.md) [bad](docs/a.md#workers) [bin](package.json#x) [web](https://example.org/x)',
      '`[code](docs/none.md)`', '```', '[fenced](docs/none.md)', '```',
      '<!-- tools -->', '[ps](docs/tools/ps.md) [top](docs/tools/top.md)', '<!-- /tools -->', '',
    ].join('\n'));
    writeFileSync(join(scratch, 'package.json'), '{}');
    expect(brokenLinks(scratch)).toEqual([
      'README.md: docs/b.md (no such file)',
      'README.md: docs/a.md#workers (no heading #workers in docs/a.md)',
      'README.md: package.json#x (a #fragment on a file that is not markdown)',
      'README.md: docs/tools/ps.md (no such file)',
    ]);
  });

  it('computes repeated headings\' anchors as GitHub does', () => {
    expect([...anchors('# Tools\n## Tools\n### ffnet/dgram: `x`\n')]).toEqual(['tools', 'tools-1', 'ffnetdgram-x']);
  });
});
