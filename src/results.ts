// The documents `build --json` and `test --json` print on stdout, and the error document any
// command run with --json prints when it fails. Pure functions of what the commands already
// have (the build's manifest, the test's report, the error), so their shapes are unit-tested
// without building or booting anything. Every field is documented in README ("Machine-readable
// output"); adding a field is fine, renaming or removing one breaks scripts that read it.
import { dirname, join } from 'node:path';
import { CommanderError } from 'commander';
import { ConfigError, D2DError, ExitCode, type ConfigProblem } from './errors.js';
import type { Manifest } from './stages/manifest.js';
import type { TestReport } from './commands/test.js';

export interface ArtifactResult {
  /** Where the file is (absolute when the manifest path is). */
  path: string;
  bytes: number;
  sha256: string;
}

export interface BuildResult {
  ok: true;
  name: string;
  version: string;
  /** NAME.manifest.json: everything else about the build (packages, kernel, modules, timings). */
  manifest: string;
  sourceDateEpoch: number;
  kernel: string;
  /** iso, kernel, initrd, and images when the config preloads images. */
  artifacts: Record<string, ArtifactResult>;
  /** The build's wall time (the manifest's stages.total), when recorded. */
  seconds: number | null;
}

/** The build's JSON document, from its manifest: artifact file names are relative to the manifest's folder. */
export function buildResult(manifest: Manifest, manifestPath: string): BuildResult {
  const dir = dirname(manifestPath);
  const artifacts: Record<string, ArtifactResult> = {};
  for (const [kind, a] of Object.entries(manifest.artifacts)) artifacts[kind] = { path: join(dir, a.file), bytes: a.bytes, sha256: a.sha256 };
  return {
    ok: true,
    name: manifest.name,
    version: manifest.tool.version,
    manifest: manifestPath,
    sourceDateEpoch: manifest.sourceDateEpoch,
    kernel: manifest.kernel.version,
    artifacts,
    seconds: manifest.stages.total ?? null,
  };
}

export interface CheckResultDoc {
  name: string;
  ok: boolean;
  detail: string;
  /** How long the check took; null for a result that is not a timed step (a crash found after the fact). */
  seconds: number | null;
}

export interface TestResult {
  ok: boolean;
  image: string;
  accel: string;
  /** Seconds from power-on until Docker answered; null when it never did. */
  readySeconds: number | null;
  passed: number;
  total: number;
  checks: CheckResultDoc[];
}

export function testResult(image: string, r: TestReport): TestResult {
  return {
    ok: r.ok,
    image,
    accel: r.accel,
    readySeconds: r.readySeconds ?? null,
    passed: r.results.filter((x) => x.ok).length,
    total: r.results.length,
    checks: r.results.map((x) => ({ name: x.name, ok: x.ok, detail: x.detail, seconds: x.seconds ?? null })),
  };
}

export interface ErrorResult {
  error: {
    /** Stable: E_CONFIG, E_MISSING_TOOL, E_STAGE, E_USAGE, E_INTERNAL, ... */
    code: string;
    message: string;
    hint: string | null;
    /** The process's exit status (README, "Exit codes"). */
    exitCode: number;
    /** The failed stage's log file, when there is one. */
    log?: string;
    /** Each configuration problem, with its file and line, for an invalid configuration. */
    problems?: ConfigProblem[];
  };
}

/** The error document; main.ts prints it on stdout (and the human message on stderr) when --json was given. */
export function errorResult(e: unknown): ErrorResult {
  if (e instanceof CommanderError) {
    // Commander's messages start with "error: "; its codes are commander.*: one code for all usage errors.
    return { error: { code: 'E_USAGE', message: e.message.replace(/^error:\s*/, ''), hint: '`debian2docker COMMAND --help` lists the options of a command', exitCode: ExitCode.usage } };
  }
  if (e instanceof D2DError) {
    // StageError and CommandError carry the log of the step that failed.
    const log = (e as { logPath?: string }).logPath;
    return {
      error: {
        code: e.code,
        message: e.message,
        hint: e.hint ?? null,
        exitCode: e.exitCode,
        ...(log !== undefined ? { log } : {}),
        ...(e instanceof ConfigError ? { problems: e.problems } : {}),
      },
    };
  }
  return { error: { code: 'E_INTERNAL', message: (e as Error)?.message ?? String(e), hint: 'this is a bug in debian2docker: please report it with the command line', exitCode: ExitCode.failure } };
}

/** Whether the command line asks for JSON: a --json before any `--` (main.ts decides this before commander parses, so usage errors are covered too). */
export function wantsJson(args: readonly string[]): boolean {
  const end = args.indexOf('--');
  return (end === -1 ? args : args.slice(0, end)).includes('--json');
}
