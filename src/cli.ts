// Command-line flags only: each command is a thin adapter over the API.
import { readFileSync } from 'node:fs';
import { writeAppConfig } from './commands/app.js';
import { Command, InvalidArgumentError, Option } from 'commander';
import { build, planFor } from './commands/build.js';
import { doctor } from './commands/doctor.js';
import { cacheReport, cleanCaches, formatCacheReport, formatCleanResult } from './commands/cache.js';
import { buildInDocker } from './commands/indocker.js';
import { runVm } from './commands/run.js';
import { parsePublish } from './vm/publish.js';
import { testImageReport, verdictLine } from './commands/test.js';
import { install } from './commands/install.js';
import { DEFAULT_DISK_SIZE, FORMATS, outputChoice } from './plan/formats.js';
import { loadConfig } from './config/load.js';
import { jsonSchema } from './config/schema.js';
import { D2DError } from './errors.js';
import { buildResult, testResult } from './results.js';
import type { Manifest } from './stages/manifest.js';
import { setVerbose } from './exec/run.js';
import { VERSION } from './version.js';
import { log } from './log.js';
import { redactSecrets } from './plan/wifi.js';
import { serve } from './commands/serve.js';

/**
 * What `build` and `test` call, and where results go: the real API and stdout, or recording fakes in
 * the unit tests (test/unit/cli.test.ts), which check the flags and the JSON documents without building
 * or booting anything.
 */
export interface CliApi {
  build: typeof build;
  buildInDocker: typeof buildInDocker;
  testImageReport: typeof testImageReport;
  /** Results (JSON documents, reports): stdout. Progress and errors go to stderr (src/log.ts), never here. */
  out: (text: string) => void;
}

const REAL_API: CliApi = { build, buildInDocker, testImageReport, out: (text) => process.stdout.write(text) };

/** The exit status each program's action chose without throwing. */
const chosenExit = new WeakMap<Command, number>();

/** The exit status an action chose without throwing (main.ts reads it). */
export function exitOf(program: Command): number | undefined {
  return chosenExit.get(program);
}

