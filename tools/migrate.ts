/**
 * The codemod behind `ffnet migrate`: moves a JavaScript or TypeScript project from node:dgram to
 * ffnet/dgram by rewriting each module specifier 'dgram' / 'node:dgram' to 'ffnet/dgram' in
 * - `import … from` and side-effect imports, `export … from`, `import x = require()`;
 * - dynamic `import()`, `require()` calls and `import()` types.
 * Only the characters between the quotes change: quote style, spacing and comments stay as they were.
 * Files are parsed with ts-morph (the TypeScript compiler's parser, so .js/.jsx/.mjs/.cjs as well as
 * .ts/.tsx/.mts/.cts); node_modules, .git and whatever the project's .gitignore files exclude are skipped.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { createTwoFilesPatch } from 'diff';
import ignore, { type Ignore } from 'ignore';
import type { Node as TsNode, SourceFile } from 'ts-morph';

/** The specifiers rewritten, and what they become. */
export const FROM = new Set(['dgram', 'node:dgram']);
export const TO = 'ffnet/dgram';

const SOURCE_EXT = /\.(?:[cm]?[jt]s|[jt]sx)$/;
/** Never looked into: dependencies and version control. */
const SKIP_DIRS = new Set(['node_modules', '.git']);

/** One file's rewrite. */
export interface FileChange {
  /** Relative to the migrated directory, '/'-separated. */
  path: string;
  before: string;
  after: string;
  /** Specifiers rewritten in this file. */
  count: number;
}

/** What a migration found (and, unless a dry run, wrote). */
export interface MigrateResult {
  /** Source files looked at. */
  scanned: number;
  changes: FileChange[];
  /** Specifiers rewritten over all files. */
  specifiers: number;
}

interface IgnoreScope {
  base: string;
  rules: Ignore;
}

/** The source files under `dir`, honouring every .gitignore on the way down (as git does, nested ones included). */
export function listSourceFiles(dir: string): string[] {
  const found: string[] = [];
  const walk = (current: string, scopes: IgnoreScope[]): void => {
    let gitignore: string | undefined;
    try {
      gitignore = readFileSync(join(current, '.gitignore'), 'utf8');
    } catch {
      /* no .gitignore here */
    }
    const here = gitignore === undefined ? scopes : [...scopes, { base: current, rules: ignore().add(gitignore) }];
    for (const entry of readdirSync(current, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      if (entry.isDirectory() && SKIP_DIRS.has(entry.name)) continue;
      const full = join(current, entry.name);
      const isDir = entry.isDirectory();
      if (!isDir && !(entry.isFile() && SOURCE_EXT.test(entry.name))) continue;
      const ignored = here.some(({ base, rules }) => rules.ignores(relative(base, full).split(sep).join('/') + (isDir ? '/' : '')));
      if (ignored) continue;
      if (isDir) walk(full, here);
      else found.push(full);
    }
  };
  walk(dir, []);
  return found;
}

/** The string literals of `file` that name node:dgram as a module. */
function dgramSpecifiers(file: SourceFile, ts: typeof import('ts-morph').ts, Node: typeof TsNode): TsNode[] {
  const hits: TsNode[] = [];
  const consider = (literal: TsNode | undefined): void => {
    if (literal && (Node.isStringLiteral(literal) || Node.isNoSubstitutionTemplateLiteral(literal)) && FROM.has(literal.getLiteralText())) {
      hits.push(literal);
    }
  };
  file.forEachDescendant((node) => {
    if (Node.isImportDeclaration(node) || Node.isExportDeclaration(node)) {
      consider(node.getModuleSpecifier());
    } else if (Node.isExternalModuleReference(node)) {
      consider(node.getExpression());
    } else if (Node.isCallExpression(node)) {
      const callee = node.getExpression();
      const isRequire = Node.isIdentifier(callee) && callee.getText() === 'require';
      const isImport = callee.getKind() === ts.SyntaxKind.ImportKeyword;
      if ((isRequire || isImport) && node.getArguments().length >= 1) consider(node.getArguments()[0]);
    } else if (Node.isImportTypeNode(node)) {
      const arg = node.getArgument();
      if (Node.isLiteralTypeNode(arg)) consider(arg.getLiteral());
    }
  });
  return hits;
}

/** Loads ts-morph (a dependency of ffnet, loaded only by this command: it carries the TypeScript compiler). */
async function loadTsMorph(): Promise<typeof import('ts-morph')> {
  try {
    return await import('ts-morph');
  } catch (err) {
    throw new Error(`ts-morph could not be loaded (${(err as Error).message.split('\n')[0]}): reinstall ffnet (npm install ffnet)`);
  }
}

/**
 * Rewrites every node:dgram specifier of the project in `dir`; with `dryRun` nothing is written.
 * Each change keeps its file byte for byte except the specifier text between the quotes.
 */
export async function migrate(dir: string, { dryRun = false }: { dryRun?: boolean } = {}): Promise<MigrateResult> {
  const { Project, Node, ts } = await loadTsMorph();
  const files = listSourceFiles(dir);
  const project = new Project({
    useInMemoryFileSystem: true,
    skipFileDependencyResolution: true,
    compilerOptions: { allowJs: true, jsx: ts.JsxEmit.Preserve },
  });
  const changes: FileChange[] = [];
  let specifiers = 0;
  for (const full of files) {
    const before = readFileSync(full, 'utf8');
    const source = project.createSourceFile(full, before, { overwrite: true });
    // From the end, so earlier offsets stay valid.
    const hits = dgramSpecifiers(source, ts, Node).sort((a, b) => b.getStart() - a.getStart());
    let after = before;
    for (const literal of hits) {
      after = `${after.slice(0, literal.getStart() + 1)}${TO}${after.slice(literal.getEnd() - 1)}`;
    }
    project.removeSourceFile(source);
    if (hits.length === 0) continue;
    if (!dryRun) writeFileSync(full, after);
    changes.push({ path: relative(dir, full).split(sep).join('/'), before, after, count: hits.length });
    specifiers += hits.length;
  }
  return { scanned: files.length, changes, specifiers };
}

/** The changes as one unified diff (`a/` and `b/` paths as git shows them). */
export function unifiedDiff(changes: FileChange[]): string {
  return changes
    .map((c) => createTwoFilesPatch(`a/${c.path}`, `b/${c.path}`, c.before, c.after, undefined, undefined, { context: 3 })
      .split('\n').filter((line) => !/^=+$/.test(line)).join('\n'))
    .join('');
}

/** "N files changed, M specifiers rewritten" (singular where it is one). */
export function summary(result: MigrateResult): string {
  const n = result.changes.length;
  const m = result.specifiers;
  return `${n} ${n === 1 ? 'file' : 'files'} changed, ${m} ${m === 1 ? 'specifier' : 'specifiers'} rewritten`;
}
