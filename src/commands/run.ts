// `debian2docker run IMAGE`: boot an image in QEMU with the serial console in
// this terminal (and optionally a window). Ctrl-A X quits QEMU.
import { preflight } from '../stages/preflight.js';
import { chooseAccel, withFirmwareVars } from '../vm/machine.js';
import { qemuArgv } from '../vm/qemu.js';
import { baseSpec, imageBoot, type VmCliOptions } from '../vm/options.js';
import { cmdlineFor } from './test.js';
import { start } from '../tools/exec.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { log } from '../log.js';

export async function runVm(image: string, o: VmCliOptions & { display?: boolean }): Promise<number> {
  await preflight(['vm']);
  const accel = await chooseAccel(o.accel ?? 'auto', image);
  const tmp = mkdtempSync(join(tmpdir(), 'd2d-run-'));
  try {
    const argv = qemuArgv({
      // Multi-threaded TCG by default: a person at the console wants the faster boot, and sees a crash.
      ...withFirmwareVars(baseSpec(o, accel, 'multi'), tmp),
      boot: imageBoot(image, o.bootFrom ?? 'cdrom', cmdlineFor(image)),
      disks: (o.disk ?? []).map((f) => ({ file: f })),
      serial: 'mon:stdio',
      display: o.display ? 'gtk' : 'none',
      network: { restrict: false },
    });
    log.info(`QEMU (${accel}); Ctrl-A X quits, Ctrl-A C switches to the QEMU monitor`);
    const child = start(argv, { interactive: true });
    return await new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? 1)));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
