// `debian2docker serve` (src/commands/serve.ts, src/serve/): the iPXE scripts, machine files checked at
// their line, and the HTTP server itself on 127.0.0.1 (real requests, a fake build's files).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chainScript, machineScript, normaliseMac } from '../../src/serve/ipxe.js';
import { loadMachines, machineCmdline } from '../../src/serve/machines.js';
import { parseListen, readBuild, serve } from '../../src/commands/serve.js';
import { ConfigError, D2DError } from '../../src/errors.js';
import { scratchDir } from '../support/scratch.js';

function fakeBuild(images = false): string {
  const d = scratchDir('d2d-serve-');
  writeFileSync(join(d, 'fleet.kernel'), 'K'.repeat(1000));
  writeFileSync(join(d, 'fleet.initrd'), 'I'.repeat(5000));
  if (images) writeFileSync(join(d, 'fleet.images'), 'M'.repeat(300));
  const manifest = {
    name: 'fleet',
    artifacts: { kernel: { file: 'fleet.kernel' }, initrd: { file: 'fleet.initrd' } },
    images: images ? [{ tag: 'me/x:1' }] : [],
    config: { normalised: { boot: { cmdline: 'console=ttyS0 quiet' } } },
  };
  writeFileSync(join(d, 'fleet.manifest.json'), JSON.stringify(manifest));
  return d;
}

test('MAC addresses: colons or dashes, any case, to the name of a machine file', () => {
  assert.equal(normaliseMac('52:54:00:AB:cd:01'), '52-54-00-ab-cd-01');
  assert.equal(normaliseMac('52-54-00-ab-cd-01'), '52-54-00-ab-cd-01');
  for (const bad of ['', '52:54:00:ab:cd', '52:54:00:ab:cd:0g', '5254.00ab.cd01']) assert.equal(normaliseMac(bad), undefined, bad);
});

test('scripts: the chain script asks for the machine\'s own; that one boots the kernel with both initrds over HTTP', () => {
  assert.equal(chainScript('http://10.0.2.100:80'), '#!ipxe\ndhcp\nchain http://10.0.2.100:80/boot.ipxe?mac=${net0/mac:hexhyp}\n');
  const s = machineScript({ base: 'http://h:1', name: 'fleet', mac: '52-54-00-00-00-01', files: { kernel: 'fleet.kernel', initrd: 'fleet.initrd', images: 'fleet.images' }, cmdline: 'console=ttyS0 d2d.hostname=w1' });
  assert.equal(
    s,
    [
      '#!ipxe',
      'echo debian2docker: fleet for 52-54-00-00-00-01',
      'kernel http://h:1/fleet.kernel initrd=fleet.initrd initrd=fleet.images console=ttyS0 d2d.hostname=w1',
      'initrd http://h:1/fleet.initrd',
      'initrd http://h:1/fleet.images',
      'boot',
      '',
    ].join('\n'),
  );
});

test('machine files: named by MAC, hostname and cmdline only, each mistake at its file:line', () => {
  const d = scratchDir('d2d-machines-');
  writeFileSync(join(d, '52-54-00-00-00-01.yaml'), 'hostname: worker-1\ncmdline: "d2d.debug=1"\n');
  writeFileSync(join(d, '52:54:00:00:00:02.yml'), 'hostname: worker-2\n');
  const m = loadMachines(d);
  assert.deepEqual([...m.keys()], ['52-54-00-00-00-01', '52-54-00-00-00-02']);
  assert.equal(machineCmdline(m.get('52-54-00-00-00-01')), 'd2d.hostname=worker-1 d2d.debug=1');
  assert.equal(machineCmdline(undefined), '');

  const bad = scratchDir('d2d-machines-');
  writeFileSync(join(bad, '52-54-00-00-00-03.yaml'), 'hostname: worker-3\nhostnmae: x\ncmdline: "a ${b}"\n');
  writeFileSync(join(bad, 'worker-4.yaml'), 'hostname: worker-4\n');
  writeFileSync(join(bad, '52-54-00-00-00-05.yaml'), 'hostname: Worker_5\n');
  assert.throws(
    () => loadMachines(bad),
    (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      const at = (file: string, path: string) => e.problems.find((p) => p.file.endsWith(file) && p.path === path);
      assert.equal(at('52-54-00-00-00-03.yaml', 'hostnmae')?.line, 2);
      assert.match(at('52-54-00-00-00-03.yaml', 'cmdline')!.message, /iPXE would expand it/);
      assert.equal(at('52-54-00-00-00-03.yaml', 'cmdline')?.line, 3);
      assert.match(at('worker-4.yaml', '')!.message, /named by the MAC address/);
      assert.match(at('52-54-00-00-00-05.yaml', 'hostname')!.message, /valid host name/);
      return true;
    },
  );
});

