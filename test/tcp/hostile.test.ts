import { describe, expect, it } from 'vitest';
import { seqGe, seqLe } from '../../src/tcp/seq.js';
import { TCP_STATE_NAMES } from '../../src/trace/events.js';
import { Random } from '../../src/util/random.js';
import { TCP_ACK, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN, TCP_URG, type TcpSegment } from '../../src/wire/tcp.js';
import { Dialogue, established, pattern } from './dialogue.js';
import { lossyTransfer } from './lossy-transfer.js';
import { FakeNetwork, ip } from './network.js';

const D = 1001;
const P = 9001;

/** Builds a connection in `state` (peer ISN 9000, ours 1000). */
function inState(state: string): Dialogue {
  switch (state) {
    case 'SYN-SENT':
      return Dialogue.active();
    case 'SYN-RECEIVED':
      return Dialogue.passive({ flags: 'S', seq: 9000 }, { iss: 1000 });
  }
  const d = established();
  d.conn.send(pattern(1000), d.now);
  switch (state) {
    case 'ESTABLISHED':
      break;
    case 'FIN-WAIT-1':
      d.conn.close(d.now);
      break;
    case 'FIN-WAIT-2':
      d.conn.close(d.now);
      d.recv({ flags: 'A', seq: P, ack: D + 1001 });
      break;
    case 'CLOSE-WAIT':
      d.recv({ flags: 'FA', seq: P, ack: D });
      break;
    case 'CLOSING':
      d.conn.close(d.now);
      d.recv({ flags: 'FA', seq: P, ack: D });
      break;
    case 'LAST-ACK':
      d.recv({ flags: 'FA', seq: P, ack: D });
      d.conn.close(d.now);
      break;
    case 'TIME-WAIT':
      d.conn.close(d.now);
      d.recv({ flags: 'FA', seq: P, ack: D + 1001 });
      break;
  }
  expect(d.state).toBe(state);
  return d;
}

function randomSegment(rnd: Random, near: { seq: number; ack: number }): TcpSegment {
  const flagBits = [TCP_SYN, TCP_FIN, TCP_RST, TCP_PSH, TCP_ACK, TCP_URG];
  let flags = 0;
  for (const bit of flagBits) if (rnd.chance(bit === TCP_ACK ? 0.8 : 0.2)) flags |= bit;
  const around = (base: number) =>
    rnd.chance(0.3) ? rnd.int(0x1_0000_0000) : (base + rnd.intBetween(-70_000, 70_000)) >>> 0;
  const mssChoices = [undefined, 0, 1, 64, 536, 1460, 65535];
  return {
    srcPort: 80,
    dstPort: 40000,
    seq: around(near.seq),
    ack: around(near.ack),
    flags,
    window: rnd.chance(0.2) ? 0 : rnd.int(65536),
    urgentPointer: rnd.chance(0.5) ? 0 : rnd.int(65536),
    options: { mss: rnd.pick(mssChoices), sack: rnd.chance(0.1) ? [{ left: 1, right: 0 }] : undefined },
    payload: new Uint8Array(rnd.chance(0.5) ? 0 : rnd.int(3000)),
  };
}

