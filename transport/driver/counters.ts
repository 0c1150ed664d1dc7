/**
 * The transport's counters: one set per publication, one per image, one per transport. They are plain
 * objects of numbers that the data path increments in place; the API hands out read-only views of them, and
 * `ffnet netstat` prints the same names. Every name says what it counts, in frames or bytes on the wire
 * unless it says messages.
 */

/** Counted by a publication's sender. */
export interface PublicationCounters {
  /** Messages accepted by offer() or committed through tryClaim(). */
  messagesOffered: number;
  /** Payload bytes of those messages. */
  bytesOffered: number;
  /** Datagrams of DATA/PAD frames sent for the first time. */
  dataDatagramsSent: number;
  /** Bytes of those datagrams. */
  dataBytesSent: number;
  /** Datagrams resent in answer to NAKs. */
  retransmits: number;
  /** Bytes resent in answer to NAKs. */
  retransmittedBytes: number;
  /** NAKs received. */
  naksReceived: number;
  /** NAKs not acted on: outside what the term buffers still hold, or overlapping a resend in progress. */
  naksIgnored: number;
  /** Status messages received. */
  statusMessagesReceived: number;
  /** SETUP frames sent. */
  setupsSent: number;
  /** Heartbeats sent (EOS heartbeats included). */
  heartbeatsSent: number;
  /** RTT measurements echoed to receivers. */
  rttmEchoed: number;
  /** ERR frames received from receivers that rejected the stream. */
  errorFramesReceived: number;
  /** offer()/tryClaim() calls refused with BACK_PRESSURED. */
  backPressureEvents: number;
  /** offer()/tryClaim() calls refused with NOT_CONNECTED. */
  notConnectedEvents: number;
}

/** Counted by an image (one publication's stream as a subscription receives it). */
export interface ImageCounters {
  /** Whole messages delivered by poll(). */
  messagesReceived: number;
  /** Payload bytes of those messages. */
  bytesReceived: number;
  /** Datagrams of DATA/PAD frames received. */
  dataDatagramsReceived: number;
  /** Bytes of those datagrams. */
  dataBytesReceived: number;
  /** Datagrams that held only frames already received. */
  duplicateDatagrams: number;
  /** Datagrams beyond the receiver window, dropped. */
  outOfWindowDatagrams: number;
  /** Datagrams whose frames did not check out, dropped. */
  malformedDatagrams: number;
  /** Heartbeats received. */
  heartbeatsReceived: number;
  /** Gaps detected (a loss event each). */
  gaps: number;
  /** NAKs sent, first ones and repeats. */
  naksSent: number;
  /** Status messages sent. */
  statusMessagesSent: number;
  /** RTT measurements completed. */
  rttMeasurements: number;
  /** The last measured round-trip time in ns (0 before the first). */
  lastRttNs: number;
  /** The receiver window the last status message granted. */
  receiverWindow: number;
  /** Messages lost to reassembly (a fragment series without its start, or over the largest message). */
  reassemblyDrops: number;
}

/** Counted by a transport, for datagrams that no publication or image claims. */
export interface TransportCounters {
  /** Datagrams received on every endpoint. */
  datagramsReceived: number;
  /** Datagrams too short for a frame header, of a version other than 0, or shorter than their type needs. */
  malformedDatagrams: number;
  /** Frames for a stream no subscription or publication here has. */
  unknownStreamFrames: number;
  /** Frame types an endpoint does not take (DATA at a publication, SM at a subscription, RES, EXT). */
  unexpectedFrames: number;
  /** SETUP frames received. */
  setupsReceived: number;
  /** SETUP frames rejected with an ERR frame (geometry ffnet cannot take). */
  setupsRejected: number;
  /** Status messages asking a sender for SETUP (DATA of a stream not yet set up here). */
  setupRequestsSent: number;
  /** Images created. */
  imagesCreated: number;
  /** Images ended: end of stream, liveness timeout, left behind, or subscription closed. */
  imagesClosed: number;
  /** Sends the sockets reported as failed. */
  sendErrors: number;
}

/** Fresh publication counters, all zero. */
export function publicationCounters(): PublicationCounters {
  return {
    messagesOffered: 0, bytesOffered: 0, dataDatagramsSent: 0, dataBytesSent: 0, retransmits: 0, retransmittedBytes: 0,
    naksReceived: 0, naksIgnored: 0, statusMessagesReceived: 0, setupsSent: 0, heartbeatsSent: 0, rttmEchoed: 0,
    errorFramesReceived: 0, backPressureEvents: 0, notConnectedEvents: 0,
  };
}

/** Fresh image counters, all zero. */
export function imageCounters(): ImageCounters {
  return {
    messagesReceived: 0, bytesReceived: 0, dataDatagramsReceived: 0, dataBytesReceived: 0, duplicateDatagrams: 0,
    outOfWindowDatagrams: 0, malformedDatagrams: 0, heartbeatsReceived: 0, gaps: 0, naksSent: 0, statusMessagesSent: 0,
    rttMeasurements: 0, lastRttNs: 0, receiverWindow: 0, reassemblyDrops: 0,
  };
}

/** Fresh transport counters, all zero. */
export function transportCounters(): TransportCounters {
  return {
    datagramsReceived: 0, malformedDatagrams: 0, unknownStreamFrames: 0, unexpectedFrames: 0, setupsReceived: 0,
    setupsRejected: 0, setupRequestsSent: 0, imagesCreated: 0, imagesClosed: 0, sendErrors: 0,
  };
}