test('the build: a manifest or its folder; missing files and bad --listen refused with the thing at fault', () => {
  const d = fakeBuild(true);
  assert.deepEqual(readBuild(d).files, { kernel: 'fleet.kernel', initrd: 'fleet.initrd', images: 'fleet.images' });
  assert.equal(readBuild(join(d, 'fleet.manifest.json')).cmdline, 'console=ttyS0 quiet');
  const e = scratchDir('d2d-serve-');
  assert.throws(() => readBuild(e), /has no build manifest/);
  const noImages = fakeBuild(true);
  writeFileSync(join(noImages, 'other.manifest.json'), '{}');
  assert.throws(() => readBuild(noImages), /2 build manifests/);
  const lost = fakeBuild();
  rmSync(join(lost, 'fleet.initrd'));
  assert.throws(() => readBuild(lost), /fleet\.initrd is missing: the build named it/);
  assert.deepEqual(parseListen('8080'), { host: '127.0.0.1', port: 8080 });
  assert.deepEqual(parseListen('0.0.0.0:80'), { host: '0.0.0.0', port: 80 });
  assert.throws(() => parseListen('99999'), (x: unknown) => x instanceof D2DError && /--listen 99999/.test(x.message));
});

test('serving: per-machine scripts from the Host the machine used, the files byte for byte, 404 for the rest', async () => {
  const d = fakeBuild(true);
  const machines = scratchDir('d2d-machines-');
  writeFileSync(join(machines, '52-54-00-00-00-01.yaml'), 'hostname: worker-1\n');
  const tftp = join(scratchDir('d2d-tftp-'), 'tftp');
  const s = await serve(d, { listen: '127.0.0.1:0', machines, tftp, cmdline: 'd2d.swarm=1' });
  try {
    assert.equal(readFileSync(join(tftp, 'boot.ipxe'), 'utf8'), chainScript(s.url));
    const script = await (await fetch(`${s.url}/boot.ipxe?mac=52:54:00:00:00:01`)).text();
    assert.match(script, new RegExp(`^kernel ${s.url}/fleet\\.kernel initrd=fleet\\.initrd initrd=fleet\\.images console=ttyS0 quiet d2d\\.swarm=1 d2d\\.hostname=worker-1$`, 'm'));
    // A machine without a file boots with the build's settings; an edit to the folder applies to the next boot.
    assert.doesNotMatch(await (await fetch(`${s.url}/boot.ipxe?mac=52-54-00-00-00-09`)).text(), /d2d\.hostname/);
    writeFileSync(join(machines, '52-54-00-00-00-09.yaml'), 'hostname: worker-9\n');
    assert.match(await (await fetch(`${s.url}/boot.ipxe?mac=52-54-00-00-00-09`)).text(), /d2d\.hostname=worker-9/);
    assert.equal((await fetch(`${s.url}/boot.ipxe`)).status, 400);
    const initrd = await fetch(`${s.url}/fleet.initrd`);
    assert.equal(initrd.status, 200);
    assert.equal(initrd.headers.get('content-length'), '5000');
    assert.equal(await initrd.text(), 'I'.repeat(5000));
    assert.equal((await fetch(`${s.url}/fleet.manifest.json`)).status, 404);
    assert.equal((await fetch(`${s.url}/../fleet.kernel`)).status, 200); // URL normalisation: still only the build's files
    assert.equal((await fetch(`${s.url}/fleet.kernel`, { method: 'POST' })).status, 405);
  } finally {
    await s.close();
  }
});

test('--tftp on every address needs --url; a port in use is named', async () => {
  const d = fakeBuild();
  await assert.rejects(serve(d, { listen: '0.0.0.0:0', tftp: scratchDir('d2d-tftp-') }), /say which one the machines reach with --url/);
  const s = await serve(d, { listen: '127.0.0.1:0' });
  try {
    const port = new URL(s.url).port;
    await assert.rejects(serve(d, { listen: `127.0.0.1:${port}` }), /the port is in use/);
  } finally {
    await s.close();
  }
});
