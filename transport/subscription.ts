/**
 * `Subscription` and `Image`: the receiving end of a stream, as applications use it.
 *
 * A subscription receives one stream id on one channel from any number of publications; each publication
 * it hears from becomes an {@link Image}. poll(handler, fragmentLimit) delivers whole messages in stream
 * order per image (fragments are reassembled), with a header giving the session id, stream id and position,
 * reading at most `fragmentLimit` fragments across the images in turn; it returns the fragments read, so a
 * caller drains with `while (sub.poll(h, 100) > 0);`. The message view is valid only during the handler.
 *
 * Events: 'imageAvailable' (image) when a publication's stream joins, 'imageUnavailable' (image, reason)
 * when it ends: 'end-of-stream' (the publication closed cleanly and everything was consumed), 'timeout'
 * (it went silent for the image liveness time), 'left-behind' (the sender moved on beyond what it can
 * resend, as happens to a slow receiver under max flow control; the stream rejoins at the sender's
 * position as a new image) or 'closed' (this subscription closed). 'readable' fires after received data
 * makes poll() deliver something.
 */
import { EventEmitter } from 'node:events';
import type { MessageHandler, MessageHeader } from './log/term-reader.js';
import type { ImageCounters } from './driver/counters.js';
import type { ImageEndReason, PublicationImage } from './driver/publication-image.js';
import type { StreamReceiver } from './driver/stream-receiver.js';

export type { MessageHandler, MessageHeader, ImageEndReason };

/** One publication's stream as a subscription receives it. */
export class Image {
  /** The publication's session id. */
  readonly sessionId: number;
  readonly streamId: number;
  readonly initialTermId: number;
  readonly termLength: number;
  readonly mtu: number;
  /** Where the image joined the stream. */
  readonly joinPosition: number;
  /** The publication's address and port. */
  readonly sourceIdentity: string;
  /** @internal */
  readonly core: PublicationImage;

  /** @internal Images come from a Subscription. */
  constructor(core: PublicationImage) {
    this.core = core;
    this.sessionId = core.sessionId;
    this.streamId = core.streamId;
    this.initialTermId = core.initialTermId;
    this.termLength = core.termLength;
    this.mtu = core.mtu;
    this.joinPosition = core.joinPosition;
    this.sourceIdentity = core.sourceIdentity;
  }

  /** What has been consumed. */
  get position(): number {
    return this.core.position;
  }

  /** True once the publication has announced its end (EOS). */
  get isEndOfStream(): boolean {
    return this.core.isEndOfStream;
  }

  /** Why the image ended, or null while it is live. */
  get endReason(): ImageEndReason | null {
    return this.core.endReason;
  }

  /** Counters of this image (live, read-only). */
  get counters(): Readonly<ImageCounters> {
    return this.core.counters;
  }

  /** Polls this image alone; see Subscription.poll. */
  poll(handler: MessageHandler, fragmentLimit = 10): number {
    return this.core.poll(handler, fragmentLimit);
  }
}

/** Events of a {@link Subscription}. */
export interface SubscriptionEventMap {
  imageAvailable: [image: Image];
  imageUnavailable: [image: Image, reason: ImageEndReason];
  readable: [];
}

/** What a subscription needs from its transport. */
export interface SubscriptionHost {
  closeSubscription(subscription: Subscription): Promise<void>;
}

/** The receiving end of a stream. */
export class Subscription extends EventEmitter<SubscriptionEventMap> {
  readonly channel: string;
  readonly streamId: number;
  /** @internal */
  readonly receiver: StreamReceiver;
  private readonly wrappers = new Map<PublicationImage, Image>();
  private closing: Promise<void> | null = null;

  /** @internal Subscriptions come from Transport.addSubscription(). */
  constructor(channel: string, receiver: StreamReceiver, private readonly host: SubscriptionHost) {
    super();
    this.channel = channel;
    this.streamId = receiver.streamId;
    this.receiver = receiver;
  }

  /** The live images. */
  get images(): Image[] {
    return this.receiver.liveImages.map((core) => this.wrap(core));
  }

  /** True while at least one image is live. */
  get isConnected(): boolean {
    return this.receiver.liveImages.length > 0;
  }

  /** True once close() has been called. */
  get isClosed(): boolean {
    return this.closing !== null;
  }

  /** Delivers whole messages from the images in turn, reading at most `fragmentLimit` fragments. */
  poll(handler: MessageHandler, fragmentLimit = 10): number {
    if (typeof handler !== 'function') throw new TypeError(`The "handler" argument must be of type function. Received ${typeof handler}`);
    if (!Number.isInteger(fragmentLimit) || fragmentLimit < 1) {
      throw new RangeError(`The value of "fragmentLimit" is out of range. It must be an integer >= 1. Received ${String(fragmentLimit)}`);
    }
    return this.receiver.poll(handler, fragmentLimit);
  }

  /** Ends every image (telling the senders) and releases the channel's socket if nothing else uses it. */
  close(): Promise<void> {
    this.closing ??= this.host.closeSubscription(this);
    return this.closing;
  }

  /** @internal */
  wrap(core: PublicationImage): Image {
    let image = this.wrappers.get(core);
    if (image === undefined) {
      image = new Image(core);
      this.wrappers.set(core, image);
    }
    return image;
  }

  /** @internal */
  forget(core: PublicationImage): Image {
    const image = this.wrap(core);
    this.wrappers.delete(core);
    return image;
  }
}