export function makeProgram(api: CliApi = REAL_API): Command {
  const program = new Command();
  const setExit = (code: number): void => {
    chosenExit.set(program, code);
  };
  const json = (doc: unknown): void => api.out(JSON.stringify(doc, null, 2) + '\n');

  // Before any command is added, so that every subcommand inherits it: main.ts maps usage errors to exit 2.
  program.exitOverride();

  program
    .name('debian2docker')
    .description('Build a small Debian-based bootable image that runs Docker as the OS')
    .version(VERSION)
    .option('-v, --verbose', 'print every command that is run')
    .hook('preAction', () => setVerbose(Boolean(program.opts().verbose)));

  program
    .command('build')
    .description('build NAME.iso, NAME.kernel, NAME.initrd and NAME.manifest.json (the embedded default when no config is given)')
    .argument('[config]', 'YAML configuration file')
    .option('-o, --output <dir>', 'output folder', 'out')
    .option('--no-cache', 'build everything anew: no cached root file system, no downloaded packages from earlier builds (a compiled kernel is still taken from the kernel cache: --rebuild-kernel)')
    .option('--rebuild-kernel', 'kernel.build: compile the kernel anew even if the kernel cache has it')
    .option('--keep-work', 'keep the work folder (root filesystem archive, logs) after a successful build')
    .option('--in-docker', 'run the build inside a Docker container (the host needs only docker; see docs/in-docker.md)')
    .option('--rebuild-builder', 'with --in-docker: make the builder image afresh even if one with the same inputs exists')
    .option('--app <image>', 'make the machine boot straight into this one container app, locked (a tag from images:, a registry reference, or a docker save tarball)')
    .option('--app-text', 'with --app: a text app, on its VT with a terminal instead of a display server')
    .option('--app-network', 'with --app: give the app the network (default: none)')
    .option('--format <list>', `what to write, separated by commas: ${FORMATS.join(', ')} (raw and qcow2: a disk image that boots with BIOS and UEFI, see docs/disk-images.md)`, 'iso')
    .option('--disk-size <size>', `with --format raw or qcow2: the disk image's size, e.g. 8G (default ${DEFAULT_DISK_SIZE})`)
    .option('--json', 'when done, print one JSON document on stdout: the artifacts with their paths, sizes and sha256 (progress stays on stderr)')
    .action(async (config: string | undefined, o: { output: string; cache: boolean; keepWork?: boolean; inDocker?: boolean; rebuildBuilder?: boolean; rebuildKernel?: boolean; app?: string; appText?: boolean; appNetwork?: boolean; format: string; diskSize?: string; json?: boolean }, cmd: Command) => {
      const outputs = outputChoice(o.format, o.diskSize);
      if (o.inDocker && outputs.diskBytes !== null) {
        cmd.error(`error: --format ${o.format} does not work with --in-docker yet (the disk image is installed in a QEMU VM): build the ISO with --in-docker, then run \`debian2docker install NAME.iso --disk NAME.raw --size ${o.diskSize ?? DEFAULT_DISK_SIZE}\` on this host`, { exitCode: 2 });
      }
      if (o.rebuildBuilder && !o.inDocker) cmd.error('error: --rebuild-builder only applies with --in-docker', { exitCode: 2 });
      if ((o.appText || o.appNetwork) && !o.app) cmd.error('error: --app-text and --app-network only apply with --app', { exitCode: 2 });
      if (o.app && o.inDocker) cmd.error('error: --app does not work with --in-docker yet: build natively, or put the session in the config (docs/desktop.md)', { exitCode: 2 });
      if (o.app) config = writeAppConfig(config, { image: o.app, text: o.appText, network: o.appNetwork });
      let manifestPath: string;
      if (o.inDocker) {
        const code = await api.buildInDocker({ config, outDir: o.output, noCache: !o.cache, keepWork: o.keepWork, rebuildBuilder: o.rebuildBuilder, rebuildKernel: o.rebuildKernel, verbose: Boolean(program.opts().verbose) });
        if (!o.json || code !== 0) {
          // The build in the container said why on stderr; with --json, main.ts adds the error document.
          if (o.json) throw new D2DError('E_IN_DOCKER', `the build in the container failed with exit status ${code} (its messages are above)`, { exitCode: code });
          setExit(code);
          return;
        }
        // The container wrote the artifacts at the same paths as here: the host's plan names the manifest.
        manifestPath = planFor({ config, outDir: o.output }).plan.artifacts.manifest;
      } else {
        manifestPath = (await api.build({ config, outDir: o.output, noCache: !o.cache, keepWork: o.keepWork, rebuildKernel: o.rebuildKernel, outputs })).manifestPath;
      }
      if (o.json) json(buildResult(JSON.parse(readFileSync(manifestPath, 'utf8')) as Manifest, manifestPath));
    });

  program
    .command('plan')
    .description('print what a build would do (the build plan, as JSON) without running anything')
    .argument('[config]', 'YAML configuration file')
    .option('-o, --output <dir>', 'output folder', 'out')
    .action((config: string | undefined, o: { output: string }) => {
      json(redactSecrets(planFor({ config, outDir: o.output }).plan));
    });

  program
    .command('validate')
    .description('check a configuration file without building')
    .argument('<config>', 'YAML configuration file')
    .action((config: string) => {
      loadConfig(config);
      log.ok(`${config} is valid`);
    });

  program
    .command('schema')
    .description('print the JSON Schema of the configuration file')
    .action(() => {
      json(jsonSchema());
    });

  program
    .command('doctor')
    .description('check the host tools a build and the VM harness need, and whether KVM works')
    .option('--image <file>', 'an image (NAME.iso or NAME.kernel) whose kernel the KVM probe boots')
    .action(async (o: { image?: string }) => {
      const r = await doctor(o.image);
      api.out(r.report + '\n');
      setExit(r.ok ? 0 : 4);
    });

  program
    .command('serve')
    .description("network boot for a fleet: serve a build's kernel and initrds over HTTP, with an iPXE script per machine (docs/fleet.md)")
    .argument('<build>', "the build's NAME.manifest.json, or its output folder")
    .option('--listen <[host:]port>', 'where to listen; 0.0.0.0:8080 for other machines', '127.0.0.1:8080')
    .option('--machines <dir>', "per-machine settings: one YAML file per machine, named by its MAC address (52-54-00-12-34-56.yaml)")
    .option('--tftp <dir>', 'write the chain script boot.ipxe there, for a TFTP server (the file machines boot first)')
    .option('--url <url>', 'serve\'s address as the machines reach it, e.g. http://192.168.1.2:8080 (default: what each request names)')
    .option('--cmdline <words>', "more kernel command line for every machine, after the build's")
    .action(async (build: string, o: { listen: string; machines?: string; tftp?: string; url?: string; cmdline?: string }) => {
      const s = await serve(build, o);
      log.ok(`serving ${build} on ${s.url}${o.tftp ? ` (chain script: ${o.tftp}/boot.ipxe)` : ''}; Ctrl-C stops`);
      await new Promise<void>((resolve) => {
        const stop = (): void => void s.close().then(resolve);
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });

  const cache = program.command('cache').description('what the package, stage and kernel caches hold; clean them');
  cache
    .command('info', { isDefault: true })
    .description('where the caches are, their sizes, and the root stages and compiled kernels kept')
    .option('--json', 'the same as JSON')
    .action((o: { json?: boolean }) => {
      const r = cacheReport();
      api.out((o.json ? JSON.stringify(r, null, 2) : formatCacheReport(r)) + '\n');
    });
  cache
    .command('clean')
    .description('remove cached packages, root stages and compiled kernels (all three unless some are named); the next build downloads, builds and compiles again')
    .option('--packages', 'the package cache')
    .option('--stages', 'the stage cache')
    .option('--kernels', 'the kernel cache (the next build compiles its kernel: minutes)')
    .option('--older-than <days>', 'only what no build has used for this many days', (v: string) => {
      if (!/^\d+(\.\d+)?$/.test(v)) throw new InvalidArgumentError('a number of days, e.g. 30');
      return Number(v);
    })
    .action((o: { packages?: boolean; stages?: boolean; kernels?: boolean; olderThan?: number }) => {
      const all = !o.packages && !o.stages && !o.kernels;
      const opts = { packages: all || Boolean(o.packages), stages: all || Boolean(o.stages), kernels: all || Boolean(o.kernels), olderThanDays: o.olderThan };
      api.out(formatCleanResult(cleanCaches(opts), opts) + '\n');
    });

  const vmOptions = (c: Command): Command =>
    c
      .option('-m, --memory <MiB>', 'guest memory in MiB', '1024')
      .option('--cpus <n>', 'guest CPUs', '2')
      .addOption(new Option('--firmware <kind>', "BIOS, UEFI (OVMF), or UEFI enforcing Secure Boot with Microsoft's keys").choices(['bios', 'uefi', 'secure-boot']).default('bios'))
      .addOption(new Option('--boot-from <medium>', 'attach the image as').choices(['cdrom', 'usb', 'disk']).default('cdrom'))
      .option('--disk <file...>', 'extra disk image(s) to attach (virtio)')
      .option('--accel <accel>', 'kvm, tcg or auto (probe KVM, fall back to TCG)', 'auto')
      .addOption(new Option('--tcg-threads <mode>', 'under TCG, one host thread for all vCPUs or one each (default: multi for run, single for test)').choices(['single', 'multi']))
      .option('-p, --publish <host:guest>', 'forward a guest TCP port to 127.0.0.1:HOST (repeatable), e.g. -p 8080:80', (v: string, all: string[]) => [...all, v], [] as string[]);

  vmOptions(program.command('run'))
    .description('boot an image in QEMU with its serial console in this terminal (Ctrl-A X quits)')
    .argument('<image>', 'NAME.iso, NAME.kernel (with NAME.initrd beside it), or a disk image NAME.raw / NAME.qcow2')
    .option('--display', 'open a QEMU window too')
    .option('--docker-context <name>', "create or update this Docker context on the host: your docker CLI reaches the guest's engine (TLS remote API, docs/server.md)")
    .action(async (image: string, o: Record<string, unknown>) => {
      setExit(await runVm(image, o));
    });

  program
    .command('install')
    .description('install an image to a disk or disk image file (GPT, BIOS + UEFI), or upgrade an install keeping the old build as a fallback')
    .argument('<image>', 'NAME.iso')
    .requiredOption('--disk <disk>', 'the whole disk (/dev/sdX) or a disk image file')
    .option('--size <size>', 'create the disk image file with this size, e.g. 8G')
    .option('--encrypt', 'also make the encrypted persistence partition (passphrase asked twice)')
    .option('--passphrase-file <file>', 'read the new passphrase from this file (scripts)')
    .option('--recovery-key', 'also add a random recovery key (printed once)')
    .option('--esp-size <MiB>', 'size of the EFI system partition (room for two builds)', '512')
    .option('--persist-size <size>', 'size of the persistence partition (default: the rest of the disk)')
    .option('--yes', 'do not ask for the typed confirmation before erasing the disk')
    .option('-m, --memory <MiB>', 'memory of the installer VM', '1024')
    .option('--accel <accel>', 'kvm, tcg or auto', 'auto')
    .option('--console-log <file>', 'write the installer VM\'s console to this file')
    .action(async (image: string, o: Record<string, unknown>) => {
      setExit(await install(image, o as unknown as Parameters<typeof install>[1]));
    });

  vmOptions(program.command('test'))
    .description('boot an image headless and check it: Docker ready, overlay2, a container runs, bridge networking')
    .argument('<image>', 'NAME.iso, NAME.kernel (with NAME.initrd beside it), or a disk image NAME.raw / NAME.qcow2')
    .option('--scenario <script>', 'also run this shell script inside the guest; its exit status counts')
    .option('--timeout <s>', 'seconds to wait for Docker to be ready', '420')
    .option('--console-log <file>', 'write the whole serial console to this file')
    .option('--json', 'when done, print one JSON document on stdout: each check with its name, result, detail and duration')
    .action(async (image: string, o: Record<string, unknown>) => {
      const r = await api.testImageReport(image, { ...o, forwards: parsePublish((o.publish as string[] | undefined) ?? []) });
      process.stderr.write(verdictLine(r) + '\n');
      if (o.json) json(testResult(image, r));
      // A failed check is the image's verdict, not an error: the document says ok: false, the exit status is 1.
      setExit(r.ok ? 0 : 1);
    });

  return program;
}

/** The program main.ts runs. */
export const program = makeProgram();
