/**
 * `Transport`: the entry point of ffnet's reliable transport. It plays the part of Aeron's client and media
 * driver in one, inside the application's process: it owns the channel sockets (one per publication channel,
 * one per subscription channel, shared by the streams on it), creates publications and subscriptions, and
 * runs the protocol's timers.
 *
 * Sockets come from any module with node:dgram's createSocket: ffnet/dgram by default (the DPDK stack when
 * FFNET_CONFIG is set or a Stack runs, the kernel otherwise), node:dgram itself, or a wrapper. Everything
 * runs on the JS thread: received datagrams are handled in the socket callbacks, sends happen inline, and a
 * timer runs the periodic work every millisecond while something is in flight (a gap, a resend, unsent
 * data, a close) and every 10 ms otherwise.
 */
import { randomInt } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { UdpChannel } from './wire/channel.js';
import { transportCounters, type TransportCounters } from './driver/counters.js';
import { NetworkPublication } from './driver/network-publication.js';
import { ReceiveEndpoint } from './driver/receive-endpoint.js';
import { SendEndpoint } from './driver/send-endpoint.js';
import { nanoTime, type DatagramModule } from './driver/socket.js';
import { StreamReceiver } from './driver/stream-receiver.js';
import { resolveTimings, type TimingOptions, type TransportTimings } from './driver/timings.js';
import { Publication } from './publication.js';
import { Subscription } from './subscription.js';

/** Options of a {@link Transport}. Timers are in milliseconds (see TimingOptions for the names). */
export interface TransportOptions extends TimingOptions {
  /** Where sockets come from: ffnet/dgram by default; node:dgram or any module with its createSocket. */
  dgram?: DatagramModule;
  /** SO_RCVBUF and SO_SNDBUF asked of every channel socket; the system default when absent. */
  socketBufferSize?: number;
  /** The window a subscription grants when its channel has no rcv-wnd (default 128 KiB; at most term_length / 2). */
  receiverWindow?: number;
}

/** Default receiver window, as Aeron's driver. */
export const DEFAULT_RECEIVER_WINDOW = 128 * 1024;

const BUSY_TICK_MS = 1;
const IDLE_TICK_MS = 10;

/** Publications, subscriptions, their sockets and the protocol's timers. */
export class Transport {
  /** Counters for datagrams no publication or image claims (live, read-only). */
  readonly counters: Readonly<TransportCounters>;
  private readonly mutableCounters: TransportCounters = transportCounters();
  private readonly timings: TransportTimings;
  private readonly options: TransportOptions;
  private dgram: DatagramModule | null;
  private readonly sendEndpoints = new Map<string, Promise<SendEndpoint>>();
  private readonly receiveEndpoints = new Map<string, Promise<ReceiveEndpoint>>();
  private readonly publicationSet = new Set<Publication>();
  private readonly subscriptionSet = new Set<Subscription>();
  private readonly endpointOf = new Map<Publication | Subscription, SendEndpoint | ReceiveEndpoint>();
  /** Settles when a publication's sender has finished (drained and lingered, or aborted). */
  private readonly finished = new Map<NetworkPublication, Promise<void>>();
  private timer: NodeJS.Timeout | null = null;
  private tickMs = 0;
  private immediate: NodeJS.Immediate | null = null;
  private closed = false;

  constructor(options: TransportOptions = {}) {
    this.timings = resolveTimings(options);
    if (options.receiverWindow !== undefined && (!Number.isInteger(options.receiverWindow) || options.receiverWindow < 4096)) {
      throw new RangeError(`receiverWindow must be an integer of at least 4096 bytes, got ${String(options.receiverWindow)}`);
    }
    this.options = options;
    this.dgram = options.dgram ?? null;
    this.counters = this.mutableCounters;
  }

  /** The publications added and not yet closed. */
  get publications(): Publication[] {
    return [...this.publicationSet];
  }

  /** The subscriptions added and not yet closed. */
  get subscriptions(): Subscription[] {
    return [...this.subscriptionSet];
  }

