/**
 * `ffnet capture`: the frames a running stack receives and sends, written as pcapng (tshark,
 * Wireshark, capinfos read it) while traffic flows — what tcpdump and dumpcap are to a kernel
 * interface. The stack copies the frames on its lcores and streams pcapng over the control
 * connection (stack/phy/capture.h); this command writes the stream to a file or stdout, counts its
 * packet blocks, and stops at -c N or on Ctrl-C (by half-closing the connection, so the stack
 * finishes the file with its statistics block before it closes).
 */
import { closeSync, createWriteStream, existsSync, openSync, unlinkSync, type WriteStream } from 'node:fs';
import type { Socket } from 'node:net';
import type { Writable } from 'node:stream';
import { ToolError, type Command } from '../command.js';

/** What the stack answers before the stream. */
interface CaptureReply {
  ports: Array<{ index: number; port_id: number; name: string }>;
  snaplen: number;
  count: number;
  filter: string | null;
}

const BLOCK_EPB = 6;
const BLOCK_ISB = 5;
const BLOCK_SHB = 0x0a0d0d0a;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const ISB_IFDROP = 5;

/**
 * Follows the block structure of a pcapng stream as it arrives (draft-ietf-opsawg-pcapng §3):
 * counts the packet blocks and adds up the drops that the statistics blocks report.
 */
export class PcapngCounter {
  packets = 0;
  dropped = 0;
  private pending: Buffer = Buffer.alloc(0);
  private little = true;

  push(chunk: Buffer): void {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    for (;;) {
      if (this.pending.length < 12) return;
      const type = this.pending.readUInt32LE(0);
      if (type === BLOCK_SHB) this.little = this.pending.readUInt32LE(8) === BYTE_ORDER_MAGIC;
      const len = this.little ? this.pending.readUInt32LE(4) : this.pending.readUInt32BE(4);
      if (len < 12 || len % 4 !== 0) throw new ToolError(`the stack's stream is not pcapng (a block of ${len} bytes)`);
      if (this.pending.length < len) return;
      const block = this.pending.subarray(0, len);
      const kind = this.little ? block.readUInt32LE(0) : block.readUInt32BE(0);
      if (kind === BLOCK_EPB) this.packets++;
      if (kind === BLOCK_ISB) this.dropped += this.isbDrops(block);
      this.pending = this.pending.subarray(len);
    }
  }

  private isbDrops(block: Buffer): number {
    const u16 = (o: number) => (this.little ? block.readUInt16LE(o) : block.readUInt16BE(o));
    for (let o = 20; o + 4 <= block.length - 4; ) {
      const code = u16(o);
      const len = u16(o + 2);
      if (code === 0) break;
      if (code === ISB_IFDROP && len === 8) return Number(this.little ? block.readBigUInt64LE(o + 4) : block.readBigUInt64BE(o + 4));
      o += 4 + Math.ceil(len / 4) * 4;
    }
    return 0;
  }
}

function positiveInt(name: string, v: unknown, min: number): number | undefined {
  if (v === undefined) return undefined;
  const s = String(v);
  if (!/^\d+$/.test(s) || Number(s) < min) throw new ToolError(`${name}: '${s}' is not a whole number of at least ${min}`, 2);
  return Number(s);
}

function portArg(v: unknown): string | undefined {
  if (v === undefined) return undefined;
  const m = /^(?:port)?(\d+)$/.exec(String(v));
  if (!m) throw new ToolError(`-i: '${String(v)}' is not a port (port0, port1, ...)`, 2);
  return m[1];
}

/** Writes the stream to `sink`, pausing the socket while the sink is full; resolves when both end. */
function pump(socket: Socket, sink: Writable, counter: PcapngCounter): Promise<void> {
  return new Promise((resolve, reject) => {
    let failed = false;
    const fail = (e: Error) => {
      if (failed) return;
      failed = true;
      socket.destroy();
      reject(e);
    };
    socket.on('data', (chunk: Buffer) => {
      try {
        counter.push(chunk);
      } catch (e) {
        fail(e as Error);
        return;
      }
      if (!sink.write(chunk)) {
        socket.pause();
        sink.once('drain', () => socket.resume());
      }
    });
    // A reset (the stack stopped) ends the stream as an end does: what came is written.
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      if (failed) return;
      if (sink === process.stdout) resolve();
      else sink.end(() => resolve());
    });
    sink.on('error', (e) => fail(new ToolError(`writing the capture: ${e.message}`)));
    socket.resume();
  });
}

