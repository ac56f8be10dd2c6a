/**
 * A connection's vital signs in the shape of Linux's TCP_INFO (`ss -ti`), for sockets of every API.
 * Times are milliseconds (Linux reports microseconds); windows and counts are bytes unless named segments.
 */
import type { TcpConnection } from '../tcp/connection.js';
import type { TcpStateName } from '../trace/events.js';

export interface TcpInfo {
  /** RFC 9293 state name (tcpi_state). */
  state: TcpStateName;
  /** Smoothed round-trip time, ms (tcpi_rtt); 0 before the first sample. */
  rtt: number;
  /** Round-trip time variation, ms (tcpi_rttvar). */
  rttvar: number;
  /** Retransmission timeout, ms (tcpi_rto). */
  rto: number;
  /** Congestion window, bytes (tcpi_snd_cwnd, which Linux counts in segments). */
  cwnd: number;
  /** Slow-start threshold, bytes (tcpi_snd_ssthresh); Infinity-like large values before the first loss. */
  ssthresh: number;
  /** Congestion control algorithm (tcpi_ca_name in `ss`). */
  congestionControl: string;
  /** True during fast recovery (tcpi_ca_state Recovery). */
  inRecovery: boolean;
  /** Window the peer offers us, bytes (tcpi_snd_wnd). */
  sendWindow: number;
  /** Window we offer the peer, bytes (tcpi_rcv_wnd). */
  receiveWindow: number;
  /** Effective send MSS (tcpi_snd_mss) and the MSS we announced (tcpi_advmss). */
  sendMss: number;
  advertisedMss: number;
  /** Path MTU towards the peer (tcpi_pmtu). */
  pathMtu: number;
  /** Sent but unacknowledged bytes (tcpi_unacked, in bytes). */
  bytesInFlight: number;
  /** Send buffer: unacknowledged plus unsent bytes (SIOCOUTQ), and of those not yet sent (SIOCOUTQNSD). */
  sendQueued: number;
  sendUnsent: number;
  /** Received bytes waiting to be read (SIOCINQ). */
  receiveQueued: number;
  /** Segments retransmitted over the connection's life (tcpi_total_retrans). */
  retransmissions: number;
  /** Bytes sent (tcpi_bytes_sent, retransmissions included), retransmitted (tcpi_bytes_retrans). */
  bytesSent: number;
  bytesRetransmitted: number;
  /** Bytes the peer acknowledged (tcpi_bytes_acked) and bytes received in order (tcpi_bytes_received). */
  bytesAcked: number;
  bytesReceived: number;
  /** Segments sent and received (tcpi_segs_out, tcpi_segs_in). */
  segmentsSent: number;
  segmentsReceived: number;
  /** Nagle off (TCP_NODELAY) and keepalives on (SO_KEEPALIVE). */
  noDelay: boolean;
  keepAlive: boolean;
  /** The last ICMP soft error heard (e.g. 'EHOSTUNREACH'), if any. */
  lastSoftError: string | undefined;
}

/** TCP_INFO for `connection` now. */
export function tcpInfoOf(connection: TcpConnection): TcpInfo {
  const s = connection.status();
  return {
    state: s.state,
    rtt: s.srtt,
    rttvar: s.rttvar,
    rto: s.rto,
    cwnd: s.cwnd,
    ssthresh: s.ssthresh,
    congestionControl: s.congestionControl,
    inRecovery: s.inRecovery,
    sendWindow: s.sndWnd,
    receiveWindow: s.rcvWnd,
    sendMss: s.effectiveMss,
    advertisedMss: s.advertisedMss,
    pathMtu: s.pathMtu,
    bytesInFlight: s.bytesInFlight,
    sendQueued: s.sendQueued,
    sendUnsent: s.sendUnsent,
    receiveQueued: s.receiveQueued,
    retransmissions: s.retransmissions,
    bytesSent: s.bytesSent,
    bytesRetransmitted: s.bytesRetransmitted,
    bytesAcked: s.bytesAcked,
    bytesReceived: s.bytesReceived,
    segmentsSent: s.segmentsSent,
    segmentsReceived: s.segmentsReceived,
    noDelay: s.noDelay,
    keepAlive: s.keepAlive,
    lastSoftError: s.lastSoftError,
  };
}
