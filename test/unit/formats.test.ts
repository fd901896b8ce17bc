// build --format and --disk-size: what the command line accepts, what it refuses (naming the value),
// the outputs a plan then has, and how the harness boots the disk images.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { outputChoice } from '../../src/plan/formats.js';
import { makePlan } from '../../src/plan/plan.js';
import { loadConfigText } from '../../src/config/load.js';
import { outputsOf } from '../../src/pipeline/outputs.js';
import { qemuArgv } from '../../src/vm/qemu.js';
import { imageBoot } from '../../src/vm/options.js';
import { scratchDir } from '../support/scratch.js';

const plan = (yaml: string | undefined, format?: string, size?: string) =>
  makePlan(loadConfigText(yaml).config, { outDir: '/o', configHash: 'h', sourceDateEpoch: 1, outputs: outputChoice(format, size) });
const kinds = (p: ReturnType<typeof plan>): string[] => outputsOf(p).map((o) => o.kind);

test('--format: the ISO by default; raw and qcow2 add disk images of --disk-size (4G by default, whole MiB)', () => {
  assert.deepEqual(outputChoice(undefined), { formats: ['iso'], diskBytes: null });
  assert.deepEqual(outputChoice('iso,raw'), { formats: ['iso', 'raw'], diskBytes: 4 * 2 ** 30 });
  assert.deepEqual(outputChoice(' qcow2 ,qcow2', '3G'), { formats: ['qcow2'], diskBytes: 3 * 2 ** 30 });
  assert.equal(outputChoice('raw', '1048577K').diskBytes, 1024 * 2 ** 20);
  assert.deepEqual(kinds(plan(undefined)), ['iso', 'kernel', 'initrd']);
  assert.deepEqual(kinds(plan(undefined, 'iso,raw,qcow2')), ['iso', 'kernel', 'initrd', 'raw', 'qcow2']);
  // Without the ISO: the disk image is still made from one, in the work folder.
  assert.deepEqual(kinds(plan(undefined, 'qcow2')), ['kernel', 'initrd', 'qcow2']);
  assert.equal(plan(undefined, 'raw').artifacts.raw, '/o/debian2docker.raw');
  assert.ok(outputsOf(plan(undefined, 'raw')).find((o) => o.kind === 'raw')?.move, 'a disk image is moved, not copied');
});

test('--format and --disk-size: bad values are refused, naming them; exit 2', () => {
  const cases: [() => unknown, RegExp][] = [
    [() => outputChoice('iso,vmdk'), /^--format: unknown format 'vmdk'$/],
    [() => outputChoice('', undefined), /^--format: unknown format ''$/],
    [() => outputChoice('iso', '8G'), /^--disk-size only applies with --format raw or qcow2$/],
    [() => outputChoice('raw', 'big'), /^--disk-size must be a size such as 8G or 512M, got 'big'$/],
    [() => outputChoice('raw', '500M'), /^--disk-size 500M is too small: a disk image needs at least 600 MiB$/],
    [() => plan('persistence:\n  enabled: false\n', 'iso,raw'), /^--format raw: this config turns persistence off/],
  ];
  for (const [f, re] of cases) assert.throws(f, (e: Error & { exitCode?: number }) => re.test(e.message) && e.exitCode === 2, re.source);
});

test('the harness boots a disk image as a disk (or a USB stick), qcow2 read as qcow2', () => {
  const dir = scratchDir('formats');
  for (const f of ['a.raw', 'a.qcow2']) writeFileSync(join(dir, f), '');
  assert.deepEqual(imageBoot(join(dir, 'a.raw'), 'cdrom', ''), { kind: 'disk', image: join(dir, 'a.raw') });
  assert.deepEqual(imageBoot(join(dir, 'a.qcow2'), 'usb', ''), { kind: 'usb', image: join(dir, 'a.qcow2') });
  const a = qemuArgv({ accel: 'tcg', memoryMiB: 512, cpus: 1, firmware: 'bios', boot: { kind: 'disk', image: 'd.qcow2' }, disks: [{ file: 't.raw' }], serial: 'stdio', display: 'none', network: { restrict: true } });
  assert.ok(a.includes('if=none,id=boot,format=qcow2,file=d.qcow2,snapshot=on'), a.join(' '));
  assert.ok(a.includes('if=none,id=disk0,format=raw,file=t.raw'), a.join(' '));
});
