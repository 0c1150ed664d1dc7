/**
 * Multicast with three subscribers, each its own process, over the kernel (node:dgram) inside a private
 * network namespace, on IPv4 groups over its loopback (239.7.0.x, interface=127.0.0.1) and IPv6 groups over
 * udp6 (ff02::7:x, interface=[fd00:7::1]/64, which the transport finds on a veth of the namespace and uses
 * by its scope, as Aeron's driver picks an interface; Linux routes no IPv6 multicast out of lo, and a
 * veth's multicast loopback delivers to the subscribers on the host): under min flow control a slow
 * subscriber holds the publisher back and every subscriber gets everything; under max the publisher runs
 * at the pace of the fastest, the fast subscribers get everything, and the slow one is left behind. With
 * loss injected, randomised NAKs repair every subscriber.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Netns, canCreateNamespaces } from '../../testbed/netns.js';
import { Peer } from './peers.js';

const hasNetns = canCreateNamespaces();
let ns: Netns;

beforeAll(async () => {
  if (!hasNetns) return;
  ns = await Netns.create('tr-mcast');
  await ns.execOk('ip', ['link', 'set', 'lo', 'multicast', 'on']);
  await ns.execOk('ip', ['route', 'add', '224.0.0.0/4', 'dev', 'lo']);
  await ns.execOk('ip', ['link', 'add', 'mc0', 'type', 'veth', 'peer', 'name', 'mc1']);
  await ns.execOk('ip', ['-6', 'addr', 'add', 'fd00:7::1/64', 'dev', 'mc0', 'nodad']);
  for (const dev of ['mc0', 'mc1']) await ns.execOk('ip', ['link', 'set', dev, 'up']);
}, 30_000);

afterAll(async () => {
  await ns?.destroy();
});

type Family = 'IPv4' | 'IPv6';
let serial = 0;
/** A fresh data group (odd last byte) and port of `family`, on the namespace's loopback. */
function channel(family: Family, fc: string, termLength = '64k'): string {
  serial++;
  const n = 2 * serial + 1;
  const where = family === 'IPv4' ? `239.7.0.${n}:${41000 + serial}|interface=127.0.0.1` : `[ff02::7:${n.toString(16)}]:${41000 + serial}|interface=[fd00:7::1]/64`;
  return `aeron:udp?endpoint=${where}|term-length=${termLength}|fc=${fc}`;
}

/** A subscriber that reads 5 fragments every 10 ms: about 500 a second, 6 s for 3000 messages. */
const SLOW = ['--slow-ms', '10', '--fragment-limit', '5'];
/**
 * A publisher paced to 20 messages per 2 ms (about 15 MB/s of 1.5 KB messages), for min flow control,
 * where the slowest subscriber sets the pace anyway.
 */
const PACED = ['--chunk', '20', '--pause-ms', '2'];
/**
 * The pace under max and tagged flow control, where the publisher follows the fastest subscriber: 20
 * messages per 6 ms, about 5 MB/s of 1.5 KB messages. Under max, a subscriber that falls a term behind
 * the fastest is left behind whatever its speed (max flow control's contract), and the two fast
 * subscribers are not equally fast on a busy machine: the slower one overflows its socket buffer
 * (node:dgram's default, about 200 KiB) whenever it is descheduled and repairs with NAKs (backoff up to
 * 10 ms, repeats every 10 ms). At 15 MB/s a 1 MiB term is 70 ms of such lag, which a loaded machine
 * exceeds (a fast subscriber was left behind); at 5 MB/s it is 200 ms. The slow subscriber (about 0.5 MB/s)
 * still falls several terms behind, and the 4.5 MB take about 1 s, well under the 5 s the slow one needs.
 */
const PACED_MAX = ['--chunk', '20', '--pause-ms', '6'];

async function subscribers(ch: string, count: number, extra: string[][], channels: string[] = []): Promise<Peer[]> {
  const peers = Array.from({ length: 3 }, (_, i) => Peer.start(`sub${i}`, [
    '--role', 'sub', '--channel', channels[i] ?? ch, '--count', String(count), '--lifetime-ms', '60000', ...(extra[i] ?? []),
  ], { ns }));
  await Promise.all(peers.map((p) => p.event('ready', 10_000)));
  return peers;
}

/** Waits for each subscriber's report: all `count` messages, in order. */
async function expectComplete(subs: Peer[], count: number, ms: number): Promise<void> {
  for (const sub of subs) {
    const r = await sub.event('received', ms);
    expect(r.count, `${sub.name}: ${JSON.stringify(sub.all('unavailable'))}`).toBe(count);
    expect(r.problems, sub.name).toEqual([]);
  }
}

function publisher(ch: string, count: number, extra: string[] = [], maxLength = 300): Peer {
  return Peer.start('pub', ['--role', 'pub', '--channel', ch, '--count', String(count), '--max-length', String(maxLength), '--lifetime-ms', '60000', '--linger-ms', '2000', ...extra], { ns });
}

