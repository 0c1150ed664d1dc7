/**
 * `ffnet/transport`: ffnet's reliable transport, which speaks Aeron's UDP wire protocol.
 *
 * Layers by folder: `wire/` owns bytes and strings (frame codecs, position arithmetic, channel
 * strings) and calls nothing else; `log/` owns the term buffers and builds on `wire/`.
 */
export * from './wire/index.js';
