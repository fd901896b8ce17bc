// The process entry point and the only place that maps errors to exit codes.
import { installInterruptHandlers } from './interrupt.js';
import { CommanderError } from 'commander';
import { ConfigError, D2DError, ExitCode, StageError } from './errors.js';
import { log } from './log.js';
import { program } from './cli.js';

installInterruptHandlers();

async function main(): Promise<number> {
  try {
    await program.parseAsync(process.argv);
    return (program as unknown as { d2dExit?: number }).d2dExit ?? ExitCode.ok;
  } catch (e) {
    if (e instanceof CommanderError) {
      return e.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
    }
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
