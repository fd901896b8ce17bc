// Terminal output: one formatter per kind of event, to stderr so stdout stays
// machine-readable (plan, schema, manifest).
const isTTY = process.stderr.isTTY;
const c = (code: string, s: string): string => (isTTY ? `\x1b[${code}m${s}\x1b[0m` : s);

export const log = {
  stageStart(name: string): void {
    process.stderr.write(`${c('1;34', '==>')} ${name}\n`);
  },
  stageDone(name: string, seconds: number): void {
    process.stderr.write(`    ${name} done in ${seconds.toFixed(1)} s\n`);
  },
  skip(name: string, why: string): void {
    process.stderr.write(`${c('2', '--')} ${name}: skipped (${why})\n`);
  },
  info(msg: string): void {
    process.stderr.write(`    ${msg}\n`);
  },
  warn(msg: string): void {
    process.stderr.write(`${c('33', 'warning:')} ${msg}\n`);
  },
  error(msg: string): void {
    process.stderr.write(`${c('1;31', 'error:')} ${msg}\n`);
  },
  hint(msg: string): void {
    process.stderr.write(`${c('36', 'hint:')} ${msg}\n`);
  },
  ok(msg: string): void {
    process.stderr.write(`${c('32', 'ok')} ${msg}\n`);
  },
};
