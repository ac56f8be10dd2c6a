import type { NetworkDevice } from '../link/device.js';
import type { Clock } from '../time/clock.js';

/** Largest datagram the loopback interface carries (as Linux `lo`): no local datagram is ever fragmented. */
export const LOOPBACK_MTU = 65535;

/**
 * The stack's `lo`: frames sent to it come back to the stack itself, through the clock so a send never
 * re-enters the receive path of the same stack inside one call. It cannot corrupt, so transport checksums
 * are offloaded, as on Linux loopback.
 */
export class LoopbackDevice implements NetworkDevice {
  readonly name = 'lo';
  readonly mtu = LOOPBACK_MTU;
  readonly mac = 0;
  readonly checksumOffload = true;
  private receiver: ((frame: Uint8Array) => void) | undefined;
  private closed = false;

  constructor(private readonly clock: Clock) {}

  send(frame: Uint8Array): void {
    if (this.closed) return;
    this.clock.setTimer(0, () => {
      if (!this.closed) this.receiver?.(frame);
    });
  }

  setReceiver(receiver: (frame: Uint8Array) => void): void {
    this.receiver = receiver;
  }

  close(): void {
    this.closed = true;
    this.receiver = undefined;
  }
}