describe.skipIf(!hasNetns).each<Family>(['IPv4', 'IPv6'])('%s multicast, three subscribers (node:dgram in a namespace)', (family) => {
  it('min: a slow subscriber back-pressures the publisher; all three receive everything in order', async () => {
    const ch = channel(family, 'min');
    const count = 3000;
    // The slow one reads 20 fragments every 10 ms: about 2,000 messages a second.
    const subs = await subscribers(ch, count, [[], [], ['--slow-ms', '10', '--fragment-limit', '20']]);
    const pub = publisher(ch, count, PACED);
    const published = await pub.event('published', 30_000);
    await expectComplete(subs, count, 30_000);
    // ~3000 messages of ~170 B with a 32 KiB window: the publisher waited for the slow subscriber.
    expect(published.ms).toBeGreaterThan(800);
    expect((published.counters as { backPressureEvents: number }).backPressureEvents).toBeGreaterThan(0);
    await pub.event('done', 10_000);
    await Promise.all(subs.map((s) => s.kill()));
  }, 90_000);

  it('max: the publisher follows the fastest; the slow subscriber is left behind and rejoins', async () => {
    // 1 MiB terms: a subscriber is left behind only when it lags the fastest by most of a term, which a
    // fast one does not even on a busy machine; ~4.5 MB of messages put the slow one several terms back.
    const ch = channel(family, 'max', '1m');
    const count = 3000;
    const subs = await subscribers(ch, count, [[], [], SLOW]);
    const pub = publisher(ch, count, ['--after', 'stay', ...PACED_MAX], 3000);
    const published = await pub.event('published', 30_000);
    await expectComplete(subs.slice(0, 2), count, 10_000);
    // Not held back by the slow subscriber, which needs about 6 s for all of it.
    expect(published.ms).toBeLessThan(5000);
    const left = await subs[2]!.waitFor((e) => e.event === 'unavailable' && e.reason === 'left-behind', 15_000, 'left-behind');
    expect(left.session).toBe((await pub.event('ready', 1000)).sessionId);
    // What it did receive before it was left behind came in order.
    const partial = await subs[2]!.event('received', 1000);
    expect(partial.problems).toEqual([]);
    expect(partial.count as number).toBeLessThan(count);
    // It rejoins the stream at the sender's position as a new image.
    await subs[2]!.waitFor((e) => e.event === 'image' && (e.joinPosition as number) > 0, 5000, 'rejoin');
    await Promise.all([pub, ...subs].map((p) => p.kill()));
  }, 90_000);

  it('tagged: only the tagged group holds the publisher, which connects once the group has its minimum size', async () => {
    const ch = channel(family, 'tagged,g:5/2', '1m');
    const count = 3000;
    const subs = await subscribers(ch, count, [[], [], SLOW], [`${ch}|gtag=5`, `${ch}|gtag=5`, ch]);
    const pub = publisher(ch, count, ['--after', 'stay', ...PACED_MAX], 3000);
    const published = await pub.event('published', 30_000);
    await expectComplete(subs.slice(0, 2), count, 10_000);
    // Not held back by the untagged slow subscriber, which needs about 6 s for all of it.
    expect(published.ms).toBeLessThan(5000);
    await Promise.all([pub, ...subs].map((p) => p.kill()));
  }, 90_000);

  it('tagged: a publication is not connected while its group is below the minimum size', async () => {
    const ch = channel(family, 'tagged,g:6/2');
    const subs = [Peer.start('tagged', ['--role', 'sub', '--channel', `${ch}|gtag=6`, '--lifetime-ms', '20000'], { ns })];
    await subs[0]!.event('ready', 10_000);
    const pub = publisher(ch, 10, ['--after', 'stay', '--lifetime-ms', '1500']);
    // One tagged receiver of the two required: the publisher never connects and ends at its lifetime.
    await pub.event('lifetime', 10_000);
    expect(pub.all('connected')).toEqual([]);
    await subs[0]!.kill();
  }, 30_000);

  it('max with 5% loss at every subscriber: randomised NAKs repair all three', async () => {
    // 1 MiB terms and a paced publisher: a subscriber repairing a loss must not fall a term behind the
    // fastest, which under max flow control would leave it behind.
    const ch = channel(family, 'max', '1m');
    const count = 2000;
    const subs = await subscribers(ch, count, [0, 1, 2].map((i) => ['--loss', '0.05', '--seed', String(100 + i)]));
    const pub = publisher(ch, count, ['--loss', '0.05', '--seed', '7', ...PACED_MAX]);
    await pub.event('published', 30_000);
    await expectComplete(subs, count, 30_000);
    const closed = await pub.event('closed', 10_000);
    const counters = closed.counters as { naksReceived: number; retransmits: number };
    expect(counters.naksReceived).toBeGreaterThan(0);
    expect(counters.retransmits).toBeGreaterThan(0);
    for (const sub of subs) {
      const end = await sub.event('unavailable', 10_000);
      expect(end.reason).toBe('end-of-stream');
    }
    await Promise.all(subs.map((s) => s.kill()));
  }, 90_000);
});
