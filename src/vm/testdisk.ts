// The test disk: a small ISO 9660 volume labelled D2D-TEST that the harness
// attaches to the guest. It carries a container image made on the host
// (docker-archive around a static busybox) and, optionally, a scenario script.
// The guest only reads it when the harness tells it to, over the console.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../exec/run.js';
import { busyboxImage } from '../formats/dockerArchive.js';
import { dataIsoArgv } from '../tools/xorriso.js';

export const TEST_LABEL = 'D2D-TEST';
export const TEST_IMAGE_TAG = 'd2d-test/busybox:1';
export const BUSYBOX = '/bin/busybox';

export async function makeTestDisk(out: string, opts: { scenario?: string; busybox?: string; files?: Record<string, string> } = {}): Promise<{ imageId: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'd2d-testdisk-'));
  try {
    const { tarball, imageId } = busyboxImage(readFileSync(opts.busybox ?? BUSYBOX), TEST_IMAGE_TAG, 0);
    writeFileSync(join(dir, 'busybox.tar'), tarball);
    if (opts.scenario) copyFileSync(opts.scenario, join(dir, 'scenario.sh'));
    mkdirSync(join(dir, 'files'), { recursive: true });
    writeFileSync(join(dir, 'files', 'image-id'), `${imageId}\n`);
    for (const [name, text] of Object.entries(opts.files ?? {})) writeFileSync(join(dir, 'files', name), text);
    await run(dataIsoArgv(TEST_LABEL, out, dir));
    return { imageId };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
