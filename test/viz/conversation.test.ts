import { describe, expect, it } from 'vitest';
import { sliceConversation, statesAt } from '../../src/viz/conversation.js';
import { ConversationBuilder, conversationFromTrace } from '../../src/viz/conversation-from-trace.js';
import { TCP_ACK, TCP_PSH, TCP_SYN } from '../../src/wire/tcp.js';
import {
  CLIENT_ISN,
  CLIENT_PORT,
  client,
  clientConn,
  DELAY,
  events,
  fromClient,
  fromServer,
  handshake,
  lossAndRetransmission,
  SERVER_ISN,
  SERVER_PORT,
  server,
  serverConn,
  slidingWindow,
} from './scenarios.js';
import { arpFrame, conn, type HostSpec, TraceScript, tcpFrame, udpFrame } from './trace-script.js';

describe('conversationFromTrace', () => {
  it('pairs each link.sent with its delivery and decodes the frame', () => {
    const c = conversationFromTrace(events(handshake()));
    expect(c.vantage).toBe('link');
    expect(c.hosts).toEqual(['client', 'server']);
    expect(c.addresses).toEqual({ client: ['10.0.0.1'], server: ['10.0.0.2'] });
    expect(c.packets.map((p) => [p.id, p.from, p.to, p.sentAt, p.arrivedAt, p.protocol])).toEqual([
      [1, 'client', 'server', 0, DELAY, 'tcp'],
      [2, 'server', 'client', DELAY, 2 * DELAY, 'tcp'],
      [3, 'client', 'server', 2 * DELAY, 3 * DELAY, 'tcp'],
    ]);
    const [syn, synAck, ack] = c.packets.map((p) => p.tcp!);
    expect(syn).toMatchObject({
      flags: 'SYN',
      seq: CLIENT_ISN,
      ack: undefined,
      relativeSeq: 0,
      relativeAck: undefined,
      mss: 1460,
      options: 'mss=1460',
      length: 0,
    });
    expect(synAck).toMatchObject({
      flags: 'SYN,ACK',
      seq: SERVER_ISN,
      ack: CLIENT_ISN + 1,
      relativeSeq: 0,
      relativeAck: 1,
      window: 4096,
      effectiveWindow: 4096,
    });
    expect(ack).toMatchObject({
      flags: 'ACK',
      relativeSeq: 1,
      relativeAck: 1,
      srcPort: CLIENT_PORT,
      dstPort: SERVER_PORT,
    });
    expect(c.packets[0]!.ipv4).toMatchObject({
      src: '10.0.0.1',
      dst: '10.0.0.2',
      ttl: 64,
      dontFragment: true,
    });
    expect(c.startTime).toBe(0);
    expect(c.endTime).toBe(3 * DELAY);
  });

  it('describes the flow: endpoints, ISNs, bytes each way', () => {
    const c = conversationFromTrace(events(slidingWindow()));
    expect(c.flows).toEqual([
      {
        id: 0,
        a: { host: 'client', address: '10.0.0.1', port: CLIENT_PORT },
        b: { host: 'server', address: '10.0.0.2', port: SERVER_PORT },
        isnA: CLIENT_ISN,
        isnB: SERVER_ISN,
        firstTime: 0,
        lastTime: 130,
        packets: 8,
        bytesAtoB: 4096,
        bytesBtoA: 0,
        retransmissions: 0,
      },
    ]);
    expect(c.packets.every((p) => p.tcp?.flowId === 0)).toBe(true);
  });

  it('ties state changes to their flow, listeners to none', () => {
    const c = conversationFromTrace(events(handshake()));
    expect(c.states.map((s) => [s.time, s.host, s.to, s.flowId, s.local, s.remote])).toEqual([
      [0, 'server', 'LISTEN', undefined, '10.0.0.2:80', '0.0.0.0:0'],
      [0, 'client', 'SYN-SENT', 0, '10.0.0.1:49152', '10.0.0.2:80'],
      [10, 'server', 'SYN-RECEIVED', 0, '10.0.0.2:80', '10.0.0.1:49152'],
      [20, 'client', 'ESTABLISHED', 0, '10.0.0.1:49152', '10.0.0.2:80'],
      [30, 'server', 'ESTABLISHED', 0, '10.0.0.2:80', '10.0.0.1:49152'],
    ]);
    expect(
      statesAt(c, 15)
        .map((s) => `${s.host} ${s.state}`)
        .sort(),
    ).toEqual(['client SYN-SENT', 'server LISTEN', 'server SYN-RECEIVED']);
  });

  it('marks a lost frame, a link duplicate and corruption', () => {
    const t = handshake();
    const id = t.send(100, client, server, fromClient(1, 1, TCP_PSH, { payload: 10 }), 110);
    t.add({ kind: 'link.duplicated', time: 100, link: 'lan', frameId: id });
    t.add({
      kind: 'link.delivered',
      time: 111,
      link: 'lan',
      from: 'client',
      to: 'server',
      frameId: id,
      frame: new Uint8Array(0),
    });
    const lost = t.send(120, client, server, fromClient(11, 1, TCP_PSH, { payload: 10 }), 'lost');
    const bad = t.send(130, client, server, fromClient(21, 1, TCP_PSH, { payload: 10 }), 140);
    t.add({ kind: 'link.corrupted', time: 130, link: 'lan', frameId: bad });
    const c = conversationFromTrace(events(t));
    const data = c.packets.filter((p) => p.tcp!.length > 0);
    expect(
      data.map((p) => [p.id, p.frameId, p.sentAt, p.arrivedAt, p.dropped, p.duplicate, p.corrupted]),
    ).toEqual([
      [4, id, 100, 110, undefined, undefined, undefined],
      [5, id, 100, 111, undefined, true, undefined],
      [6, lost, 120, undefined, 'loss', undefined, undefined],
      [7, bad, 130, 140, undefined, undefined, true],
    ]);
    // The copy repeats sequence space on the same link, as a capture analyser would also see it.
    expect(data[1]!.tcp!.retransmission).toBe('detected');
  });

  it('attributes a retransmission to its traced cause and flags the duplicate ACK', () => {
    const c = conversationFromTrace(events(lossAndRetransmission()));
    const resent = c.packets.filter((p) => p.tcp?.retransmission);
    expect(resent.map((p) => [p.sentAt, p.tcp!.relativeSeq, p.tcp!.retransmission])).toEqual([
      [300, 1001, 'rto'],
    ]);
    expect(c.retransmits).toEqual([
      {
        time: 300,
        host: 'client',
        seq: CLIENT_ISN + 1001,
        length: 1000,
        cause: 'rto',
        flowId: 0,
        packetId: resent[0]!.id,
      },
    ]);
    const acks = c.packets.filter((p) => p.from === 'server' && p.sentAt >= 100);
    expect(acks.map((p) => [p.tcp!.relativeAck, p.tcp!.dupAck])).toEqual([
      [1001, undefined],
      [1001, 1],
      [3001, undefined],
    ]);
    expect(c.notes).toEqual([
      { time: 300, order: expect.any(Number), host: 'client', text: 'retransmission timer expired' },
    ]);
    expect(c.flows[0]!.retransmissions).toBe(1);
  });

  it("measures RTT from data to the ACK covering it and skips retransmitted data (Karn's rule)", () => {
    const c = conversationFromTrace(events(lossAndRetransmission()));
    expect(c.rttSamples.map((r) => [r.host, r.time, r.rtt])).toEqual([
      ['client', 20, 20], // SYN sent at 0, SYN,ACK back at 20
      ['server', 30, 20], // SYN,ACK sent at 10, ACK back at 30
      ['client', 120, 20], // first data segment (100) acknowledged at 120
      // The ACK of 3001 covers the retransmitted segment: no sample.
    ]);
  });

  it('applies window scaling once both SYNs carry the option (RFC 7323 §2.2)', () => {
    const t = new TraceScript();
    t.send(
      0,
      client,
      server,
      fromClient(0, undefined, TCP_SYN, {
        options: { mss: 1460, windowScale: 7, sackPermitted: true, timestamp: { value: 100, echo: 0 } },
      }),
      1,
    );
    t.send(
      1,
      server,
      client,
      fromServer(0, 1, TCP_SYN, { window: 65535, options: { mss: 1400, windowScale: 2 } }),
      2,
    );
    t.send(2, client, server, fromClient(1, 1, 0, { window: 502 }), 3);
    t.send(3, server, client, fromServer(1, 1, 0, { window: 1000 }), 4);
    const c = conversationFromTrace(events(t));
    const [syn, synAck, ack, back] = c.packets.map((p) => p.tcp!);
    expect(syn).toMatchObject({
      window: 65535,
      effectiveWindow: 65535,
      options: 'mss=1460 ws=7 sackOK ts=100/0',
      windowScale: 7,
      sackPermitted: true,
      timestamp: { value: 100, echo: 0 },
    });
    expect(synAck).toMatchObject({ effectiveWindow: 65535, options: 'mss=1400 ws=2' });
    expect(ack).toMatchObject({ window: 502, effectiveWindow: 502 * 128 });
    expect(back).toMatchObject({ window: 1000, effectiveWindow: 4000 });
    expect(c.flows[0]).toMatchObject({ windowScaleA: 7, windowScaleB: 2 });
  });

  it('leaves windows unscaled when only one SYN carries the option', () => {
    const t = new TraceScript();
    t.send(0, client, server, fromClient(0, undefined, TCP_SYN, { options: { windowScale: 7 } }), 1);
    t.send(1, server, client, fromServer(0, 1, TCP_SYN), 2);
    t.send(2, client, server, fromClient(1, 1, 0, { window: 502 }), 3);
    const c = conversationFromTrace(events(t));
    expect(c.packets[2]!.tcp!.effectiveWindow).toBe(502);
    expect(c.flows[0]!.windowScaleA).toBeUndefined();
  });

  it('shows SACK blocks relative to the data sender ISN', () => {
    const t = handshake();
    t.send(
      100,
      server,
      client,
      fromServer(1, 1001, 0, { options: { sack: [{ left: CLIENT_ISN + 2001, right: CLIENT_ISN + 3001 }] } }),
      110,
    );
    const c = conversationFromTrace(events(t));
    const s = c.packets[3]!.tcp!;
    expect(s.sack).toEqual([{ left: 2001, right: 3001 }]);
    expect(s.absoluteSack).toEqual([{ left: CLIENT_ISN + 2001, right: CLIENT_ISN + 3001 }]);
    expect(s.options).toBe('sack=2001-3001');
  });

  it('recognises a zero window, the probe that follows and the window update', () => {
    const t = handshake();
    t.send(100, client, server, fromClient(1, 1, TCP_PSH, { payload: 4096 }), 110);
    t.send(110, server, client, fromServer(1, 4097, 0, { window: 0 }), 120);
    t.add({
      kind: 'tcp.retransmit',
      time: 300,
      host: 'client',
      conn: clientConn,
      seq: CLIENT_ISN + 4097,
      length: 1,
      cause: 'probe',
    });
    t.send(300, client, server, fromClient(4097, 1, 0, { payload: 1 }), 310);
    t.send(310, server, client, fromServer(1, 4097, 0, { window: 0 }), 320);
    t.send(400, server, client, fromServer(1, 4097, 0, { window: 2048 }), 410);
    const c = conversationFromTrace(events(t));
    const [, zero, probe, stillZero, update] = c.packets.slice(3).map((p) => p.tcp!);
    expect(zero).toMatchObject({ zeroWindow: true, effectiveWindow: 0 });
    // A probe is counted as a probe, never as a retransmission (whatever the stack's trace calls it).
    expect(probe).toMatchObject({ windowProbe: true, length: 1 });
    expect(probe!.retransmission).toBeUndefined();
    expect(stillZero).toMatchObject({ zeroWindow: true });
    expect(stillZero!.dupAck).toBeUndefined();
    expect(update).toMatchObject({ windowUpdate: true, effectiveWindow: 2048 });
    expect(update!.zeroWindow).toBeUndefined();
  });

  it('starts a new flow when a SYN with a new ISN reuses a 4-tuple', () => {
    const t = handshake();
    t.send(5000, client, server, fromClient(777, undefined, TCP_SYN), 5010);
    t.state(5000, client, clientConn, 'CLOSED', 'SYN-SENT');
    const c = conversationFromTrace(events(t));
    expect(c.flows.map((f) => [f.id, f.isnA, f.firstTime])).toEqual([
      [0, CLIENT_ISN, 0],
      [1, CLIENT_ISN + 777, 5000],
    ]);
    expect(c.packets[3]!.tcp).toMatchObject({ flowId: 1, relativeSeq: 0 });
    expect(c.states.at(-1)).toMatchObject({ flowId: 1, to: 'SYN-SENT' });
  });

  it('names flows after the hosts, not a router, and does not take forwarded copies for resends', () => {
    const router: HostSpec = { name: 'router', ip: '10.0.0.254', mac: 0x02_00_00_00_00_fe };
    const a = new TraceScript('net-a');
    const b = new TraceScript('net-b');
    const merged: ReturnType<TraceScript['flush']> = [];
    // Each segment crosses net-a (client -> router) then net-b (router -> server), and back.
    const syn = fromClient(0, undefined, TCP_SYN);
    a.send(0, client, router, syn, 1);
    b.send(1, router, server, syn, 2);
    const synAck = fromServer(0, 1, TCP_SYN);
    b.send(2, server, router, synAck, 3);
    a.send(3, router, client, synAck, 4);
    merged.push(...a.flush(), ...b.flush());
    merged.sort((x, y) => x.time - y.time);
    const c = conversationFromTrace(merged, { hosts: ['client', 'router', 'server'] });
    expect(c.hosts).toEqual(['client', 'router', 'server']);
    expect(c.flows).toHaveLength(1);
    expect(c.flows[0]!.a.host).toBe('client');
    expect(c.flows[0]!.b.host).toBe('server');
    expect(c.packets.map((p) => [p.from, p.to, p.tcp!.flags, p.tcp!.retransmission])).toEqual([
      ['client', 'router', 'SYN', undefined],
      ['router', 'server', 'SYN', undefined],
      ['server', 'router', 'SYN,ACK', undefined],
      ['router', 'client', 'SYN,ACK', undefined],
    ]);
    expect(c.addresses).toEqual({ client: ['10.0.0.1'], server: ['10.0.0.2'] });
    expect(c.rttSamples.map((r) => [r.host, r.rtt])).toEqual([['client', 4]]);
  });

  it('decodes ARP and UDP', () => {
    const t = new TraceScript();
    t.send(0, client, server, arpFrame(client, server, false), 1);
    t.send(1, server, client, arpFrame(server, client, true), 2);
    t.send(2, client, server, udpFrame(client, server, 5000, 53, 'hello'), 3);
    const c = conversationFromTrace(events(t));
    expect(c.packets.map((p) => p.protocol)).toEqual(['arp', 'arp', 'udp']);
    expect(c.packets[0]!.arp).toEqual({
      operation: 'request',
      senderIp: '10.0.0.1',
      senderMac: '02:00:00:00:00:01',
      targetIp: '10.0.0.2',
      targetMac: '00:00:00:00:00:00',
    });
    expect(c.packets[1]!.arp).toMatchObject({
      operation: 'reply',
      senderIp: '10.0.0.2',
      senderMac: '02:00:00:00:00:02',
    });
    expect(c.packets[2]!.udp).toEqual({ srcPort: 5000, dstPort: 53, length: 5, preview: 'hello' });
    expect(c.flows).toEqual([]);
  });

  it('keeps a garbled frame as an undecoded record instead of throwing', () => {
    const t = new TraceScript();
    const frame = fromClient(0, undefined, TCP_SYN);
    t.send(0, client, server, frame.subarray(0, 40), 1);
    t.send(1, client, server, new Uint8Array(5), 2);
    const c = conversationFromTrace(events(t));
    expect(c.packets.map((p) => [p.protocol, p.undecoded])).toEqual([
      // Cut inside the TCP header: the IPv4 header is read as a short capture's would be.
      ['tcp', 'tcp: 6 bytes, the TCP header needs at least 20'],
      ['other', 'ethernet: frame of 5 bytes is shorter than the 14-byte header'],
    ]);
  });

  it('ties metrics samples to their flow', () => {
    const t = handshake();
    t.add({
      kind: 'tcp.metrics',
      time: 40,
      host: 'client',
      conn: clientConn,
      cwnd: 14600,
      ssthresh: 0xffffffff,
      srtt: 20,
      rttvar: 10,
      rto: 200,
      sendWindow: 4096,
      receiveWindow: 65535,
      bytesInFlight: 0,
    });
    const c = conversationFromTrace(events(t));
    expect(c.metrics).toEqual([
      {
        time: 40,
        host: 'client',
        flowId: 0,
        local: '10.0.0.1:49152',
        remote: '10.0.0.2:80',
        cwnd: 14600,
        ssthresh: 0xffffffff,
        srtt: 20,
        rttvar: 10,
        rto: 200,
        sendWindow: 4096,
        receiveWindow: 65535,
        bytesInFlight: 0,
      },
    ]);
  });

  it('gives independent snapshots while the trace goes on', () => {
    const builder = new ConversationBuilder();
    const t = handshake();
    const all = events(t);
    for (const e of all.slice(0, 4)) builder.emit(e);
    const early = builder.conversation();
    for (const e of all.slice(4)) builder.emit(e);
    const late = builder.conversation();
    expect(early.packets.length).toBeLessThan(late.packets.length);
    expect(early.packets[0]!.arrivedAt).toBe(DELAY);
    expect(late.packets).toHaveLength(3);
    expect(builder.enabled).toBe(true);
  });

  it('filters by link', () => {
    const t = new TraceScript('a');
    t.send(0, client, server, fromClient(0, undefined, TCP_SYN), 1);
    const u = new TraceScript('b');
    u.send(0, server, client, fromServer(0, 1, TCP_SYN), 1);
    const c = conversationFromTrace([...events(t), ...events(u)], { links: ['b'] });
    expect(c.packets.map((p) => p.link)).toEqual(['b']);
  });
});