  /**
   * Adds a publication on `channel` (an `aeron:udp?endpoint=…` string) for `streamId`. Throws ChannelError
   * for a bad channel; rejects with the socket's error when the channel's socket cannot be opened.
   */
  async addPublication(channel: string, streamId: number): Promise<Publication> {
    this.checkOpen();
    const parsed = UdpChannel.parse(channel);
    checkStreamId(streamId);
    const endpoint = await this.sendEndpoint(parsed);
    this.checkOpen();
    let sessionId = parsed.params.sessionId;
    if (sessionId !== undefined && endpoint.has(sessionId, streamId)) {
      throw new Error(`session-id ${sessionId} is already publishing stream ${streamId} on ${channel}`);
    }
    while (sessionId === undefined || endpoint.has(sessionId, streamId)) sessionId = randomInt(1001, 2 ** 31 - 1);
    let publication: Publication;
    let finish = (): void => {};
    const finished = new Promise<void>((resolve) => {
      finish = resolve;
    });
    const core = new NetworkPublication(endpoint, {
      channel: parsed, streamId, sessionId, initialTermId: parsed.params.initialTermId ?? randomInt(-(2 ** 31), 2 ** 31 - 1),
    }, this.timings, {
      onConnectionChange: (connected) => publication.emit(connected ? 'connected' : 'disconnected'),
      onReceiverError: (error) => publication.emit('receiverError', error),
      onClosed: () => finish(),
    });
    this.finished.set(core, finished);
    publication = new Publication(channel, core, {
      closePublication: (p) => this.closePublication(p),
    });
    endpoint.add(core);
    this.publicationSet.add(publication);
    this.endpointOf.set(publication, endpoint);
    core.onDuty(nanoTime());
    this.schedule();
    return publication;
  }

  /**
   * Adds a subscription on `channel` for `streamId`. One subscription per channel endpoint and stream in a
   * transport: a second one for the same pair is refused (share the first).
   */
  async addSubscription(channel: string, streamId: number): Promise<Subscription> {
    this.checkOpen();
    const parsed = UdpChannel.parse(channel);
    checkStreamId(streamId);
    const endpoint = await this.receiveEndpoint(parsed);
    this.checkOpen();
    if (endpoint.has(streamId)) throw new Error(`stream ${streamId} on ${channel} already has a subscription in this transport`);
    let subscription: Subscription;
    const receiver = new StreamReceiver({
      channel: parsed, streamId, receiverId: randomReceiverId(),
      receiverWindow: parsed.params.receiverWindow ?? this.options.receiverWindow ?? DEFAULT_RECEIVER_WINDOW,
    }, endpoint, this.timings, this.mutableCounters, {
      onImageAvailable: (image) => subscription.emit('imageAvailable', subscription.wrap(image)),
      onImageUnavailable: (image, reason) => subscription.emit('imageUnavailable', subscription.forget(image), reason),
    });
    subscription = new Subscription(channel, receiver, { closeSubscription: (s) => this.closeSubscription(s) });
    endpoint.add(receiver);
    this.subscriptionSet.add(subscription);
    this.endpointOf.set(subscription, endpoint);
    this.schedule();
    return subscription;
  }

  /**
   * Closes every publication and subscription, then the sockets. With `drain` (default) publications
   * drain and linger as in Publication.close(); without it everything stops at once, without EOS, as if
   * the process had ended.
   */
  async close(options: { drain?: boolean } = {}): Promise<void> {
    if (this.closed) return;
    if (options.drain === false) {
      for (const p of this.publicationSet) p.core.abort();
    }
    await Promise.all([...this.publicationSet].map((p) => p.close()));
    await Promise.all([...this.subscriptionSet].map((s) => s.close()));
    this.closed = true;
    this.stopTimers();
    const endpoints = await Promise.allSettled([...this.sendEndpoints.values(), ...this.receiveEndpoints.values()]);
    await Promise.all(endpoints.map((e) => (e.status === 'fulfilled' ? e.value.close() : undefined)));
  }

  private async closePublication(publication: Publication): Promise<void> {
    const core = publication.core;
    if (!core.isClosed) core.close(nanoTime());
    this.schedule();
    await this.finished.get(core);
    this.finished.delete(core);
    const endpoint = this.endpointOf.get(publication) as SendEndpoint | undefined;
    this.publicationSet.delete(publication);
    this.endpointOf.delete(publication);
    publication.emit('closed');
    if (endpoint !== undefined) {
      endpoint.remove(core);
      if (endpoint.publicationCount === 0) {
        for (const [key, p] of this.sendEndpoints) if ((await p) === endpoint) this.sendEndpoints.delete(key);
        await endpoint.close();
      }
    }
  }

