/**
 * Sender flow control of transport/driver: the limit each strategy (unicast, max, min, tagged) derives from
 * status messages, receiver tracking and timeout, EOS, minimum group sizes, the limit never moving
 * backwards, the resend caps and the consumption check used at close.
 */
import { describe, expect, it } from 'vitest';
import { FlowControl, type WindowGrant } from '../../transport/driver/flow-control.js';

/** Receiver timeout used throughout: Aeron's 5 s. */
const TIMEOUT_NS = 5_000_000_000;

function sm(receiverId: bigint, position: number, window: number, extra: Partial<WindowGrant> = {}): WindowGrant {
  return { receiverId, position, window, eos: false, ...extra };
}

function eos(receiverId: bigint): WindowGrant {
  return { receiverId, position: 0, window: 0, eos: true };
}

describe('FlowControl: common state', () => {
  it('uses a resend multiple of 4 under max and 16 otherwise', () => {
    expect(new FlowControl('max', { strategy: 'max' }, TIMEOUT_NS).retransmitWindowMultiple).toBe(4);
    expect(new FlowControl('max', undefined, TIMEOUT_NS).retransmitWindowMultiple).toBe(4);
    expect(new FlowControl('unicast', undefined, TIMEOUT_NS).retransmitWindowMultiple).toBe(16);
    expect(new FlowControl('min', { strategy: 'min' }, TIMEOUT_NS).retransmitWindowMultiple).toBe(16);
    expect(new FlowControl('tagged', { strategy: 'tagged', groupTag: 7n }, TIMEOUT_NS).retransmitWindowMultiple).toBe(16);
  });

  it('starts with no receivers, no window and not connected', () => {
    for (const strategy of ['unicast', 'max', 'min', 'tagged'] as const) {
      const fc = new FlowControl(strategy, undefined, TIMEOUT_NS);
      expect(fc.strategy).toBe(strategy);
      expect(fc.receiverCount).toBe(0);
      expect(fc.maxReceiverWindow).toBe(0);
      expect(fc.hasRequiredReceivers).toBe(false);
      // Vacuously true: no receiver is behind.
      expect(fc.allReceiversReached(1_000_000)).toBe(true);
    }
  });

  it('tracks each receiver id once and counts it as connected', () => {
    const fc = new FlowControl('max', undefined, TIMEOUT_NS);
    fc.onStatusMessage(sm(1n, 0, 65_536), 0, 0);
    expect(fc.receiverCount).toBe(1);
    expect(fc.hasRequiredReceivers).toBe(true);
    fc.onStatusMessage(sm(1n, 4096, 65_536), 65_536, 1000);
    expect(fc.receiverCount).toBe(1);
    fc.onStatusMessage(sm(2n, 0, 65_536), 69_632, 2000);
    expect(fc.receiverCount).toBe(2);
  });

  it('reports the largest window granted, which does not shrink when windows shrink or receivers leave', () => {
    const fc = new FlowControl('min', { strategy: 'min' }, TIMEOUT_NS);
    fc.onStatusMessage(sm(1n, 0, 32_768), 0, 0);
    expect(fc.maxReceiverWindow).toBe(32_768);
    fc.onStatusMessage(sm(2n, 0, 131_072), 32_768, 0);
    expect(fc.maxReceiverWindow).toBe(131_072);
    fc.onStatusMessage(sm(2n, 0, 14_080), 32_768, 10);
    expect(fc.maxReceiverWindow).toBe(131_072);
    fc.onStatusMessage(eos(2n), 32_768, 20);
    expect(fc.maxReceiverWindow).toBe(131_072);
  });

  it('does not take the window of an EOS status message', () => {
    const fc = new FlowControl('unicast', undefined, TIMEOUT_NS);
    fc.onStatusMessage(sm(1n, 0, 65_536), 0, 0);
    fc.onStatusMessage({ receiverId: 1n, position: 0, window: 1_048_576, eos: true }, 65_536, 10);
    expect(fc.maxReceiverWindow).toBe(65_536);
  });
});

