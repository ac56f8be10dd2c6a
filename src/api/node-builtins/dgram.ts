/**
 * A stand-in for Node's built-in `dgram`, bound to the configured stack (configured-stack.ts); see net.ts.
 */
import { configuredDgram } from './configured-stack.js';

const dgram = configuredDgram();

export default dgram;
export const { Socket, createSocket, _createSocketHandle } = dgram;
