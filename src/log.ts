// Terminal output: one formatter per kind of event, to stderr so stdout stays
// machine-readable (plan, schema, manifest).
const isTTY = process.stderr.isTTY;
const c = (code: string, s: string): string => (isTTY ? `\x1b[${code}m${s}\x1b[0m` : s);

// A progress line on a terminal is rewritten in place; the next other line first clears it.
let live = false;
let lastPlain = 0;
/** In a log (not a terminal), at most one progress line this often; a step's first and last always show. */
const PLAIN_PROGRESS_MS = 14000;
const out = (s: string): void => {
  if (live) {
    process.stderr.write('\r\x1b[K');
    live = false;
  }
  process.stderr.write(s);
};

export const log = {
  /**
   * How far a long step is ("pack: 41% of 277 MiB compressed"). On a terminal a live line; in a log
   * at most one line every PLAIN_PROGRESS_MS. A `final` line ("... in 93 s") always stays.
   */
  progress(msg: string, final = false): void {
    if (isTTY && !final) {
      out(`\r\x1b[K    ${msg}`);
      live = true;
      return;
    }
    const now = Date.now();
    if (!final && now - lastPlain < PLAIN_PROGRESS_MS) return;
    // After a step's last line, the next step's first line is never held back.
    lastPlain = final ? 0 : now;
    out(`    ${msg}\n`);
  },
  stageStart(name: string): void {
    out(`${c('1;34', '==>')} ${name}\n`);
  },
  stageDone(name: string, seconds: number): void {
    out(`    ${name} done in ${seconds.toFixed(1)} s\n`);
  },
  skip(name: string, why: string): void {
    out(`${c('2', '--')} ${name}: skipped (${why})\n`);
  },
  info(msg: string): void {
    out(`    ${msg}\n`);
  },
  warn(msg: string): void {
    out(`${c('33', 'warning:')} ${msg}\n`);
  },
  error(msg: string): void {
    out(`${c('1;31', 'error:')} ${msg}\n`);
  },
  hint(msg: string): void {
    out(`${c('36', 'hint:')} ${msg}\n`);
  },
  ok(msg: string): void {
    out(`${c('32', 'ok')} ${msg}\n`);
  },
};
