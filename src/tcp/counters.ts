/**
 * Counters of a TCP layer, in the spirit of Linux `nstat` (TcpActiveOpens, TcpRetransSegs, ...). All
 * connections of a layer add to one record.
 */
export interface TcpCounters {
  /** Connections that went SYN-SENT (OPEN active). */
  activeOpens: number;
  /** Connections created from a SYN on a listener. */
  passiveOpens: number;
  /** Opens that failed (SYN-SENT or SYN-RECEIVED to CLOSED). */
  attemptFails: number;
  /** Synchronized connections reset by the peer. */
  establishedResets: number;
  segmentsIn: number;
  segmentsOut: number;
  retransmittedSegments: number;
  fastRetransmits: number;
  retransmissionTimeouts: number;
  zeroWindowProbes: number;
  keepaliveProbes: number;
  resetsSent: number;
  /** Challenge ACKs sent (RFC 5961; Linux TCPChallengeACK). */
  challengeAcks: number;
  /** Challenge ACKs not sent: the stack-wide per-second budget was spent (`challengeAckLimit`). */
  challengeAcksOverLimit: number;
  /** Answers to out-of-window segments skipped by the per-connection limit (Linux TCPACKSkippedSeq). */
  ackSkippedSeq: number;
  /** Challenge ACKs skipped by the per-connection limit (Linux TCPACKSkippedChallenge). */
  ackSkippedChallenge: number;
  /** Answers to PAWS drops skipped by the per-connection limit (Linux TCPACKSkippedPAWS). */
  ackSkippedPaws: number;
  /** Answers to invalid segments in TIME-WAIT skipped by the limit (Linux TCPACKSkippedTimeWait). */
  ackSkippedTimeWait: number;
  /** Segments dropped for any reason (each also traced with the reason). */
  segmentsDropped: number;
  /** Segments refused because the out-of-order assembler was full. */
  outOfOrderOverflows: number;
  /** Out-of-order ranges forgotten (highest first) to make room for segments nearer RCV.NXT. */
  outOfOrderPruned: number;
  /** Times buffer autotuning raised a receive buffer (tcp/buffer-autotuning.ts). */
  receiveBufferGrowths: number;
  /** Times the stack's TCP memory went above `limits.memoryPressure` (Linux TCPMemoryPressures). */
  memoryPressureEntered: number;
  /**
   * Segments dropped because the stack's TCP memory was at `limits.memoryMax` (Linux TCPRcvQDrop and
   * TCPOFODrop); each is sent again by the peer.
   */
  memoryLimitDrops: number;
  /**
   * Writes held back because the stack's TCP memory was at `limits.memoryMax`: refused while the send
   * buffer held data, cut to one segment into an empty one.
   */
  memoryLimitWrites: number;
  /** Times buffer autotuning raised a send buffer. */
  sendBufferGrowths: number;
  /**
   * SYNs, and ACKs completing a handshake, refused because a listener's accept queue (its backlog) was
   * full (Linux ListenOverflows).
   */
  listenOverflows: number;
  /** Segments a listener dropped for want of room: accept queue or SYN queue full (Linux ListenDrops). */
  listenDrops: number;
  /** SYN-ACKs sent with a SYN cookie (Linux SyncookiesSent). */
  syncookiesSent: number;
  /** ACKs returning a valid SYN cookie: connections opened from them (Linux SyncookiesRecv). */
  syncookiesRecv: number;
  /** ACKs to a listener that sent cookies lately, returning an invalid one (Linux SyncookiesFailed). */
  syncookiesFailed: number;
  /** Passively opened connections dropped after `synAckRetries` unanswered SYN-ACKs. */
  synAckTimeouts: number;
  /** TIME-WAIT connections replaced by a new SYN (MAY-2). */
  timeWaitTakeovers: number;
  /** TIME-WAIT records taken over by an active open (`timeWaitReuse`; Linux TCPTWRecycled's role). */
  timeWaitReused: number;
  /** Connections closed without TIME-WAIT: the table was full (`maxTimeWait`; Linux TCPTimeWaitOverflow). */
  timeWaitOverflows: number;
  /** Orphans given up after `orphanRetries` unanswered retransmissions or probes (Linux TCPAbortOnTimeout). */
  orphansTimedOut: number;
  /** Orphans reset because the layer held more than `TcpLimits.maxOrphans` (Linux TCPAbortOnMemory). */
  orphansReset: number;
  /** Segments IP refused to send (no route, address gone): counted as lost and left to the timers. */
  outputErrors: number;
  /** Segments refused by PAWS (RFC 7323 §5): a timestamp older than TS.Recent (Linux PAWSEstab). */
  pawsDrops: number;
  /** Segments dropped for lacking the timestamp option negotiated for their connection (RFC 7323 §3.2). */
  timestampMissingDrops: number;
  /** D-SACK blocks reported to peers for duplicate segments (RFC 2883; Linux TCPDSACKOldSent + OfoSent). */
  dsacksSent: number;
  /** SACK-based recovery episodes entered (RFC 6675, RACK; Linux TCPSackRecovery). */
  sackRecoveries: number;
  /** D-SACK blocks received (Linux TCPDSACKRecv). */
  dsacksReceived: number;
  /** Window reductions undone because D-SACKs showed every retransmission spurious (RFC 3708; TCPDSACKUndo). */
  spuriousUndos: number;
  /** Segments judged lost by RACK (RFC 8985) or IsLost (RFC 6675) (Linux TCPLostRetransmit-like). */
  segmentsMarkedLost: number;
  /** Tail loss probes sent (RFC 8985 §7; Linux TCPLossProbes). */
  lossProbes: number;
  /** Losses a tail loss probe repaired (RFC 8985 §7.4; Linux TCPLossProbeRecovery). */
  lossProbeRecoveries: number;
  /** Peers seen discarding data they had SACKed (RFC 2018 §8; Linux TCPSACKReneging). */
  sackReneging: number;
  /** Times a connection's reordering degree grew (a segment arrived late by more; Linux TCPSACKReorder). */
  reorderingRaised: number;
  /** Times a connection saw more reordering than `maxReordering` and kept the cap. */
  reorderingCapped: number;
  /** Connections that agreed to use ECN (RFC 3168 §6.1.1), either side of the handshake. */
  ecnNegotiated: number;
  /** Segments received with Congestion Experienced in the IP header (Linux TCPDeliveredCE counts bytes). */
  ecnCeReceived: number;
  /** ACKs received with ECE on an ECN connection (RFC 3168 §6.1.2). */
  ecnEchoesReceived: number;
  /** Window reductions made for ECE, at most one per window of data (RFC 3168 §6.1.2). */
  ecnReductions: number;
  /** Internal faults caught at the layer boundary (should stay 0; each is traced). */
  internalErrors: number;
  /** ICMP errors quoting a 4-tuple with no connection: ignored (RFC 5927 §4.1). */
  icmpNoConnection: number;
  /** ICMP errors quoting a sequence number not in flight: ignored (RFC 5927 §4.1; Linux OutOfWindowIcmps). */
  icmpOutOfWindow: number;
  /** connect()/listen(0) refused with EADDRNOTAVAIL: every ephemeral port taken (for that 4-tuple). */
  ephemeralPortsExhausted: number;
  /**
   * Lists of connections due at one clock wake-up left to the garbage collector instead of kept for the
   * next wake-up, because more than DUE_LIST_KEPT (src/tcp/tcp-layer.ts) were due at once.
   */
  dueListsDropped: number;
  /** Path MTU probes sent (RFC 4821; tcp/mtu-probing.ts). */
  mtuProbes: number;
  /** Probes acknowledged: the MSS rose (Linux TCPMTUPSuccess). */
  mtuProbeSuccesses: number;
  /** Probes lost: the search's upper end fell (Linux TCPMTUPFail). */
  mtuProbeFailures: number;
  /** ICMP black holes suspected after repeated timeouts: the MSS fell (RFC 4821 §7.7). */
  mtuBlackHoles: number;
}

