/**
 * A link over UDP datagrams, one Ethernet frame per datagram: QEMU's `-netdev dgram` with inet addresses
 * (`local.*` and `remote.*`). tcpts binds `local` and sends to `remote`; datagrams from any other sender
 * are dropped (counted), so a stray packet cannot inject frames. Node only.
 */
import dgram from 'node:dgram';
import type { MacAddress } from '../../wire/address.js';
import { FramePort } from '../frame-port.js';

export interface DatagramDeviceOptions {
  name: string;
  mac: MacAddress;
  mtu?: number;
  local: { address: string; port: number };
  remote: { address: string; port: number };
}

export interface DatagramDevice {
  device: FramePort;
  /** Datagrams dropped because they came from another address than `remote`. */
  readonly foreignDatagrams: number;
}

/** Binds the local endpoint; rejects with the bind error (EADDRINUSE, EACCES ...). */
export function openDatagramDevice(options: DatagramDeviceOptions): Promise<DatagramDevice> {
  const socket = dgram.createSocket('udp4');
  const result = { foreignDatagrams: 0, device: undefined as unknown as FramePort };
  const device = new FramePort(
    options,
    (frame) => {
      socket.send(frame, options.remote.port, options.remote.address);
      return true;
    },
    () => socket.close(),
  );
  result.device = device;
  socket.on('message', (msg, rinfo) => {
    if (rinfo.port !== options.remote.port || rinfo.address !== options.remote.address) {
      result.foreignDatagrams++;
      return;
    }
    device.deliver(new Uint8Array(msg.buffer, msg.byteOffset, msg.length));
  });
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(options.local.port, options.local.address, () => {
      socket.off('error', reject);
      socket.on('error', () => {
        // ICMP errors on sends (the peer not up yet) surface here: the frame is lost, as on a wire.
      });
      resolve(result);
    });
  });
}
