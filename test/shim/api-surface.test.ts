/**
 * ffnet/dgram's type surface against @types/node's dgram.d.ts, read with ts-morph: every export of
 * node:dgram, every Socket method with at least as many call signatures (overloads), every event
 * overload of addListener/emit/on/once/prependListener/prependOnceListener (event name and listener
 * arity), and every createSocket option (SocketOptions members) must exist in ffnet/dgram's own
 * declarations. Finally a program typed against node:dgram must type-check against ffnet/dgram:
 * ffnet's Socket is assignable to node's, and its createSocket to node's createSocket.
 *
 * ffnet/dgram's declarations are the ones the package publishes (dist/shim/dgram.d.ts through the
 * "./dgram" export, produced by `npm run build`); they are resolved the way a user's compiler would,
 * by importing 'ffnet/dgram' from a probe file inside the package (self-reference).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Node, Project, type Symbol as MorphSymbol, type Type, ts } from 'ts-morph';
import { REPO } from './scenarios.js';

const NODE_DGRAM_DTS = join(REPO, 'node_modules/@types/node/dgram.d.ts');
const EVENT_METHODS = ['addListener', 'emit', 'on', 'once', 'prependListener', 'prependOnceListener'];

const PROBE = `
import type * as N from 'node:dgram';
import * as F from 'ffnet/dgram';
export declare const nodeSocket: N.Socket;
export declare const ffSocket: F.Socket;
export declare const nodeOptions: N.SocketOptions;
export declare const ffOptions: F.SocketOptions;
export const nodeCreate = null as unknown as typeof N.createSocket;
export const ffCreate = F.createSocket;
`;

const ASSIGNABILITY = `
import type * as N from 'node:dgram';
import * as F from 'ffnet/dgram';
import dgramDefault from 'ffnet/dgram';
export const asNodeSocket: N.Socket = F.createSocket('udp4');
export const asNodeCreate: typeof N.createSocket = F.createSocket;
export const asNodeCreateDefault: typeof N.createSocket = dgramDefault.createSocket;
export const fromOptions: N.Socket = F.createSocket({ type: 'udp4', reuseAddr: true, ipv6Only: false, recvBufferSize: 1, sendBufferSize: 1, signal: new AbortController().signal });
export const withListener: N.Socket = F.createSocket('udp4', (msg: Buffer, rinfo: N.RemoteInfo) => void [msg, rinfo]);
const s: N.Socket = F.createSocket('udp4');
s.bind(1234, '127.0.0.1', () => {});
s.bind(1234, () => {});
s.bind(() => {});
s.bind({ port: 1, address: '127.0.0.1', exclusive: true }, () => {});
s.send(Buffer.from('x'), 0, 1, 1234, '127.0.0.1', (err: Error | null, bytes: number) => void [err, bytes]);
s.on('message', (msg: Buffer, rinfo: N.RemoteInfo) => void [msg, rinfo]);
`;

let project: Project;
let nodeDts: ReturnType<Project['addSourceFileAtPath']>;
let probe: ReturnType<Project['createSourceFile']>;

function typeOfExport(name: string): Type {
  const decl = probe.getVariableDeclarationOrThrow(name);
  return decl.getType();
}

/** The name of a property symbol (`[Symbol.asyncDispose]` for the well-known symbol). */
function propName(sym: MorphSymbol): string {
  const n = sym.getName();
  return n.startsWith('__@asyncDispose') ? '[Symbol.asyncDispose]' : n;
}

function callSignatures(owner: Type, name: string): ReturnType<Type['getCallSignatures']> {
  const sym = owner.getProperties().find((p) => propName(p) === name);
  if (!sym) return [];
  return sym.getTypeAtLocation(probe).getCallSignatures();
}

/** Event-name literals a signature's first parameter accepts ('*' for string/symbol). */
function eventNames(sig: ReturnType<Type['getCallSignatures']>[number]): string[] {
  const p = sig.getParameters()[0];
  if (!p) return [];
  const t = p.getTypeAtLocation(probe);
  const parts = t.isUnion() ? t.getUnionTypes() : [t];
  return parts.map((u) => (u.isStringLiteral() ? String(u.getLiteralValue()) : '*'));
}

/** The arity of a signature's listener (second parameter), or, for emit, of the rest after the event. */
function listenerArity(method: string, sig: ReturnType<Type['getCallSignatures']>[number]): number {
  if (method === 'emit') return sig.getParameters().length - 1;
  const l = sig.getParameters()[1];
  if (!l) return -1;
  const sigs = l.getTypeAtLocation(probe).getCallSignatures();
  return sigs[0]?.getParameters().length ?? -1;
}

