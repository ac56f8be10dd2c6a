/**
 * One palette for every picture, so a SYN is the same green in the terminal, the SVG ladder and the HTML
 * table, and a TCP state has one color in every timeline.
 */
import type { TcpStateName } from '../trace/events.js';
import type { PacketKind } from './packet-label.js';
import type { TextStyle } from './text-canvas.js';

export const TERMINAL_PACKET_STYLE: Record<PacketKind, TextStyle | undefined> = {
  syn: 'green',
  fin: 'magenta',
  rst: 'red',
  data: 'cyan',
  ack: undefined,
  udp: 'blue',
  icmp: 'yellow',
  arp: 'gray',
  other: 'gray',
};

export const SVG_PACKET_COLOR: Record<PacketKind, string> = {
  syn: '#1a7f37',
  fin: '#8250df',
  rst: '#cf222e',
  data: '#0969da',
  ack: '#57606a',
  udp: '#1f6feb',
  icmp: '#9a6700',
  arp: '#8c959f',
  other: '#8c959f',
};

export const RETRANSMISSION_COLOR = '#d4a72c';
export const DROP_COLOR = '#cf222e';

export const STATE_COLOR: Record<TcpStateName, string> = {
  CLOSED: '#d0d7de',
  LISTEN: '#b6e3ff',
  'SYN-SENT': '#fff8c5',
  'SYN-RECEIVED': '#ffdf5d',
  ESTABLISHED: '#4ac26b',
  'FIN-WAIT-1': '#fbafa0',
  'FIN-WAIT-2': '#f08060',
  'CLOSE-WAIT': '#c297ff',
  CLOSING: '#ff8182',
  'LAST-ACK': '#a475f9',
  'TIME-WAIT': '#8c959f',
};
