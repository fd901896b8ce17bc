// The one place that runs external commands. Every call:
//  - logs its command line (to the stage log and, verbose, to the terminal),
//  - runs with stdin closed unless input is given, in a controlled environment,
//  - appends stdout+stderr to the stage's log file,
//  - on failure throws CommandError carrying the error-like lines of the output,
//  - turns ENOENT into MissingToolError naming the Debian package to install.
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { CommandError, MissingToolError } from '../errors.js';
import { packageFor } from './hosttools.js';

export interface RunOptions {
  cwd?: string;
  env?: Record<string, string | undefined>;
  /** Text written to stdin; stdin is closed otherwise. */
  input?: string | Buffer;
  /** Log file the output is appended to. */
  log?: string;
  /** Return stdout (also kept in the log). */
  capture?: boolean;
  /** Treat these exit statuses as success. */
  okStatus?: number[];
  /** Abort the command. */
  signal?: AbortSignal;
  /** Called with each whole line of the output (stdout and stderr), as it comes: for progress. */
  onLine?: (line: string) => void;
  /** Called with the child once it is started (progress reads its open files, src/tools/progress.ts). */
  onSpawn?: (child: ChildProcess) => void;
}

export interface RunResult {
  status: number;
  stdout: string;
}

const ERRORISH = /(^|\s)(E|W|FATAL):|\b(error|fail|failed|fatal|cannot|can't|unable|not found|no such|denied|unknown|invalid|refused)\b/i;

/** The last error-like lines of a command's output (or its last lines when none look like errors). */
export function tailOf(output: string, max = 12): string {
  const lines = output.split('\n').filter((l) => l.trim() !== '');
  const errorish = lines.filter((l) => ERRORISH.test(l));
  return (errorish.length > 0 ? errorish : lines).slice(-max).join('\n');
}

/** Quote an argv for logs and for users to copy. */
export function shellQuote(argv: readonly string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

let verbose = false;

/** Children still running, so an interrupted build can stop them (a terminal's Ctrl-C reaches
 * them anyway; `kill -INT` of our process alone does not). */
const running = new Set<ChildProcess>();
export function stopAllChildren(): void {
  for (const c of running) c.kill('SIGTERM');
}
export function setVerbose(v: boolean): void {
  verbose = v;
}

function openLog(path: string | undefined): WriteStream | undefined {
  return path === undefined ? undefined : createWriteStream(path, { flags: 'a' });
}

/** The user's PATH plus the sbin folders: a normal user's PATH on Debian lacks them, yet depmod,
 * modprobe and mkfs.fat live there and work without root. */
export function searchPath(): string {
  const dirs = (process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin').split(':');
  for (const d of ['/usr/sbin', '/sbin']) if (!dirs.includes(d)) dirs.push(d);
  return dirs.join(':');
}

export function baseEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  // A clean, predictable environment: the tools we run must not depend on the user's locale or shell setup.
  const env: NodeJS.ProcessEnv = {
    PATH: searchPath(),
    HOME: process.env.HOME ?? '/root',
    LC_ALL: 'C.UTF-8',
    TZ: 'UTC',
  };
  for (const k of ['TMPDIR', 'SOURCE_DATE_EPOCH', 'http_proxy', 'https_proxy', 'no_proxy']) {
    if (process.env[k] !== undefined) env[k] = process.env[k];
  }
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

export async function run(argv: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const [cmd, ...args] = argv;
  if (cmd === undefined) throw new Error('run: empty argv');
  const log = openLog(opts.log);
  log?.write(`\n$ ${shellQuote(argv)}\n`);
  if (verbose) process.stderr.write(`  $ ${shellQuote(argv)}\n`);
  const stdio: StdioOptions = [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'];
  let child: ChildProcess;
  try {
    child = spawn(cmd, args, { cwd: opts.cwd, env: baseEnv(opts.env), stdio, signal: opts.signal });
  } catch (e) {
    log?.end();
    throw e;
  }
  running.add(child);
  child.on('exit', () => running.delete(child));
  opts.onSpawn?.(child);
  const out: Buffer[] = [];
  let combined = '';
  let partial = '';
  const keep = (b: Buffer): void => {
    log?.write(b);
    const text = b.toString('utf8');
    // Keep a bounded window of the combined output for the error tail.
    combined = (combined + text).slice(-64 * 1024);
    if (opts.onLine) {
      const lines = (partial + text).split('\n');
      partial = lines.pop()!.slice(-4096);
      for (const l of lines) opts.onLine(l);
    }
  };
  child.stdout?.on('data', (b: Buffer) => {
    if (opts.capture) out.push(b);
    keep(b);
  });
  child.stderr?.on('data', keep);
  if (opts.input !== undefined) child.stdin?.end(opts.input);
  return await new Promise<RunResult>((resolve, reject) => {
    child.on('error', (err: NodeJS.ErrnoException) => {
      log?.end();
      if (err.code === 'ENOENT') reject(new MissingToolError(cmd, packageFor(cmd) ?? '(unknown package)'));
      else reject(err);
    });
    child.on('close', (status, sig) => {
      log?.end();
      const ok = status === 0 || (status !== null && (opts.okStatus ?? []).includes(status));
      if (ok) resolve({ status: status ?? 0, stdout: Buffer.concat(out).toString('utf8') });
      else reject(new CommandError([...argv], status, sig, tailOf(combined), opts.log));
    });
  });
}

/** Start a long-running process (QEMU, the build container) with pipes or the terminal; the caller owns its lifetime. */
export function start(argv: readonly string[], opts: { cwd?: string; interactive?: boolean; log?: string; env?: Record<string, string | undefined> } = {}): ChildProcess {
  const [cmd, ...args] = argv;
  if (cmd === undefined) throw new Error('start: empty argv');
  if (opts.log !== undefined) {
    const log = openLog(opts.log);
    log?.end(`\n$ ${shellQuote(argv)}\n`);
  }
  if (verbose) process.stderr.write(`  $ ${shellQuote(argv)}\n`);
  const child = spawn(cmd, args, {
    cwd: opts.cwd,
    env: baseEnv(opts.env),
    stdio: opts.interactive ? 'inherit' : ['pipe', 'pipe', 'pipe'],
  });
  return child;
}

/** Whether a command exists on PATH (no process is started). */
export async function which(cmd: string): Promise<string | undefined> {
  const { access, constants } = await import('node:fs/promises');
  const dirs = searchPath().split(':').filter((d) => d !== '');
  for (const d of dirs) {
    const p = `${d}/${cmd}`;
    try {
      await access(p, constants.X_OK);
      return p;
    } catch {
      /* keep looking */
    }
  }
  return undefined;
}
