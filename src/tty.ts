// Questions on the user's terminal: a typed confirmation, a hidden passphrase.
// Only for commands that change a disk; never asked when stdin is not a terminal.
import { D2DError, ExitCode } from './errors.js';

function needTty(what: string, flag: string): void {
  if (!process.stdin.isTTY) throw new D2DError('E_NO_TTY', `${what} needs a terminal to ask on`, { exitCode: ExitCode.usage, hint: `run it in a terminal, or give ${flag}` });
}

/** Read one line from the terminal; without echo when `hidden`. */
export function askLine(prompt: string, hidden = false): Promise<string> {
  process.stderr.write(prompt);
  const stdin = process.stdin;
  return new Promise((resolve, reject) => {
    let line = '';
    stdin.setRawMode(true);
    stdin.resume();
    const done = (err?: Error): void => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      process.stderr.write('\n');
      if (err) reject(err);
      else resolve(line);
    };
    const onData = (b: Buffer): void => {
      for (const ch of b.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return done();
        if (ch === '\u0003') return done(new D2DError('E_INTERRUPTED', 'interrupted', { exitCode: ExitCode.interrupted }));
        if (ch === '\u007f' || ch === '\b') {
          if (line.length > 0) {
            line = line.slice(0, -1);
            if (!hidden) process.stderr.write('\b \b');
          }
          continue;
        }
        line += ch;
        if (!hidden) process.stderr.write(ch);
      }
    };
    stdin.on('data', onData);
  });
}

/** The user must type `word` to go on (unless --yes was given). */
export async function confirmTyped(word: string, what: string, flag = '--yes'): Promise<void> {
  needTty(what, flag);
  const a = await askLine(`This will ${what}.\nType ${word} to go on: `);
  if (a !== word) throw new D2DError('E_NOT_CONFIRMED', 'not confirmed; nothing was changed', { exitCode: ExitCode.usage });
}

/** A new passphrase, typed twice; `check` says why one is too weak (empty: fine). */
export async function newPassphrase(check: (p: string) => Promise<string>, flag: string): Promise<string> {
  needTty('a new passphrase', flag);
  for (let i = 0; i < 3; i++) {
    const p = await askLine('New passphrase: ', true);
    const why = await check(p);
    if (why) {
      process.stderr.write(`Too weak: ${why}.\n`);
      continue;
    }
    if ((await askLine('Again: ', true)) !== p) {
      process.stderr.write('The two passphrases differ.\n');
      continue;
    }
    return p;
  }
  throw new D2DError('E_NO_PASSPHRASE', 'no passphrase set', { exitCode: ExitCode.usage });
}