describe('FlowControl: unicast', () => {
  it('sets the limit to consumption position + window of the latest grant', () => {
    const fc = new FlowControl('unicast', undefined, TIMEOUT_NS);
    expect(fc.onStatusMessage(sm(1n, 0, 65_536), 0, 0)).toBe(65_536);
    expect(fc.onStatusMessage(sm(1n, 16_384, 65_536), 65_536, 1000)).toBe(81_920);
    expect(fc.onStatusMessage(sm(1n, 16_384, 131_072), 81_920, 2000)).toBe(147_456);
  });

  it('never moves the limit backwards (stale SM, shrunk window, lower caller limit)', () => {
    const fc = new FlowControl('unicast', undefined, TIMEOUT_NS);
    expect(fc.onStatusMessage(sm(1n, 100_000, 50_000), 0, 0)).toBe(150_000);
    // Reordered older SM.
    expect(fc.onStatusMessage(sm(1n, 50_000, 50_000), 150_000, 10)).toBe(150_000);
    // Window shrunk by congestion control.
    expect(fc.onStatusMessage(sm(1n, 100_000, 10_000), 150_000, 20)).toBe(150_000);
    // The caller's limit is already ahead of any grant.
    expect(fc.onStatusMessage(sm(1n, 100_000, 50_000), 400_000, 30)).toBe(400_000);
  });

  it('follows the latest grant whichever receiver id sent it, without waiting for the slowest', () => {
    const fc = new FlowControl('unicast', undefined, TIMEOUT_NS);
    expect(fc.onStatusMessage(sm(1n, 0, 10_000), 0, 0)).toBe(10_000);
    expect(fc.onStatusMessage(sm(2n, 30_000, 10_000), 10_000, 10)).toBe(40_000);
    expect(fc.onStatusMessage(sm(1n, 5000, 10_000), 40_000, 20)).toBe(40_000);
  });

  it('drops a receiver silent for longer than the receiver timeout without touching the limit', () => {
    const fc = new FlowControl('unicast', undefined, TIMEOUT_NS);
    fc.onStatusMessage(sm(1n, 0, 65_536), 0, 1_000_000_000);
    expect(fc.onIdle(6_000_000_000, 65_536)).toBe(65_536);
    expect(fc.receiverCount).toBe(1);
    expect(fc.onIdle(6_000_000_001, 65_536)).toBe(65_536);
    expect(fc.receiverCount).toBe(0);
    expect(fc.hasRequiredReceivers).toBe(false);
  });

  it('removes the receiver at once on EOS and keeps the limit', () => {
    const fc = new FlowControl('unicast', undefined, TIMEOUT_NS);
    fc.onStatusMessage(sm(1n, 0, 65_536), 0, 0);
    expect(fc.onStatusMessage(eos(1n), 65_536, 10)).toBe(65_536);
    expect(fc.receiverCount).toBe(0);
    expect(fc.hasRequiredReceivers).toBe(false);
  });
});

describe('FlowControl: max', () => {
  it('follows the fastest receiver', () => {
    const fc = new FlowControl('max', { strategy: 'max' }, TIMEOUT_NS);
    expect(fc.onStatusMessage(sm(1n, 1000, 500), 0, 0)).toBe(1500);
    expect(fc.onStatusMessage(sm(2n, 4000, 500), 1500, 10)).toBe(4500);
    // The slow receiver moving does not matter while it stays behind.
    expect(fc.onStatusMessage(sm(1n, 1200, 500), 4500, 20)).toBe(4500);
    expect(fc.onStatusMessage(sm(1n, 6000, 500), 4500, 30)).toBe(6500);
  });

  it('does not move back when the fastest receiver times out or closes', () => {
    const fc = new FlowControl('max', undefined, TIMEOUT_NS);
    fc.onStatusMessage(sm(1n, 1000, 500), 0, 0);
    fc.onStatusMessage(sm(2n, 4000, 500), 1500, 3_000_000_000);
    // Receiver 2 is the fastest; receiver 1 times out first, then 2 closes.
    expect(fc.onIdle(5_000_000_001, 4500)).toBe(4500);
    expect(fc.receiverCount).toBe(1);
    expect(fc.onStatusMessage(eos(2n), 4500, 5_000_000_002)).toBe(4500);
    expect(fc.receiverCount).toBe(0);
  });

  it('keeps a per-receiver limit that does not shrink', () => {
    const fc = new FlowControl('max', undefined, TIMEOUT_NS);
    fc.onStatusMessage(sm(1n, 0, 10_000), 0, 0);
    fc.onStatusMessage(sm(2n, 0, 8000), 10_000, 0);
    // Receiver 1's window shrinks; its earlier grant of 10 000 still stands.
    fc.onStatusMessage(sm(1n, 0, 2000), 10_000, 10);
    // Receiver 2's timeout makes the limit be recomputed from receiver 1 alone.
    fc.onStatusMessage(sm(1n, 0, 2000), 10_000, 4_000_000_000);
    expect(fc.onIdle(5_000_000_001, 0)).toBe(10_000);
  });
});

