/**
 * Transfers whose sequence numbers and timestamp clocks cross 2^31 (where the signed form TCP keeps them
 * in, tcp/seq.ts, changes sign) and 2^32 (where they wrap) in the middle of the data, on both sides, with
 * SACK, timestamps, loss, duplication and reordering on the link: every byte must arrive once, in order,
 * and what people see (status, trace events, the capture as tshark reads it) must be unsigned.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SimulatedNetwork } from '../../src/sim/network.js';
import type { Stack } from '../../src/stack.js';
import type { TcpConnection } from '../../src/tcp/connection.js';
import type { IsnGenerator } from '../../src/tcp/isn.js';
import { seqDiff } from '../../src/tcp/seq.js';
import { parseIpv4 } from '../../src/wire/address.js';
import { findTshark, tsharkFields } from '../helpers/tshark.js';

const TWO_31 = 2 ** 31;
const TWO_32 = 2 ** 32;

/**
 * Makes the stack's next connections start at ISN `iss`, and their timestamp clock (RFC 7323 §5.4) read
 * `tsEdge - tsLead` when they are created, in place of the keyed hashes of isn.ts (unsigned, as RFC 6528
 * and RFC 7323 write them).
 */
function pinSequenceSpace(stack: Stack, iss: number, tsEdge: number, tsLead: number): void {
  const isn = (stack.tcp as unknown as { isn: IsnGenerator }).isn;
  isn.next = () => iss;
  isn.timestampOffset = () => (tsEdge - tsLead - Math.floor(stack.clock.now())) % TWO_32;
}