export function newTcpCounters(): TcpCounters {
  return {
    activeOpens: 0,
    passiveOpens: 0,
    attemptFails: 0,
    establishedResets: 0,
    segmentsIn: 0,
    segmentsOut: 0,
    retransmittedSegments: 0,
    fastRetransmits: 0,
    retransmissionTimeouts: 0,
    zeroWindowProbes: 0,
    keepaliveProbes: 0,
    resetsSent: 0,
    challengeAcks: 0,
    challengeAcksOverLimit: 0,
    ackSkippedSeq: 0,
    ackSkippedChallenge: 0,
    ackSkippedPaws: 0,
    ackSkippedTimeWait: 0,
    segmentsDropped: 0,
    outOfOrderOverflows: 0,
    outOfOrderPruned: 0,
    receiveBufferGrowths: 0,
    memoryPressureEntered: 0,
    memoryLimitDrops: 0,
    memoryLimitWrites: 0,
    sendBufferGrowths: 0,
    listenOverflows: 0,
    listenDrops: 0,
    syncookiesSent: 0,
    syncookiesRecv: 0,
    syncookiesFailed: 0,
    synAckTimeouts: 0,
    timeWaitTakeovers: 0,
    timeWaitReused: 0,
    timeWaitOverflows: 0,
    orphansReset: 0,
    orphansTimedOut: 0,
    outputErrors: 0,
    pawsDrops: 0,
    timestampMissingDrops: 0,
    dsacksSent: 0,
    sackRecoveries: 0,
    dsacksReceived: 0,
    spuriousUndos: 0,
    segmentsMarkedLost: 0,
    lossProbes: 0,
    lossProbeRecoveries: 0,
    sackReneging: 0,
    reorderingRaised: 0,
    reorderingCapped: 0,
    ecnNegotiated: 0,
    ecnCeReceived: 0,
    ecnEchoesReceived: 0,
    ecnReductions: 0,
    internalErrors: 0,
    icmpNoConnection: 0,
    icmpOutOfWindow: 0,
    ephemeralPortsExhausted: 0,
    dueListsDropped: 0,
    mtuProbes: 0,
    mtuProbeSuccesses: 0,
    mtuProbeFailures: 0,
    mtuBlackHoles: 0,
  };
}