describe('FlowControl: min', () => {
  it('follows the slowest receiver', () => {
    const fc = new FlowControl('min', { strategy: 'min' }, TIMEOUT_NS);
    expect(fc.onStatusMessage(sm(1n, 1000, 500), 0, 0)).toBe(1500);
    expect(fc.onStatusMessage(sm(2n, 4000, 500), 1500, 10)).toBe(1500);
    expect(fc.onStatusMessage(sm(1n, 2000, 500), 1500, 20)).toBe(2500);
    // Receiver 1 overtakes: receiver 2 is now the slowest.
    expect(fc.onStatusMessage(sm(1n, 5000, 500), 2500, 30)).toBe(4500);
  });

  it('does not move back when a slower receiver joins', () => {
    const fc = new FlowControl('min', { strategy: 'min' }, TIMEOUT_NS);
    expect(fc.onStatusMessage(sm(1n, 4000, 500), 0, 0)).toBe(4500);
    expect(fc.onStatusMessage(sm(2n, 0, 500), 4500, 10)).toBe(4500);
    expect(fc.receiverCount).toBe(2);
    // And the limit then waits for the newcomer: it stays until the newcomer passes 4500.
    expect(fc.onStatusMessage(sm(1n, 9000, 500), 4500, 20)).toBe(4500);
    expect(fc.onStatusMessage(sm(2n, 5000, 500), 4500, 30)).toBe(5500);
  });

  it('drops a silent receiver after the receiver timeout (strictly longer) and advances to the next slowest', () => {
    const fc = new FlowControl('min', { strategy: 'min' }, TIMEOUT_NS);
    fc.onStatusMessage(sm(1n, 1000, 500), 0, 0);
    fc.onStatusMessage(sm(2n, 4000, 500), 1500, 3_000_000_000);
    expect(fc.onIdle(5_000_000_000, 1500)).toBe(1500);
    expect(fc.receiverCount).toBe(2);
    expect(fc.onIdle(5_000_000_001, 1500)).toBe(4500);
    expect(fc.receiverCount).toBe(1);
    // The remaining receiver times out 5 s after its own last SM.
    expect(fc.onIdle(8_000_000_001, 4500)).toBe(4500);
    expect(fc.receiverCount).toBe(0);
    expect(fc.hasRequiredReceivers).toBe(false);
  });

  it('keeps a receiver alive with each SM it sends', () => {
    const fc = new FlowControl('min', undefined, TIMEOUT_NS);
    fc.onStatusMessage(sm(1n, 0, 500), 0, 0);
    fc.onStatusMessage(sm(1n, 0, 500), 500, 4_000_000_000);
    expect(fc.onIdle(8_000_000_000, 500)).toBe(500);
    expect(fc.receiverCount).toBe(1);
    fc.onIdle(9_000_000_001, 500);
    expect(fc.receiverCount).toBe(0);
  });

  it('returns the caller limit unchanged from onIdle when no receiver drops', () => {
    const fc = new FlowControl('min', undefined, TIMEOUT_NS);
    fc.onStatusMessage(sm(1n, 1000, 500), 0, 0);
    expect(fc.onIdle(1_000_000, 123)).toBe(123);
  });

  it('advances past a slowest receiver that closes with EOS', () => {
    const fc = new FlowControl('min', { strategy: 'min' }, TIMEOUT_NS);
    fc.onStatusMessage(sm(1n, 1000, 500), 0, 0);
    expect(fc.onStatusMessage(sm(2n, 4000, 500), 1500, 10)).toBe(1500);
    expect(fc.onStatusMessage(eos(1n), 1500, 20)).toBe(4500);
    expect(fc.receiverCount).toBe(1);
    expect(fc.hasRequiredReceivers).toBe(true);
  });

  it('ignores an EOS from a receiver it does not know', () => {
    const fc = new FlowControl('min', { strategy: 'min' }, TIMEOUT_NS);
    fc.onStatusMessage(sm(1n, 1000, 500), 0, 0);
    expect(fc.onStatusMessage(eos(9n), 1500, 10)).toBe(1500);
    expect(fc.receiverCount).toBe(1);
  });

  it('waits for the minimum group size before connecting or moving the limit', () => {
    const fc = new FlowControl('min', { strategy: 'min', groupMinSize: 3 }, TIMEOUT_NS);
    expect(fc.onStatusMessage(sm(1n, 1000, 500), 0, 0)).toBe(0);
    expect(fc.hasRequiredReceivers).toBe(false);
    expect(fc.onStatusMessage(sm(2n, 2000, 500), 0, 10)).toBe(0);
    expect(fc.hasRequiredReceivers).toBe(false);
    expect(fc.receiverCount).toBe(2);
    expect(fc.onStatusMessage(sm(3n, 3000, 500), 0, 20)).toBe(1500);
    expect(fc.hasRequiredReceivers).toBe(true);
    // One leaves: below the group size again; the limit stays where it was.
    expect(fc.onStatusMessage(eos(1n), 1500, 30)).toBe(1500);
    expect(fc.hasRequiredReceivers).toBe(false);
    expect(fc.onStatusMessage(sm(2n, 8000, 500), 1500, 40)).toBe(1500);
  });

  it('loses the group when a member times out', () => {
    const fc = new FlowControl('min', { strategy: 'min', groupMinSize: 2 }, TIMEOUT_NS);
    fc.onStatusMessage(sm(1n, 1000, 500), 0, 0);
    fc.onStatusMessage(sm(2n, 2000, 500), 0, 2_000_000_000);
    expect(fc.hasRequiredReceivers).toBe(true);
    expect(fc.onIdle(5_000_000_001, 1500)).toBe(1500);
    expect(fc.hasRequiredReceivers).toBe(false);
  });

  it('ignores group tags (every receiver counts)', () => {
    const fc = new FlowControl('min', { strategy: 'min', groupMinSize: 2 }, TIMEOUT_NS);
    fc.onStatusMessage(sm(1n, 1000, 500, { groupTag: 7n }), 0, 0);
    expect(fc.onStatusMessage(sm(2n, 3000, 500), 0, 10)).toBe(1500);
    expect(fc.hasRequiredReceivers).toBe(true);
  });
});

