/** Device contracts: declared in src/seams.ts with every other seam. */
export type {
  DeviceOffload,
  FrameTransmitOptions,
  NetworkDevice,
  ReceivedFrameInfo,
} from '../seams.js';
