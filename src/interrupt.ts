// Ctrl-C handling: cleanups registered here run before the process exits with 130,
// so an interrupted build leaves nothing half-written at the output path.
import { stopAllChildren } from './tools/exec.js';

const handlers = new Set<(signal?: NodeJS.Signals) => void>();
let installed = false;

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
  process.exit(signal === 'SIGINT' ? 130 : 143);
}

/**
 * Take over Ctrl-C (and SIGTERM) for the whole process: main.ts calls this before anything else runs, so an
 * interrupt at any moment of any command exits 130 with a message (bin/debian2docker.js covers the moment
 * before, while the entry point loads).
 */
export function installInterruptHandlers(): void {
  if (installed) return;
  process.on('SIGINT', fire);
  process.on('SIGTERM', fire);
  installed = true;
}

export function onInterrupt(h: (signal?: NodeJS.Signals) => void): () => void {
  installInterruptHandlers();
  handlers.add(h);
  return () => handlers.delete(h);
}
