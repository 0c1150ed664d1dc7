/**
 * NODE_OPTIONS that preload a module with `--import`: how ffnet/register reaches the child processes
 * of a program, and how `ffnet run` starts one (its command line stays `node app.js ...`).
 */
import { pathToFileURL } from 'node:url';

/**
 * `current` with `--import <path>` appended, unless it names `path` already. A path with white space
 * is quoted as Node's NODE_OPTIONS parser reads it (double quotes, backslash escapes).
 */
export function withImport(current: string | undefined, path: string): string {
  const options = current ?? '';
  if (options.includes(path) || options.includes(pathToFileURL(path).href)) return options;
  const arg = /\s/.test(path) ? `"${path.replace(/(["\\])/g, '\\$1')}"` : path;
  return `${options ? `${options} ` : ''}--import ${arg}`;
}
