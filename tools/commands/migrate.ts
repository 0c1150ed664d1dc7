/**
 * `ffnet migrate [DIR] [--dry-run]`: rewrites a JavaScript or TypeScript project's `dgram` /
 * `node:dgram` imports, re-exports, `import()`s and `require()`s to ffnet/dgram (tools/migrate.ts),
 * changing only the specifiers. --dry-run prints the unified diff and writes nothing. Ends with
 * "N files changed, M specifiers rewritten".
 */
import { readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ToolError, type Command } from '../command.js';
import { migrate as migrateProject, summary, unifiedDiff } from '../migrate.js';

/** Whether DIR/package.json lists ffnet among its dependencies (undefined: there is no package.json). */
function dependsOnFfnet(dir: string): boolean | undefined {
  let pkg: Record<string, Record<string, string> | undefined>;
  try {
    pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as typeof pkg;
  } catch {
    return undefined;
  }
  return ['dependencies', 'devDependencies', 'optionalDependencies', 'peerDependencies'].some((k) => pkg[k]?.ffnet !== undefined);
}

export const migrate: Command = {
  name: 'migrate',
  summary: 'rewrite a project\'s node:dgram imports and requires to ffnet/dgram',
  usage: `ffnet migrate [DIR] [--dry-run]

Rewrites every 'dgram' and 'node:dgram' module specifier in the JavaScript and TypeScript files under
DIR (default: the current directory) to 'ffnet/dgram': import and export ... from, import x =
require(), dynamic import(), require() and import() types. Only the text between the quotes changes.
node_modules, .git and what .gitignore files exclude are skipped. --dry-run prints the changes as a
unified diff and writes nothing.`,
  options: { 'dry-run': { type: 'boolean', short: 'n' } },
  allowPositionals: true,
  async run(ctx) {
    if (ctx.positionals.length > 1) throw new ToolError(`one directory at most (got ${ctx.positionals.length})`, 2);
    const dir = resolve(ctx.positionals[0] ?? '.');
    let isDir = false;
    try {
      isDir = statSync(dir).isDirectory();
    } catch {
      /* reported below */
    }
    if (!isDir) throw new ToolError(`${dir}: no such directory`, 2);
    const dryRun = ctx.values['dry-run'] === true;
    const result = await migrateProject(dir, { dryRun });
    if (ctx.json) {
      ctx.out(JSON.stringify({
        dir,
        dryRun,
        scanned: result.scanned,
        specifiers: result.specifiers,
        files: result.changes.map((c) => ({ path: c.path, specifiers: c.count })),
      }));
      return 0;
    }
    if (dryRun && result.changes.length) ctx.out(unifiedDiff(result.changes).trimEnd());
    ctx.out(`${summary(result)}${dryRun ? ' (dry run: nothing written)' : ''}`);
    if (result.changes.length && dependsOnFfnet(dir) === false) ctx.out('ffnet is not among package.json\'s dependencies yet: npm install ffnet');
    return 0;
  },
};