describe('ffnet/dgram type surface against @types/node dgram.d.ts', () => {
  beforeAll(() => {
    expect(existsSync(NODE_DGRAM_DTS), NODE_DGRAM_DTS).toBe(true);
    expect(existsSync(join(REPO, 'dist/shim/dgram.d.ts')), 'dist/shim/dgram.d.ts (npm run build)').toBe(true);
    project = new Project({
      tsConfigFilePath: join(REPO, 'tsconfig.json'),
      skipAddingFilesFromTsConfig: true,
      compilerOptions: { noEmit: true, skipLibCheck: true, incremental: false, tsBuildInfoFile: undefined },
    });
    nodeDts = project.addSourceFileAtPath(NODE_DGRAM_DTS);
    probe = project.createSourceFile(join(REPO, 'test/shim/__dgram_surface_probe.ts'), PROBE, { overwrite: true });
  });

  it('the probe itself type-checks (ffnet/dgram resolves by the package name)', () => {
    const diags = probe.getPreEmitDiagnostics().map((d) => ts.flattenDiagnosticMessageText(d.compilerObject.messageText, "\n"));
    expect(diags).toEqual([]);
  });

  it('exports every name node:dgram exports', () => {
    const mod = nodeDts.getModuleOrThrow('"dgram"');
    const nodeNames = [...new Set(mod.getStatements().flatMap((s) => (Node.hasName(s) ? [s.getName()] : [])))].sort();
    expect(nodeNames).toEqual(['BindOptions', 'RemoteInfo', 'Socket', 'SocketOptions', 'SocketType', 'createSocket']);
    const imp = probe.getImportDeclarations().find((d) => d.getModuleSpecifierValue() === 'ffnet/dgram');
    const ns = imp?.getNamespaceImport()?.getSymbolOrThrow();
    const ffMod = ns?.getAliasedSymbol() ?? ns;
    const ffNames = new Set((ffMod?.getExports() ?? []).map((e) => e.getName()));
    expect(nodeNames.filter((n) => !ffNames.has(n)), `ffnet/dgram exports: ${[...ffNames].sort().join(', ')}`).toEqual([]);
  });

  it('has every Socket method of node:dgram with at least as many overloads', () => {
    const nodeT = typeOfExport('nodeSocket');
    const ffT = typeOfExport('ffSocket');
    const rows = nodeT
      .getProperties()
      .map((p) => propName(p))
      .map((name) => ({ name, node: callSignatures(nodeT, name).length, ffnet: callSignatures(ffT, name).length }));
    // Every method the declaration lists, plus the inherited EventEmitter ones.
    expect(rows.map((r) => r.name)).toEqual(expect.arrayContaining(['bind', 'send', 'connect', 'close', 'address', 'getSendQueueCount', '[Symbol.asyncDispose]']));
    const short = rows.filter((r) => r.node > 0 && r.ffnet < r.node);
    expect(short, 'methods missing (ffnet 0) or with fewer overloads than @types/node').toEqual([]);
  });

  it('has every event overload (event name and listener arity) of the listener methods', () => {
    const nodeT = typeOfExport('nodeSocket');
    const ffT = typeOfExport('ffSocket');
    const missing: string[] = [];
    for (const method of EVENT_METHODS) {
      const ffSigs = callSignatures(ffT, method);
      for (const sig of callSignatures(nodeT, method)) {
        for (const ev of eventNames(sig)) {
          if (ev === '*') continue;
          const arity = listenerArity(method, sig);
          const match = ffSigs.some((f) => eventNames(f).includes(ev) && listenerArity(method, f) === arity);
          if (!match) missing.push(method === 'emit' ? `emit('${ev}', <${arity} argument(s)>)` : `${method}('${ev}', <${arity}-argument listener>)`);
        }
      }
    }
    expect(missing, 'event overloads of @types/node with no counterpart in ffnet/dgram').toEqual([]);
  });

  it('accepts every createSocket option (SocketOptions members) and both createSocket overloads', () => {
    const nodeOpts = typeOfExport('nodeOptions').getProperties().map((p) => p.getName()).sort();
    expect(nodeOpts).toEqual(expect.arrayContaining(['type', 'reuseAddr', 'ipv6Only', 'recvBufferSize', 'sendBufferSize', 'lookup', 'signal']));
    const ffOpts = new Set(typeOfExport('ffOptions').getProperties().map((p) => p.getName()));
    expect(nodeOpts.filter((n) => !ffOpts.has(n))).toEqual([]);
    const nodeCreate = typeOfExport('nodeCreate').getCallSignatures().length;
    const ffCreate = typeOfExport('ffCreate').getCallSignatures().length;
    expect(nodeCreate).toBe(2);
    expect(ffCreate, 'createSocket overloads (type and options forms)').toBeGreaterThanOrEqual(nodeCreate);
  });

  it('a program typed against node:dgram type-checks with ffnet/dgram in its place', () => {
    const sf = project.createSourceFile(join(REPO, 'test/shim/__dgram_assignability_probe.ts'), ASSIGNABILITY, { overwrite: true });
    const diags = sf.getPreEmitDiagnostics().map((d) => `${d.getLineNumber() ?? '?'}: ${ts.flattenDiagnosticMessageText(d.compilerObject.messageText, "\n")}`);
    expect(diags).toEqual([]);
  });
});
