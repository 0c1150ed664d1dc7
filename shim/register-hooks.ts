/**
 * Module resolve hook of `ffnet/register` (installed with `module.registerHooks`, or loaded by
 * `module.register` where Node lacks it): the builtin ids 'dgram' and 'node:dgram' resolve to
 * ffnet/dgram for every ESM import. ffnet/dgram itself reaches node:dgram
 * through `process.getBuiltinModule`, which no hook sees.
 */

/** The URL of ffnet/dgram, passed as `data` to `module.register`. */
let target = '';

/** Receives the URL of ffnet/dgram. */
export function initialize(data: { dgramUrl: string }): void {
  target = data.dgramUrl;
}

type ResolveResult = { url: string; shortCircuit?: boolean; format?: string | null };
type NextResolve = (specifier: string, context?: unknown) => ResolveResult | Promise<ResolveResult>;

/** Redirects 'dgram' and 'node:dgram' to ffnet/dgram; everything else resolves as usual. */
export function resolve(specifier: string, context: unknown, nextResolve: NextResolve): ResolveResult | Promise<ResolveResult> {
  if (target && (specifier === 'dgram' || specifier === 'node:dgram')) return { url: target, shortCircuit: true, format: 'module' };
  return nextResolve(specifier, context);
}
