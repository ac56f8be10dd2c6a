/** Device contracts: declared in src/seams.ts with every other seam. */
export type {
  DeviceOffload,
  FrameDisposition,
  FrameReceiver,
  FrameTransmitOptions,
  NetworkDevice,
  ReceivedFrameInfo,
} from '../seams.js';
export { FRAME_HELD, FRAME_RELEASED, giveBackFrame, lendFrameMemory } from '../seams.js';
