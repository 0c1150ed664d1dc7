/**
 * `ffnet/register`: runs unmodified node:dgram programs on ffnet.
 *
 * ```sh
 * node --import ffnet/register app.mjs     # ESM
 * node --require ffnet/register app.js     # CommonJS (Node 20.19+ loads this ES module via require)
 * ```
 *
 * After it, `require('dgram')`, `require('node:dgram')`, `import … from 'node:dgram'` and
 * `import('dgram')` all give ffnet/dgram: ES modules through a resolve hook (`module.registerHooks`
 * where Node has it, else `module.register`), CommonJS through the loader's `Module._load`. Child processes inherit it through NODE_OPTIONS
 * (`--import <this file>` is appended when absent); new worker threads get `--require <this file>`
 * added to their execArgv (`Worker` is wrapped). ffnet/dgram's own use of node:dgram (its kernel
 * backend) bypasses both hooks.
 *
 * `os.networkInterfaces()` (`require('os')`, `import os from 'node:os'` and the named import) lists
 * the interfaces the program's sockets can use: on the dpdk backend the stack's ports and the kernel's
 * `lo`, starting the stack as the first socket would (./network-interfaces.ts); elsewhere the kernel's.
 */
import Module, { createRequire, register, syncBuiltinESMExports } from 'node:module';
import os from 'node:os';
import workerThreads from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { withImport } from './node-options.js';
import { initialize, resolve } from './register-hooks.js';

const here = import.meta.url;
const dgramUrl = new URL('./dgram.js', here).href;
const dgramPath = fileURLToPath(dgramUrl);
const requireHere = createRequire(here);
const interfacesPath = fileURLToPath(new URL('./network-interfaces.js', here));

/** CommonJS loader internals this hook wraps. */
interface ModuleLoader {
  _load(request: string, parent: unknown, isMain: boolean): unknown;
}

const kInstalled = Symbol.for('ffnet.register.installed');
const registry = globalThis as unknown as Record<symbol, boolean | undefined>;

function installCjsHook(): void {
  const loader = Module as unknown as ModuleLoader;
  const original = loader._load;
  loader._load = function load(this: unknown, request: string, parent: unknown, isMain: boolean): unknown {
    if (request === 'dgram' || request === 'node:dgram') return (requireHere(dgramPath) as { default: unknown }).default;
    return original.call(this, request, parent, isMain);
  };
}

/** `module.registerHooks` (Node 22.15+, 23.5+): synchronous hooks that run in the calling thread. */
type RegisterHooks = (hooks: { resolve: typeof resolve }) => unknown;

function installEsmHook(): void {
  const registerHooks = (Module as unknown as { registerHooks?: RegisterHooks }).registerHooks;
  if (registerHooks) {
    // module.register's hooks run on a loader thread; from Node 22.15 a require() of an ES module
    // (ffnet/dgram itself, when `require('dgram')` is redirected) then throws
    // ERR_METHOD_NOT_IMPLEMENTED ('The resolveSync() method is not implemented').
    initialize({ dgramUrl });
    registerHooks({ resolve });
  } else {
    register('./register-hooks.js', { parentURL: here, data: { dgramUrl } });
  }
}

type ProgramInterfaces = typeof import('./network-interfaces.js').programInterfaces;
const kProgramInterfaces = Symbol.for('ffnet.register.programInterfaces');

/**
 * The program's view of os.networkInterfaces (./network-interfaces.ts): published once ffnet/dgram is
 * loaded; before that, loaded here when FFNET_CONFIG asks for the stack. Undefined: the kernel's list
 * (no stack configured, and no dgram loaded that could have started one).
 */
function programInterfaces(): ProgramInterfaces | undefined {
  const published = (globalThis as unknown as Record<symbol, ProgramInterfaces | undefined>)[kProgramInterfaces];
  if (published || !process.env.FFNET_CONFIG) return published;
  return (requireHere(interfacesPath) as { programInterfaces: ProgramInterfaces }).programInterfaces;
}

/**
 * Replaces os.networkInterfaces with the program's view (loaded only when needed, so that a program
 * that never asks loads no stack) and updates node:os's ES module exports.
 */
function installInterfacesHook(): void {
  const kernelList = os.networkInterfaces;
  const kernel = () => kernelList.call(os);
  os.networkInterfaces = function networkInterfaces() {
    const view = programInterfaces();
    return view ? view(kernel) : kernel();
  };
  syncBuiltinESMExports();
}

/** Makes child processes load this module too (NODE_OPTIONS), quoting a path with spaces. */
function inheritInChildren(): void {
  process.env.NODE_OPTIONS = withImport(process.env.NODE_OPTIONS, fileURLToPath(here));
}

/** Wraps worker_threads.Worker so new workers load this module first. */
function inheritInWorkers(): void {
  const self = fileURLToPath(here);
  const Original = workerThreads.Worker;
  type WorkerArgs = ConstructorParameters<typeof Original>;
  class Worker extends Original {
    constructor(filename: WorkerArgs[0], options: WorkerArgs[1] = {}) {
      const execArgv = options.execArgv ?? process.execArgv;
      const has = execArgv.some((a, i) => a === '--require' && execArgv[i + 1] === self);
      super(filename, has ? options : { ...options, execArgv: [...execArgv, '--require', self] });
    }
  }
  (workerThreads as { Worker: typeof Original }).Worker = Worker;
  syncBuiltinESMExports();
}

if (!registry[kInstalled]) {
  registry[kInstalled] = true;
  installCjsHook();
  installEsmHook();
  inheritInChildren();
  inheritInWorkers();
  installInterfacesHook();
}

/** The module `dgram` now resolves to. */
export const target: string = dgramUrl;
