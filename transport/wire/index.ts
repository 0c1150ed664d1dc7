/**
 * ffnet's Aeron wire layer: frame codecs and the datagram walk (`frames.ts`), stream position
 * arithmetic (`position.ts`) and `aeron:udp` channel strings (`channel.ts`). It owns bytes and
 * strings only and calls nothing outside this folder; the log and the sender/receiver build on it.
 */
export * from './channel.js';
export * from './frames.js';
export * from './position.js';
