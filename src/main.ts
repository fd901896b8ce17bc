// The process entry point and the only place that maps errors to exit codes.
import { installInterruptHandlers, onInterrupt } from './interrupt.js';
import { CommanderError } from 'commander';
import { ConfigError, D2DError, ExitCode, InterruptedError, StageError } from './errors.js';
import { log } from './log.js';
import { exitOf, program } from './cli.js';
import { errorResult, wantsJson } from './results.js';

// The one place the process exits early: an interrupt, after its cleanups (src/interrupt.ts).
installInterruptHandlers((code) => process.exit(code));

// With --json a failure prints the human message on stderr as always, AND one error document on
// stdout, so that `debian2docker build --json | jq` reads a document either way (README,
// "Machine-readable output"). Decided from the raw arguments, so a usage error commander finds
// before any action runs is covered too.
const json = wantsJson(process.argv.slice(2));
const printError = (e: unknown): void => {
  if (json) process.stdout.write(JSON.stringify(errorResult(e), null, 2) + '\n');
};
// An interrupt exits from src/interrupt.ts without coming back here: it gets its document there.
if (json) onInterrupt((signal) => printError(new InterruptedError(signal ?? 'SIGINT')));

async function main(): Promise<number> {
  try {
    await program.parseAsync(process.argv);
    return exitOf(program) ?? ExitCode.ok;
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version end here too, with status 0: not errors.
      if (e.exitCode === 0) return ExitCode.ok;
      printError(e);
      return ExitCode.usage;
    }
    printError(e);
    if (e instanceof ConfigError) {
      log.error('invalid configuration');
      for (const line of e.message.split('\n')) process.stderr.write(`  ${line}\n`);
      if (e.hint) log.hint(e.hint);
      return e.exitCode;
    }
    if (e instanceof D2DError) {
      log.error(e.message);
      if (e instanceof StageError && e.logPath) log.info(`log: ${e.logPath}`);
      if (e.hint) log.hint(e.hint);
      return e.exitCode;
    }
    log.error(`internal error: ${(e as Error)?.stack ?? String(e)}`);
    return ExitCode.failure;
  }
}

process.exitCode = await main();
