/**
 * `ffnet/transport`: ffnet's reliable transport, which speaks Aeron's UDP wire protocol over any
 * dgram-compatible socket.
 *
 * Layers by folder: `wire/` owns bytes and strings (frame codecs, position arithmetic, channel strings) and
 * calls nothing else; `log/` owns the term buffers and builds on `wire/`; `driver/` runs the protocol
 * (senders, images, flow and congestion control, loss recovery, channel sockets) on the log; the files
 * here are the API applications use: Transport, Publication, Subscription and Image.
 */
export * from './wire/index.js';
export { Transport, DEFAULT_RECEIVER_WINDOW, type TransportOptions } from './transport.js';
export { Publication, PublicationResult, type PublicationResultCode, type BufferClaim, type PublicationEventMap } from './publication.js';
export { Subscription, Image, type ImageEndReason, type MessageHandler, type MessageHeader, type SubscriptionEventMap } from './subscription.js';
export type { PublicationCounters, ImageCounters, TransportCounters } from './driver/counters.js';
export type { DatagramModule, DatagramSocket, SocketRequest } from './driver/socket.js';
export type { TimingOptions } from './driver/timings.js';
