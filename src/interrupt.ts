// Ctrl-C handling: cleanups registered here run before the process exits with 130,
// so an interrupted build leaves nothing half-written at the output path.
import { stopAllChildren } from './tools/exec.js';

const handlers = new Set<() => void>();
let installed = false;

function fire(signal: NodeJS.Signals): void {
  stopAllChildren();
  for (const h of handlers) {
    try {
      h();
    } catch {
      /* best effort */
    }
  }
  process.stderr.write(`\ninterrupted (${signal}); nothing was written to the output folder\n`);
  process.exit(signal === 'SIGINT' ? 130 : 143);
}

export function onInterrupt(h: () => void): () => void {
  if (!installed) {
    process.on('SIGINT', fire);
    process.on('SIGTERM', fire);
    installed = true;
  }
  handlers.add(h);
  return () => handlers.delete(h);
}
