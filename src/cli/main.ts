#!/usr/bin/env node
/**
 * The `tcpts` program (the package's bin; `npm start` runs `tcpts demo` from the sources). Everything it
 * does is in run-cli.ts, which tests call in-process.
 */
import type { OutputStream } from './command-line.js';
import { describeError } from './command-line.js';
import { runCli } from './run-cli.js';

/**
 * A process stream that goes quiet once its reader has gone (`tcpts demo | head`): the command carries
 * on, and still writes its files, instead of dying of EPIPE.
 */
function quietWhenClosed(stream: NodeJS.WriteStream): OutputStream {
  let closed = false;
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE' || error.code === 'ERR_STREAM_DESTROYED') closed = true;
    else throw error;
  });
  return {
    get isTTY() {
      return stream.isTTY === true;
    },
    get columns() {
      return stream.columns;
    },
    write(text: string) {
      if (!closed) stream.write(text);
      return true;
    },
  };
}

runCli(process.argv.slice(2), {
  stdout: quietWhenClosed(process.stdout),
  stderr: quietWhenClosed(process.stderr),
  env: process.env,
  cwd: process.cwd(),
}).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`tcpts: ${describeError(error)}\n`);
    process.exitCode = 1;
  },
);