  private async closeSubscription(subscription: Subscription): Promise<void> {
    subscription.receiver.close(nanoTime());
    const endpoint = this.endpointOf.get(subscription) as ReceiveEndpoint | undefined;
    this.subscriptionSet.delete(subscription);
    this.endpointOf.delete(subscription);
    if (endpoint !== undefined) {
      endpoint.remove(subscription.receiver);
      if (endpoint.streamCount === 0) {
        for (const [key, p] of this.receiveEndpoints) if ((await p) === endpoint) this.receiveEndpoints.delete(key);
        await endpoint.close();
      }
    }
  }

  private async sendEndpoint(channel: UdpChannel): Promise<SendEndpoint> {
    const key = `${channel.endpoint.host}:${channel.endpoint.port}|${channel.params.interface ?? ''}|${channel.params.ttl ?? ''}`;
    let endpoint = this.sendEndpoints.get(key);
    if (endpoint === undefined) {
      endpoint = (async () => {
        const dgram = await this.datagramModule();
        const address = await resolveHost(channel.endpoint.host);
        return SendEndpoint.open(key, channel, address, dgram, this.options, this.mutableCounters);
      })();
      this.sendEndpoints.set(key, endpoint);
      endpoint.catch(() => this.sendEndpoints.delete(key));
    }
    return endpoint;
  }

  private async receiveEndpoint(channel: UdpChannel): Promise<ReceiveEndpoint> {
    const key = `${channel.endpoint.host}:${channel.endpoint.port}|${channel.params.interface ?? ''}`;
    let endpoint = this.receiveEndpoints.get(key);
    if (endpoint === undefined) {
      endpoint = (async () => {
        const dgram = await this.datagramModule();
        const address = await resolveHost(channel.endpoint.host);
        return ReceiveEndpoint.open(key, channel, address, dgram, this.options, this.mutableCounters, (touched) => this.onReceive(touched));
      })();
      this.receiveEndpoints.set(key, endpoint);
      endpoint.catch(() => this.receiveEndpoints.delete(key));
    }
    return endpoint;
  }

  private async datagramModule(): Promise<DatagramModule> {
    this.dgram ??= (await import('../shim/dgram.js')) as unknown as DatagramModule;
    return this.dgram;
  }

  /** After received data: 'readable' for subscriptions with something to poll, and prompt duty. */
  private onReceive(touched: ReadonlySet<StreamReceiver>): void {
    for (const subscription of this.subscriptionSet) {
      if (touched.has(subscription.receiver) && subscription.receiver.hasData) subscription.emit('readable');
    }
    this.immediate ??= setImmediate(this.onImmediate);
  }

  private readonly onImmediate = (): void => {
    this.immediate = null;
    this.duty();
  };

  private duty(): void {
    if (this.closed) return;
    const now = nanoTime();
    for (const publication of this.publicationSet) publication.core.onDuty(now);
    for (const subscription of this.subscriptionSet) subscription.receiver.onDuty(now);
    this.schedule();
  }

  /** (Re)arms the timer: 1 ms while anything is in flight, 10 ms otherwise. */
  private schedule(): void {
    if (this.closed) return;
    let busy = false;
    for (const publication of this.publicationSet) if (publication.core.isBusy) busy = true;
    for (const subscription of this.subscriptionSet) if (subscription.receiver.isBusy) busy = true;
    const tick = busy ? BUSY_TICK_MS : IDLE_TICK_MS;
    if (this.timer !== null && this.tickMs === tick) {
      // Re-arming in place: this runs after every received batch, and a new Timeout each time is garbage.
      this.timer.refresh();
      return;
    }
    if (this.timer !== null) clearTimeout(this.timer);
    this.tickMs = tick;
    this.timer = setTimeout(this.onTimer, tick);
    this.timer.unref();
  }

  private readonly onTimer = (): void => {
    this.timer = null;
    this.duty();
  };

  private stopTimers(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    if (this.immediate !== null) clearImmediate(this.immediate);
    this.timer = null;
    this.immediate = null;
  }

  private checkOpen(): void {
    if (this.closed) throw new Error('the transport is closed');
  }
}

function checkStreamId(streamId: number): void {
  if (!Number.isInteger(streamId) || streamId < -(2 ** 31) || streamId > 2 ** 31 - 1) {
    throw new RangeError(`stream id must be a 32-bit signed integer, got ${String(streamId)}`);
  }
}

function randomReceiverId(): bigint {
  return (BigInt(randomInt(0, 2 ** 32)) << 31n) ^ BigInt(randomInt(0, 2 ** 31));
}

async function resolveHost(host: string): Promise<string> {
  if (isIP(host)) return host;
  return (await lookup(host, { family: 4 })).address;
}