describe('sliceConversation', () => {
  it('keeps packets sent in the window and the whole flows', () => {
    const c = conversationFromTrace(events(slidingWindow()));
    const s = sliceConversation(c, { from: 100, to: 120 });
    expect(s.packets.map((p) => p.tcp!.relativeSeq)).toEqual([1, 1025, 2049, 3073]);
    expect(s.flows).toBe(c.flows);
    expect(s.states).toEqual([]);
    expect(s.startTime).toBe(100);
    expect(s.endTime).toBe(113);
  });
});

describe('a segment from an unusual port pair', () => {
  it('uses the ports it carries', () => {
    const t = new TraceScript();
    const other = conn(client, 1234, server, 22);
    t.send(
      0,
      client,
      server,
      tcpFrame(client, server, { srcPort: 1234, dstPort: 22, seq: 1, flags: TCP_SYN, window: 100 }),
      1,
    );
    t.add({ kind: 'tcp.state', time: 0, host: 'client', conn: other, from: 'CLOSED', to: 'SYN-SENT' });
    t.send(
      2,
      server,
      client,
      tcpFrame(server, client, {
        srcPort: 22,
        dstPort: 1234,
        seq: 9,
        ack: 2,
        flags: TCP_SYN | TCP_ACK,
        window: 100,
      }),
      3,
    );
    const c = conversationFromTrace(events(t));
    expect(c.flows[0]!.a).toEqual({ host: 'client', address: '10.0.0.1', port: 1234 });
    expect(c.states[0]!.flowId).toBe(0);
    expect(serverConn.local.port).toBe(80);
  });
});
