/** The IP <-> transport contract: declared in src/seams.ts with every other seam. */
export type {
  DestinationKind,
  IpProtocolHandler,
  IpSendOptions,
  IpSendStatus,
  PayloadWriter,
  ReceivedDatagram,
  TransportErrorReport,
} from '../seams.js';