describe('hostile input: no segment can throw or corrupt state', () => {
  // Every state a connection can be driven into by segments (LISTEN and CLOSED belong to the layer).
  const states = TCP_STATE_NAMES.filter((state) => state !== 'CLOSED' && state !== 'LISTEN');
  it.each(states)('random segments in %s', (state) => {
    const rnd = new Random(`hostile-${state}`);
    for (let run = 0; run < 20; run++) {
      const d = inState(state);
      for (let i = 0; i < 100 && d.state !== 'CLOSED'; i++) {
        const s = d.conn.status();
        const seg = randomSegment(rnd, { seq: s.rcvNxt, ack: s.sndUna });
        d.advance(rnd.int(50));
        expect(() => d.conn.handleSegment(seg, d.now)).not.toThrow();
        const after = d.conn.status();
        expect(seqLe(after.sndUna, after.sndNxt)).toBe(true);
        expect(seqLe(after.sndNxt, after.sndMax)).toBe(true);
        expect(after.rcvWnd).toBeGreaterThanOrEqual(0);
        expect(after.effectiveMss).toBeGreaterThanOrEqual(64);
        expect(Number.isNaN(d.conn.nextDeadline())).toBe(false);
        if (state !== 'SYN-SENT' && state !== 'SYN-RECEIVED' && d.state !== 'CLOSED') {
          // Whatever arrives, SND.UNA only moves forward and never past what was sent.
          expect(seqGe(after.sndUna, s.sndUna)).toBe(true);
        }
        d.takeAll();
      }
      // Timers keep working afterwards.
      expect(() => d.advance(400_000)).not.toThrow();
    }
  });

  it('a tiny MSS option cannot stall segmentation: 0 counts as absent (536), 1 is raised to 64', () => {
    for (const [mss, expected] of [
      [0, 536],
      [1, 64],
    ] as const) {
      const d = Dialogue.active();
      d.takeAll();
      d.recv({ flags: 'SA', seq: 9000, ack: 1001, options: { mss } });
      d.takeAll();
      d.conn.setNoDelay(true, d.now);
      d.conn.send(pattern(600), d.now);
      const segs = d.takeAll();
      expect(segs[0]!.payload.length).toBe(expected);
    }
  });

  it('blind injection of random segments during a lossy transfer changes no byte', () => {
    for (const seed of [11, 12, 13]) {
      const net = new FakeNetwork();
      const rnd = new Random(seed);
      const a = net.addHost(['10.0.0.1']);
      const b = net.addHost(['10.0.0.2']);
      const got: number[] = [];
      b.listen({ port: 80 }).on('connection', (c) => {
        c.on('readable', () => {
          for (;;) {
            const data = c.receive(0);
            if (!data || data.length === 0) break;
            got.push(...data);
          }
        });
        c.on('end', () => c.close(net.clock.now()));
      });
      const client = a.connect({ remoteAddress: ip('10.0.0.2'), remotePort: 80 });
      const data = pattern(60_000, seed);
      let offset = 0;
      const write = () => {
        while (offset < data.length) {
          const n = client.send(data.subarray(offset), net.clock.now());
          if (n === 0) return;
          offset += n;
        }
        client.close(net.clock.now());
      };
      client.on('connected', write);
      client.on('drain', write);
      net.drop = () => rnd.chance(0.05);
      // An attacker who knows the addresses and ports but not the sequence numbers.
      for (let t = 1; t < 20_000; t += 7) {
        net.clock.setTimer(t, () => {
          const toServer = rnd.chance(0.5);
          const seg = randomSegment(rnd, { seq: rnd.int(0x1_0000_0000), ack: rnd.int(0x1_0000_0000) });
          seg.srcPort = toServer ? client.local.port : 80;
          seg.dstPort = toServer ? 80 : client.local.port;
          (toServer ? b : a).receive(
            ip(toServer ? '10.0.0.1' : '10.0.0.2'),
            ip(toServer ? '10.0.0.2' : '10.0.0.1'),
            seg,
          );
        });
      }
      net.clock.runUntilIdle({ maxDuration: 600_000 });
      expect(got.length).toBe(data.length);
      expect(got.every((v, i) => v === data[i])).toBe(true);
      expect(a.counters.internalErrors + b.counters.internalErrors).toBe(0);
    }
  });
});

describe('lossy transfers (a few seeds; the big soak lives with the simulator)', () => {
  it.each([1, 2, 3, 4, 5, 6, 7, 8])(
    'seed %i: every byte exactly once, both sides CLOSED, tables empty',
    (seed) => {
      const outcome = lossyTransfer(seed);
      expect(outcome.problems).toEqual([]);
    },
  );
});
