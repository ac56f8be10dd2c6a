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
  /** Options in use, as tcpi_options: TCPI_OPT_TIMESTAMPS | TCPI_OPT_SACK | TCPI_OPT_WSCALE | TCPI_OPT_ECN. */
  options: number;
  /** Window scale shifts: the peer's (tcpi_snd_wscale) and ours (tcpi_rcv_wscale); 0 without scaling. */
  sndWscale: number;
  rcvWscale: number;
  /** Bytes the peer SACKed (tcpi_sacked, which Linux counts in segments). */
  sacked: number;
  /** Bytes judged lost and not yet repaired (tcpi_lost, in bytes). */
  lost: number;
  /** Retransmitted bytes still outstanding (tcpi_retrans, in bytes). */
  retrans: number;
  /**
   * Reordering degree in segments (tcpi_reordering): 3 (DupThresh) at first, raised as Linux raises
   * tp->reordering to how far below the highest delivered segment a late one arrived, at most
   * TcpConfig.maxReordering (300).
   */
  reordering: number;
  /** Times reordering was detected (tcpi_reord_seen). */
  reordSeen: number;
  /** Smallest RTT measured, ms (tcpi_min_rtt, which Linux gives in microseconds); 0 before any. */
  minRtt: number;
  /** Last delivery-rate sample, bytes per second (tcpi_delivery_rate), and whether the application limited it. */
  deliveryRate: number;
  deliveryRateAppLimited: boolean;
  /** The congestion control's own state (Linux's ca_state and the algorithm's phase), e.g. 'recovery'. */
  congestionState: string;
}

/** tcpi_options bits (linux/tcp.h). */
export const TCPI_OPT_TIMESTAMPS = 1;
export const TCPI_OPT_SACK = 2;
export const TCPI_OPT_WSCALE = 4;
/** ECN was negotiated (RFC 3168), as Linux's TCPI_OPT_ECN. */
export const TCPI_OPT_ECN = 8;

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
    options:
      (s.timestampsEnabled ? TCPI_OPT_TIMESTAMPS : 0) |
      (s.sackEnabled ? TCPI_OPT_SACK : 0) |
      (s.windowScalingEnabled ? TCPI_OPT_WSCALE : 0) |
      (s.ecnEnabled ? TCPI_OPT_ECN : 0),
    sndWscale: s.sndWindowScale,
    rcvWscale: s.rcvWindowScale,
    sacked: s.sackedBytes,
    lost: s.lostBytes,
    retrans: s.retransmittedOutstandingBytes,
    reordering: s.reordering,
    reordSeen: s.reorderingSeen,
    minRtt: s.minRtt,
    deliveryRate: Math.round(s.deliveryRate * 1000),
    deliveryRateAppLimited: s.deliveryRateAppLimited,
    congestionState: s.congestionState,
  };
}