function pattern(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed;
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

/** Writes everything (as the window allows), then closes; collects what arrives. */
function drive(conn: TcpConnection, data: Uint8Array, now: () => number, received: Uint8Array[]): void {
  let offset = 0;
  const write = () => {
    while (offset < data.length) {
      const n = conn.send(data.subarray(offset, Math.min(data.length, offset + 10_000)), now());
      if (n === 0) return;
      offset += n;
    }
    conn.close(now());
  };
  conn.on('drain', write);
  conn.on('readable', () => {
    for (;;) {
      const chunk = conn.receive(now());
      if (chunk === null || chunk.length === 0) return;
      received.push(chunk.slice());
    }
  });
  write();
}

function joined(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

interface Edge {
  name: string;
  /** 2^31 or 2^32: the edge each side's ISN and timestamp clock sit just below. */
  edge: number;
}

const EDGES: Edge[] = [
  { name: 'the sign change at 2^31', edge: TWO_31 },
  { name: 'the wrap at 2^32', edge: TWO_32 },
];

describe('sequence numbers and timestamps across 2^31 and 2^32', () => {
  for (const { name, edge } of EDGES) {
    for (const seed of [1, 2]) {
      it(`crosses ${name} on both sides mid-transfer, byte-exact (seed ${seed})`, () => {
        const net = new SimulatedNetwork({
          seed,
          stack: { tcp: { sack: true, timestamps: true, rack: true } },
        });
        const client = net.host('client', '10.0.0.1/24');
        const server = net.host('server', '10.0.0.2/24');
        const link = net.link(client, server, {
          delayMs: 5,
          impairments: { loss: 0.03, duplicate: 0.01, reorder: 0.05, jitterMs: 1 },
        });
        // The client's data crosses the edge after 3,000 bytes, the server's after 7,000; their
        // timestamp clocks 40 and 60 ms after each side's connection was created (the transfer takes
        // several hundred).
        const clientIss = edge - 3000;
        const serverIss = edge - 7000;
        pinSequenceSpace(client, clientIss, edge, 40);
        pinSequenceSpace(server, serverIss, edge, 60);
        const capture = net.capture(link);
        const up = pattern(120_000, seed);
        const down = pattern(80_000, seed + 100);
        const atServer: Uint8Array[] = [];
        const atClient: Uint8Array[] = [];
        const now = () => net.clock.now();
        type Status = ReturnType<TcpConnection['status']>;
        /** Each side's status when its connection first reaches TIME-WAIT or CLOSED. */
        const last = (c: TcpConnection, keep: (s: Status) => void) => {
          let kept = false;
          c.on('state', (_from, to) => {
            if (!kept && (to === 'TIME-WAIT' || to === 'CLOSED')) keep(c.status());
            kept ||= to === 'TIME-WAIT' || to === 'CLOSED';
          });
        };
        let accepted: TcpConnection | undefined;
        let serverStatus: Status | undefined;
        server.tcp.listen({ port: 80 }).on('connection', (c) => {
          accepted = c;
          last(c, (s) => {
            serverStatus = s;
          });
          drive(c, down, now, atServer);
        });
        const conn = client.tcp.connect({ remoteAddress: parseIpv4('10.0.0.2')!, remotePort: 80 });
        let statusAtEnd: Status | undefined;
        last(conn, (s) => {
          statusAtEnd = s;
        });
        conn.on('connected', () => drive(conn, up, now, atClient));
        net.runUntilIdle();

        expect(joined(atServer)).toEqual(up);
        expect(joined(atClient)).toEqual(down);
        expect(conn.state).toBe('CLOSED');
        expect(accepted?.state).toBe('CLOSED');

        // What the application sees is unsigned, and the options were in use.
        const status = statusAtEnd!;
        expect(status.sackEnabled && status.timestampsEnabled).toBe(true);
        expect(status.iss).toBe(clientIss);
        expect(status.irs).toBe(serverIss);
        expect(status.sndUna).toBe((clientIss + 1 + up.length + 1) % TWO_32);
        expect(status.rcvNxt).toBe((serverIss + 1 + down.length + 1) % TWO_32);
        // Every byte sent was acknowledged and let go of, on both sides.
        expect([status.bytesAcked, status.sendQueued]).toEqual([up.length, 0]);
        expect([serverStatus!.bytesAcked, serverStatus!.sendQueued]).toEqual([down.length, 0]);
        expect(serverStatus!.iss).toBe(serverIss);
        expect(serverStatus!.sndUna).toBe((serverIss + 1 + down.length + 1) % TWO_32);
        // Loss recovery ran, and every retransmission the trace reports lies in the client's or the
        // server's sequence space, unsigned.
        const resent = net.trace.events.filter((e) => e.kind === 'tcp.retransmit');
        expect(resent.length).toBeGreaterThan(0);
        for (const e of resent) {
          if (e.kind !== 'tcp.retransmit') continue;
          expect(e.seq).toBeGreaterThanOrEqual(0);
          expect(e.seq).toBeLessThan(TWO_32);
          const base = e.host === 'client' ? clientIss : serverIss;
          const length = e.host === 'client' ? up.length : down.length;
          expect(seqDiff(e.seq, base)).toBeGreaterThanOrEqual(0);
          expect(seqDiff(e.seq, base)).toBeLessThanOrEqual(length + 1);
        }

        // The capture as Wireshark reads it: the SYNs carry the ISNs, and some TSvals lie on both sides
        // of the edge (the raw, unsigned 32-bit values).
        if (findTshark() === undefined || seed !== 1) return;
        const dir = mkdtempSync(join(tmpdir(), 'tcpts-seqspace-'));
        try {
          const path = join(dir, 'capture.pcap');
          writeFileSync(path, capture.bytes());
          const syns = tsharkFields(path, 'tcp.flags.syn == 1', ['tcp.srcport', 'tcp.seq_raw']);
          const synSeq = new Map(syns.map(([port, seq]) => [Number(port), Number(seq)]));
          expect(synSeq.get(80)).toBe(serverIss);
          expect([...synSeq.values()]).toContain(clientIss);
          const tsvals = tsharkFields(path, 'tcp.srcport == 80 && tcp.options.timestamp.tsval', [
            'tcp.options.timestamp.tsval',
          ]).map(([v]) => Number(v));
          expect(tsvals.some((v) => v >= edge - 60 && v < edge)).toBe(true);
          expect(tsvals.some((v) => v >= edge % TWO_32 && v < (edge % TWO_32) + 100_000)).toBe(true);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      });
    }
  }
});
