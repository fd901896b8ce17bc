// `run`/`test` -p HOST:GUEST and `run --docker-context NAME`: what the command line accepts, what it
// refuses (naming the value at fault), the argv handed to QEMU and to the docker CLI.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parsePublish } from '../../src/vm/publish.js';
import { checkContextName, contextArgv, parseClientFiles, remoteApiPort } from '../../src/vm/dockercontext.js';
import { qemuArgv } from '../../src/vm/qemu.js';
import { scratchDir } from '../support/scratch.js';

test('-p HOST:GUEST and 127.0.0.1:HOST:GUEST become forwards bound to 127.0.0.1', () => {
  const f = parsePublish(['8080:80', '127.0.0.1:2222:22']);
  assert.deepEqual(f, [
    { hostPort: 8080, guestPort: 80 },
    { hostPort: 2222, guestPort: 22 },
  ]);
  const argv = qemuArgv({ accel: 'tcg', memoryMiB: 512, cpus: 1, firmware: 'bios', serial: 'stdio', display: 'none', network: { restrict: false, forwards: f }, boot: { kind: 'cdrom', image: 'x.iso' } });
  assert.ok(argv.includes('user,id=net0,hostfwd=tcp:127.0.0.1:8080-:80,hostfwd=tcp:127.0.0.1:2222-:22'), argv.join(' '));
});

test('-p: bad values are refused with the value and what is wrong; exit 2', () => {
  const cases: [string[], RegExp][] = [
    [['80'], /^-p 80: give HOST:GUEST, two port numbers/],
    [['0:80'], /^-p 0:80: the host port must be a number from 1 to 65535, not '0'$/],
    [['8080:70000'], /^-p 8080:70000: the guest port must be a number from 1 to 65535, not '70000'$/],
    [['8080:http'], /the guest port must be a number from 1 to 65535, not 'http'/],
    [['0.0.0.0:8080:80'], /^-p 0\.0\.0\.0:8080:80: forwards listen on 127\.0\.0\.1 only, not on 0\.0\.0\.0$/],
    [['8080:80', '8080:81'], /^-p 8080:81: host port 8080 is already forwarded \(to guest port 80\)$/],
  ];
  for (const [specs, re] of cases) {
    assert.throws(
      () => parsePublish(specs),
      (e: Error & { exitCode?: number }) => re.test(e.message) && e.exitCode === 2,
      specs.join(' '),
    );
  }
});

test('--docker-context names: docker\'s rule, not "default"', () => {
  assert.equal(checkContextName('d2d-vm_1.2'), 'd2d-vm_1.2');
  for (const bad of ['default', '-x', 'a b', 'x', 'a/b', '']) assert.throws(() => checkContextName(bad), /a context name is letters, digits and _\.\+-/, bad);
});

test('the client files are read from the guest\'s answer; a missing one is named', () => {
  const pem = (t: string): string => `-----BEGIN ${t}-----\nAAAA\n-----END ${t}-----`;
  const answer = `==ca==\n${pem('CERTIFICATE')}\n==end==\n==cert==\n${pem('CERTIFICATE')}\n==end==\n==key==\n${pem('PRIVATE KEY')}\n==end==\n`;
  const f = parseClientFiles(answer);
  assert.match(f.key, /^-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n$/);
  assert.throws(() => parseClientFiles(answer.replace(/==key==[\s\S]*$/, '==key==\ncat: no such file\n==end==\n')), /the guest sent no key\.pem/);
});

test('docker context create/update argv: the forwarded port on 127.0.0.1 and the three TLS files', () => {
  assert.deepEqual(contextArgv('create', 'vm', 40001, '/t', 'debian2docker run out/x.iso'), [
    'docker', 'context', 'create', 'vm', '--description', 'debian2docker run out/x.iso',
    '--docker', 'host=tcp://127.0.0.1:40001,ca=/t/ca.pem,cert=/t/cert.pem,key=/t/key.pem',
  ]);
});

test('the remote API port comes from the manifest beside the image; off means none', () => {
  const d = scratchDir('d2d-pub-');
  mkdirSync(d, { recursive: true });
  const m = (api: object): string => JSON.stringify({ config: { normalised: { docker: { 'remote-api': api } } } });
  writeFileSync(join(d, 'on.manifest.json'), m({ enabled: true, port: 2400 }));
  writeFileSync(join(d, 'off.manifest.json'), m({ enabled: false, port: 2376 }));
  assert.equal(remoteApiPort(join(d, 'on.iso')), 2400);
  assert.equal(remoteApiPort(join(d, 'on.kernel')), 2400);
  assert.equal(remoteApiPort(join(d, 'off.iso')), undefined);
  assert.equal(remoteApiPort(join(d, 'none.iso')), 2376, 'no manifest: the default port, checked in the guest');
});