describe('FlowControl: tagged', () => {
  it('waits only for receivers whose SMs carry the group tag, but tracks the others', () => {
    const fc = new FlowControl('tagged', { strategy: 'tagged', groupTag: 7n }, TIMEOUT_NS);
    // An untagged receiver alone does not set a limit.
    expect(fc.onStatusMessage(sm(2n, 1000, 500), 0, 0)).toBe(0);
    expect(fc.receiverCount).toBe(1);
    expect(fc.onStatusMessage(sm(1n, 2000, 500, { groupTag: 7n }), 0, 10)).toBe(2500);
    // A receiver with another tag, slower still, is not waited for either.
    expect(fc.onStatusMessage(sm(3n, 0, 500, { groupTag: 8n }), 2500, 20)).toBe(2500);
    expect(fc.receiverCount).toBe(3);
    expect(fc.onStatusMessage(sm(1n, 4000, 500, { groupTag: 7n }), 2500, 30)).toBe(4500);
  });

  it('takes the slowest of the tagged receivers', () => {
    const fc = new FlowControl('tagged', { strategy: 'tagged', groupTag: 7n }, TIMEOUT_NS);
    fc.onStatusMessage(sm(1n, 2000, 500, { groupTag: 7n }), 0, 0);
    expect(fc.onStatusMessage(sm(2n, 6000, 500, { groupTag: 7n }), 2500, 10)).toBe(2500);
    expect(fc.onStatusMessage(sm(1n, 9000, 500, { groupTag: 7n }), 2500, 20)).toBe(6500);
  });

  it('counts only tagged receivers towards the minimum group size', () => {
    const fc = new FlowControl('tagged', { strategy: 'tagged', groupTag: 7n, groupMinSize: 2 }, TIMEOUT_NS);
    expect(fc.onStatusMessage(sm(1n, 1000, 500, { groupTag: 7n }), 0, 0)).toBe(0);
    expect(fc.onStatusMessage(sm(2n, 5000, 500), 0, 10)).toBe(0);
    expect(fc.onStatusMessage(sm(3n, 5000, 500, { groupTag: 8n }), 0, 20)).toBe(0);
    expect(fc.receiverCount).toBe(3);
    expect(fc.hasRequiredReceivers).toBe(false);
    expect(fc.onStatusMessage(sm(4n, 3000, 500, { groupTag: 7n }), 0, 30)).toBe(1500);
    expect(fc.hasRequiredReceivers).toBe(true);
  });

  it('takes a receiver out of the group when its SMs stop carrying the tag', () => {
    const fc = new FlowControl('tagged', { strategy: 'tagged', groupTag: 7n, groupMinSize: 1 }, TIMEOUT_NS);
    fc.onStatusMessage(sm(1n, 1000, 500, { groupTag: 7n }), 0, 0);
    expect(fc.hasRequiredReceivers).toBe(true);
    fc.onStatusMessage(sm(1n, 1000, 500), 1500, 10);
    expect(fc.hasRequiredReceivers).toBe(false);
    expect(fc.receiverCount).toBe(1);
    fc.onStatusMessage(sm(1n, 1000, 500, { groupTag: 7n }), 1500, 20);
    expect(fc.hasRequiredReceivers).toBe(true);
  });

  it('advances past a tagged receiver that times out', () => {
    const fc = new FlowControl('tagged', { strategy: 'tagged', groupTag: 7n }, TIMEOUT_NS);
    fc.onStatusMessage(sm(1n, 1000, 500, { groupTag: 7n }), 0, 0);
    fc.onStatusMessage(sm(2n, 4000, 500, { groupTag: 7n }), 1500, 3_000_000_000);
    expect(fc.onIdle(5_000_000_001, 1500)).toBe(4500);
  });

  it('behaves like min without a tag in the spec (or without a spec)', () => {
    const specs = [{ strategy: 'tagged' as const }, { strategy: 'tagged' as const, groupMinSize: 0 }, undefined];
    for (const spec of specs) {
      const fc = new FlowControl('tagged', spec, TIMEOUT_NS);
      expect(fc.onStatusMessage(sm(2n, 1000, 500), 0, 0)).toBe(1500);
      expect(fc.onStatusMessage(sm(1n, 2000, 500, { groupTag: 7n }), 1500, 10)).toBe(1500);
      expect(fc.onStatusMessage(sm(1n, 4000, 500, { groupTag: 7n }), 1500, 20)).toBe(1500);
      expect(fc.onStatusMessage(sm(2n, 3000, 500), 1500, 30)).toBe(3500);
    }
  });

  it('counts every receiver towards the group size without a tag in the spec', () => {
    const fc = new FlowControl('tagged', { strategy: 'tagged', groupMinSize: 2 }, TIMEOUT_NS);
    expect(fc.onStatusMessage(sm(1n, 1000, 500, { groupTag: 3n }), 0, 0)).toBe(0);
    expect(fc.hasRequiredReceivers).toBe(false);
    expect(fc.onStatusMessage(sm(2n, 2000, 500), 0, 10)).toBe(1500);
    expect(fc.hasRequiredReceivers).toBe(true);
  });
});

