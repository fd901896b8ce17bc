// The programmatic API: `import { build, testImageReport } from 'debian2docker'` (package.json
// "exports"). The CLI, bench/ and scripts call the same functions; nothing here exits the process
// or writes to stdout, and failures are thrown as the typed errors below (each with a code, a
// hint and the exit status the CLI would use). Progress lines go to stderr, as in the CLI.
// Only what is exported here is public: the package's other files may change between versions.
export { build, planFor, sourceDateEpoch, type BuildOptions } from './commands/build.js';
export { aptCacheDir, stageCacheDir } from './paths.js';
export { buildInDocker, type InDockerOptions } from './commands/indocker.js';
export { testImageReport, verdictLine, type TestOptions, type TestReport } from './commands/test.js';
export { doctor } from './commands/doctor.js';
export { loadConfig, loadConfigText, type LoadedConfig } from './config/load.js';
export { jsonSchema, type Config } from './config/schema.js';
export { buildResult, testResult, errorResult, type BuildResult, type TestResult, type ErrorResult, type ArtifactResult, type CheckResultDoc } from './results.js';
export { D2DError, ConfigError, MissingToolError, StageError, CommandError, InterruptedError, ExitCode, type ConfigProblem } from './errors.js';
export type { BuildPlan } from './plan/plan.js';
export type { Manifest } from './stages/manifest.js';
export type { CheckResult } from './vm/checks.js';
export { VERSION } from './version.js';

import { loadConfig } from './config/load.js';

/** Check a configuration file without building: returns its normalised config, throws ConfigError (with every problem) if it is invalid. */
export function validate(file: string): ReturnType<typeof loadConfig>['config'] {
  return loadConfig(file).config;
}
