#!/usr/bin/env node
// Thin launcher: the compiled entry point owns argument parsing and exit codes.
//
// Ctrl-C is handled from the first line: loading the entry point takes a moment, and a SIGINT
// in that moment would otherwise kill the process with no message and no exit code 130.
// Nothing has been written yet then. Once the entry point has its own handler
// (src/interrupt.ts), this one steps aside.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const early = (signal) => {
  if (process.listenerCount(signal) > 1) return;
  process.stderr.write(`\ninterrupted (${signal}) while starting; nothing was written\n`);
  process.exit(signal === 'SIGINT' ? 130 : 143);
};
process.on('SIGINT', early);
process.on('SIGTERM', early);

// A checkout that was never built (or an install that skipped the build) has no dist/: say so in
// one line instead of Node's ERR_MODULE_NOT_FOUND stack trace. Installs build it themselves
// (package.json "prepare"); the packed tarball carries it.
const root = fileURLToPath(new URL('..', import.meta.url)).replace(/\/$/, '');
const entry = fileURLToPath(new URL('../dist/src/main.js', import.meta.url));
const fail = (what, fix) => {
  process.stderr.write(`error: ${what} (${fix})\n`);
  process.exit(1);
};
if (!existsSync(entry)) fail(`debian2docker is not built: ${entry} is missing`, `run \`npm run build\` in ${root}`);
try {
  await import(pathToFileURL(entry).href);
} catch (e) {
  // A half-built dist/ or a dependency not installed; any other error is main.js's own, reported there.
  if (e?.code !== 'ERR_MODULE_NOT_FOUND') throw e;
  fail(`debian2docker cannot load: ${String(e.message).split('\n')[0]}`, `run \`npm install && npm run build\` in ${root}`);
}