describe('FlowControl.allReceiversReached', () => {
  it('is true only when every receiver has consumed up to the position', () => {
    const fc = new FlowControl('max', undefined, TIMEOUT_NS);
    fc.onStatusMessage(sm(1n, 1000, 500), 0, 0);
    fc.onStatusMessage(sm(2n, 3000, 500), 1500, 0);
    expect(fc.allReceiversReached(1000)).toBe(true);
    expect(fc.allReceiversReached(1001)).toBe(false);
    fc.onStatusMessage(sm(1n, 3000, 500), 3500, 10);
    expect(fc.allReceiversReached(3000)).toBe(true);
    expect(fc.allReceiversReached(3001)).toBe(false);
  });

  it('uses the consumption position, not the limit, after a receiver shrinks its window', () => {
    const fc = new FlowControl('unicast', undefined, TIMEOUT_NS);
    fc.onStatusMessage(sm(1n, 1000, 500), 0, 0);
    // Congestion control cut the window: the limit stays at 1500 but the receiver is only at 1100.
    fc.onStatusMessage(sm(1n, 1100, 200), 1500, 10);
    expect(fc.allReceiversReached(1100)).toBe(true);
    expect(fc.allReceiversReached(1101)).toBe(false);
    expect(fc.allReceiversReached(1300)).toBe(false);
  });

  it('does not go back on a reordered older SM', () => {
    const fc = new FlowControl('min', undefined, TIMEOUT_NS);
    fc.onStatusMessage(sm(1n, 3000, 500), 0, 0);
    fc.onStatusMessage(sm(1n, 2000, 500), 3500, 10);
    expect(fc.allReceiversReached(3000)).toBe(true);
  });

  it('stops waiting for a receiver once it closes or times out', () => {
    const fc = new FlowControl('min', undefined, TIMEOUT_NS);
    fc.onStatusMessage(sm(1n, 1000, 500), 0, 0);
    fc.onStatusMessage(sm(2n, 5000, 500), 1500, 0);
    fc.onStatusMessage(sm(3n, 2000, 500), 1500, 3_000_000_000);
    expect(fc.allReceiversReached(5000)).toBe(false);
    fc.onStatusMessage(eos(1n), 1500, 3_000_000_001);
    expect(fc.allReceiversReached(5000)).toBe(false);
    fc.onStatusMessage(sm(2n, 5000, 500), 2500, 4_000_000_000);
    fc.onIdle(8_000_000_001, 5500);
    expect(fc.receiverCount).toBe(1);
    expect(fc.allReceiversReached(5000)).toBe(true);
  });
});
