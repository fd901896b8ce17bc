// Typed errors. Every error a user can see is a D2DError with a stable code,
// a message that names the thing at fault, an optional hint, and an exit code.
// Only src/main.ts turns them into process exit codes.

export const ExitCode = {
  ok: 0,
  failure: 1, // a test failed, or an unexpected internal error
  usage: 2, // bad command line
  config: 3, // invalid configuration file
  missingTool: 4, // a host tool is missing
  stage: 5, // a build stage failed
  network: 6, // mirror unreachable
  interrupted: 130,
} as const;

export class D2DError extends Error {
  readonly code: string;
  readonly hint: string | undefined;
  readonly exitCode: number;
  constructor(code: string, message: string, opts: { hint?: string; exitCode?: number; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'D2DError';
    this.code = code;
    this.hint = opts.hint;
    this.exitCode = opts.exitCode ?? ExitCode.failure;
  }
}

export interface ConfigProblem {
  file: string;
  line: number | undefined;
  column: number | undefined;
  path: string; // dotted key path, e.g. "boot.timeout"
  message: string;
}

export class ConfigError extends D2DError {
  readonly problems: ConfigProblem[];
  constructor(problems: ConfigProblem[]) {
    super('E_CONFIG', problems.map(formatProblem).join('\n'), {
      exitCode: ExitCode.config,
      hint: 'Fix the configuration; `debian2docker schema` prints every allowed key.',
    });
    this.problems = problems;
  }
}

export function formatProblem(p: ConfigProblem): string {
  const where = p.line === undefined ? p.file : `${p.file}:${p.line}${p.column === undefined ? '' : `:${p.column}`}`;
  return `${where}: ${p.path === '' ? '(top level)' : p.path}: ${p.message}`;
}

export class MissingToolError extends D2DError {
  readonly tools: { tool: string; pkg: string }[];
  constructor(tool: string, pkg: string, more: { tool: string; pkg: string }[] = []) {
    const all = [{ tool, pkg }, ...more];
    const names = all.map((t) => `'${t.tool}' (package ${t.pkg})`).join(', ');
    super('E_MISSING_TOOL', `missing host tool${all.length > 1 ? 's' : ''}: ${names}`, {
      exitCode: ExitCode.missingTool,
      hint: `install with: apt-get install -y ${[...new Set(all.map((t) => t.pkg))].join(' ')}   (\`debian2docker doctor\` checks everything)`,
    });
    this.tools = all;
  }
}

export class StageError extends D2DError {
  readonly stage: string;
  readonly logPath: string | undefined;
  constructor(stage: string, message: string, opts: { logPath?: string; hint?: string; cause?: unknown; code?: string; exitCode?: number } = {}) {
    super(opts.code ?? 'E_STAGE', `stage '${stage}' failed: ${message}`, {
      exitCode: opts.exitCode ?? ExitCode.stage,
      hint: opts.hint,
      cause: opts.cause,
    });
    this.stage = stage;
    this.logPath = opts.logPath;
  }
}

export class CommandError extends D2DError {
  readonly argv: string[];
  readonly status: number | null;
  readonly tail: string;
  readonly logPath: string | undefined;
  constructor(argv: string[], status: number | null, signal: string | null, tail: string, logPath?: string) {
    const how = signal ? `was killed by ${signal}` : `exited with status ${status}`;
    super('E_COMMAND', `${argv[0]} ${how}`, { exitCode: ExitCode.stage });
    this.argv = argv;
    this.status = status;
    this.tail = tail;
    this.logPath = logPath;
  }
}

export class InterruptedError extends D2DError {
  constructor(signal: string) {
    // The status src/interrupt.ts exits with: 128 + the signal's number.
    super('E_INTERRUPTED', `interrupted by ${signal}`, { exitCode: signal === 'SIGTERM' ? 143 : ExitCode.interrupted });
  }
}
