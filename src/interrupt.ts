// Ctrl-C handling: cleanups registered here run before the process exits with 130,
// so an interrupted build leaves nothing half-written at the output path. The signal
// handlers are the command line's (main.ts installs them and gives the way to exit):
// a program that imports the API keeps its own signals, and registering a cleanup
// never takes them over.
import { stopAllChildren } from './exec/run.js';

const handlers = new Set<(signal?: NodeJS.Signals) => void>();
let exitWith: ((code: number) => void) | undefined;

function fire(signal: NodeJS.Signals): void {
  stopAllChildren();
  for (const h of handlers) {
    try {
      h(signal);
    } catch {
      /* best effort */
    }
  }
  process.stderr.write(`\ninterrupted (${signal}); nothing was written to the output folder\n`);
  exitWith?.(signal === 'SIGINT' ? 130 : 143);
}

/**
 * Take over Ctrl-C (and SIGTERM) for the whole process: main.ts calls this before anything else runs, so an
 * interrupt at any moment of any command exits 130 with a message (bin/debian2docker.js covers the moment
 * before, while the entry point loads).
 */
export function installInterruptHandlers(exit: (code: number) => void): void {
  if (exitWith) return;
  exitWith = exit;
  process.on('SIGINT', fire);
  process.on('SIGTERM', fire);
}

/** Run `h` on an interrupt (when the command line handles them); returns what unregisters it. */
export function onInterrupt(h: (signal?: NodeJS.Signals) => void): () => void {
  handlers.add(h);
  return () => handlers.delete(h);
}