export const capture: Command = {
  name: 'capture',
  summary: 'write the frames a stack receives and sends to a pcapng file, like dumpcap',
  usage: `ffnet capture [-i portN] [-c N] [-f FILTER] [-s SNAPLEN] -w FILE.pcapng | -w -

Writes the frames the stack receives from and sends to its ports, as the devices see them, to
FILE.pcapng (-w - for stdout, e.g. | tshark -r -) while traffic flows. The stack copies them on its
lcores into a buffer of its own; frames that arrive while that buffer is full are counted as dropped
(and in netstat's capture.dropped), never delayed. Stops after -c N frames or on Ctrl-C, then prints
"N packets captured" to stderr. One capture at a time per stack.

  -i, --interface portN   capture this port only (default: every port)
  -c, --count N           stop after N frames
  -f, --filter FILTER     a pcap-filter(7) expression, as tcpdump takes: 'udp port 9', 'arp'
  -s, --snaplen N         keep the first N bytes of each frame (default: whole frames)
  -w, --write FILE        the pcapng file to write, - for stdout

--json prints the summary (packets, dropped, ports, snaplen, filter) as one JSON line on stderr.

dpdk-dumpcap (Debian's dpdk-dev package) also captures a stack's ports when the stack runs on
hugepages ([dpdk] no_huge = false), through DPDK's pdump service that the stack starts.`,
  options: {
    interface: { type: 'string', short: 'i' },
    count: { type: 'string', short: 'c' },
    filter: { type: 'string', short: 'f' },
    snaplen: { type: 'string', short: 's' },
    write: { type: 'string', short: 'w' },
  },
  async run(ctx) {
    const file = ctx.values.write;
    if (typeof file !== 'string' || file === '') throw new ToolError('-w FILE is required (-w - for stdout)', 2);
    const count = positiveInt('-c', ctx.values.count, 1);
    const snaplen = positiveInt('-s', ctx.values.snaplen, 1);
    const port = portArg(ctx.values.interface);
    const filter = typeof ctx.values.filter === 'string' && ctx.values.filter.trim() !== '' ? ctx.values.filter : undefined;
    // The file first: a path that cannot be written is refused before the stack starts a capture.
    let fd: number | undefined;
    const created = file !== '-' && !existsSync(file);
    if (file !== '-') {
      try {
        fd = openSync(file, 'w', 0o644);
      } catch (e) {
        const err = e as NodeJS.ErrnoException;
        const why = err.code === 'ENOENT' ? 'no such file or directory' : err.code === 'EACCES' ? 'permission denied' : err.message;
        throw new ToolError(`cannot write ${file}: ${why}`);
      }
    }
    let started: { reply: CaptureReply; socket: Socket };
    try {
      const client = await ctx.connect();
      started = await client.stream<CaptureReply>('capture', {
        port,
        count,
        snaplen,
        filter: filter !== undefined ? Buffer.from(filter).toString('base64url') : undefined,
      });
    } catch (e) {
      // Refused (a bad filter, no such port, another capture): no file is left behind.
      if (fd !== undefined) {
        closeSync(fd);
        if (created) unlinkSync(file);
      }
      throw e;
    }
    const { reply, socket } = started;
    const sink: Writable = fd === undefined ? process.stdout : createWriteStream(file, { fd });
    const where = reply.ports.map((p) => `port${p.index} (${p.name})`).join(', ');
    process.stderr.write(`Capturing on ${where}${reply.filter ? `, filter '${reply.filter}'` : ''}\n`);
    // Ctrl-C: half-close, so the stack ends the file (statistics block) and closes; twice: leave now.
    let interrupted = 0;
    const stop = () => {
      if (++interrupted === 1) socket.end();
      else socket.destroy();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    const counter = new PcapngCounter();
    try {
      await pump(socket, sink, counter);
    } finally {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      if (sink !== process.stdout) (sink as WriteStream).close();
    }
    const summary = { packets: counter.packets, dropped: counter.dropped, file, ports: reply.ports, snaplen: reply.snaplen, filter: reply.filter };
    if (ctx.json) process.stderr.write(`${JSON.stringify(summary)}\n`);
    else {
      process.stderr.write(`${counter.packets} packet${counter.packets === 1 ? '' : 's'} captured\n`);
      if (counter.dropped) process.stderr.write(`${counter.dropped} packet${counter.dropped === 1 ? '' : 's'} dropped by the stack (capture buffer full)\n`);
    }
    return 0;
  },
};
