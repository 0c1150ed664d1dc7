/**
 * Host and port arguments shared by the interface commands (ifconfig, arp, route, ping): an IPv4
 * address or a name from /etc/hosts (the tools send no DNS query: a stack's namespace may have no
 * resolver, and a lookup must not leave it), and `portN` interface names (N = DPDK port id, as in
 * the configuration's [portN] sections).
 */
import { readFileSync } from 'node:fs';
import { isIPv4 } from 'node:net';
import { ToolError } from '../command.js';

/** Names to IPv4 addresses from a hosts(5) file's text. */
export function parseHosts(text: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const line of text.split('\n')) {
    const [addr, ...names] = line.replace(/#.*/, '').trim().split(/\s+/);
    if (!addr || !isIPv4(addr)) continue;
    for (const n of names) if (!map.has(n.toLowerCase())) map.set(n.toLowerCase(), addr);
  }
  return map;
}

/** HOST as a dotted quad: itself, or its /etc/hosts address; "unknown host" otherwise. */
export function resolveHost(host: string, hostsFile = '/etc/hosts'): string {
  if (isIPv4(host)) return host;
  let hosts = new Map<string, string>();
  try {
    hosts = parseHosts(readFileSync(hostsFile, 'utf8'));
  } catch {
    /* no hosts file: only addresses resolve */
  }
  const addr = hosts.get(host.toLowerCase());
  if (!addr) throw new ToolError(`unknown host '${host}' (give an IPv4 address or a name in ${hostsFile})`);
  return addr;
}

/** `portN` → N; "unknown port" for anything else. */
export function portId(name: string): number {
  const m = /^port(\d{1,5})$/.exec(name);
  if (!m) throw new ToolError(`unknown port '${name}' (ports are named portN, N the DPDK port id)`);
  return Number(m[1]);
}
