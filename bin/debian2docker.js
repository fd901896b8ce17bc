#!/usr/bin/env node
// Thin launcher: the compiled entry point owns argument parsing and exit codes.
//
// Ctrl-C is handled from the first line: loading the entry point takes a moment, and a SIGINT
// in that moment would otherwise kill the process with no message and no exit code 130.
// Nothing has been written yet then. Once the entry point has its own handler
// (src/interrupt.ts), this one steps aside.
const early = (signal) => {
  if (process.listenerCount(signal) > 1) return;
  process.stderr.write(`\ninterrupted (${signal}) while starting; nothing was written\n`);
  process.exit(signal === 'SIGINT' ? 130 : 143);
};
process.on('SIGINT', early);
process.on('SIGTERM', early);
await import('../dist/src/main.js');
