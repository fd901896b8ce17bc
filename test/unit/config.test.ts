import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfigText } from '../../src/config/load.js';
import { ConfigError } from '../../src/errors.js';
import { problems } from './problems.js';
import { merge } from '../../src/config/merge.js';
import { suggest } from '../../src/config/suggest.js';
import { scratchDir } from '../support/scratch.js';


test('the embedded default loads and has the documented values', () => {
  const { config, hash } = loadConfigText(undefined);
  assert.equal(config.name, 'debian2docker');
  assert.equal(config.debian.suite, 'trixie');
  assert.equal(config.kernel.build, 'linux-source-6.12');
  assert.equal(config.kernel.package, undefined);
  assert.equal(config.initramfs.compression, 'xz');
  assert.deepEqual(config.docker.daemon, { 'storage-driver': 'overlay2', 'log-driver': 'local' });
  assert.match(hash, /^[0-9a-f]{64}$/);
});

test('a user file merges over the default: maps merge, scalars replace, lists append', () => {
  const { config } = loadConfigText('packages: [htop]\nboot:\n  timeout: 0\ndocker:\n  daemon:\n    debug: true\n', 'u.yaml');
  assert.deepEqual(config.packages, ['htop']);
  assert.equal(config.boot.timeout, 0);
  assert.equal(config.boot.cmdline, 'console=tty0 console=ttyS0,115200 quiet');
  assert.deepEqual(config.docker.daemon, { 'storage-driver': 'overlay2', 'log-driver': 'local', debug: true });
  assert.deepEqual(merge([1, 2], [2, 3]), [1, 2, 3]);
});

test('the hash changes with the config and not with formatting', () => {
  const a = loadConfigText('hostname: box\n').hash;
  const b = loadConfigText('# comment\nhostname:   box\n').hash;
  const c = loadConfigText('hostname: box2\n').hash;
  assert.equal(a, b);
  assert.notEqual(a, c);
});

test('unknown key: named, with file:line and a suggestion', () => {
  const p = problems('name: x\nbooot:\n  timeout: 3\n');
  assert.equal(p.length, 1);
  assert.equal(p[0]!.line, 2);
  assert.equal(p[0]!.path, 'booot');
  assert.match(p[0]!.message, /unknown key 'booot' \(did you mean 'boot'\?\)/);
});

test('unknown nested key has the line of the key', () => {
  const p = problems('boot:\n  timeout: 3\n  cmdlne: quiet\n');
  assert.equal(p[0]!.line, 3);
  assert.equal(p[0]!.path, 'boot.cmdlne');
  assert.match(p[0]!.message, /did you mean 'cmdline'/);
});

test('wrong type: key path and line', () => {
  const p = problems('name: ok\nboot:\n  timeout: soon\n');
  assert.equal(p[0]!.path, 'boot.timeout');
  assert.equal(p[0]!.line, 3);
  assert.match(p[0]!.message, /number/);
});

test('bad package name: the list item is named', () => {
  const p = problems('packages:\n  - htop\n  - "Bad Name"\n');
  assert.equal(p[0]!.path, 'packages.1');
  assert.equal(p[0]!.line, 3);
  assert.match(p[0]!.message, /package name/);
});

test('invalid enum value', () => {
  const p = problems('initramfs:\n  compression: lz4\n');
  assert.equal(p[0]!.path, 'initramfs.compression');
  assert.equal(p[0]!.line, 2);
});

test('cross-field rule: xz level above 9', () => {
  const p = problems('initramfs:\n  level: 15\n');
  assert.equal(p[0]!.path, 'initramfs.level');
  assert.equal(p[0]!.line, 2);
  assert.match(p[0]!.message, /xz levels are 1-9/);
});

test('persistence paths: system folders, overlaps and repeats are named at their line', () => {
  let p = problems('persistence:\n  data:\n    - /proc\n');
  assert.equal(p[0]!.path, 'persistence.data.4');
  assert.equal(p[0]!.line, 3);
  assert.match(p[0]!.message, /not \/, \/proc/);
  p = problems('persistence:\n  settings:\n    - /var/lib/docker/volumes\n');
  assert.equal(p[0]!.path, 'persistence.settings.4');
  assert.match(p[0]!.message, /\/var\/lib\/docker\/volumes and \/var\/lib\/docker \(persistence\.data\) overlap/);
  p = problems('persistence:\n  settings: [/home]\n');
  assert.match(p[0]!.message, /\/home is already listed in persistence\.data/);
  p = problems('persistence:\n  pbkdf-memory: 1024\n');
  assert.equal(p[0]!.path, 'persistence.pbkdf-memory');
});

test('YAML syntax error has a line', () => {
  const p = problems('name: a\nboot: [1, 2\n');
  assert.equal(p[0]!.line, 3, 'the flow sequence is still open at the end of the text');
  assert.match(p[0]!.message, /^YAML:/);
});

test('top level must be a mapping', () => {
  const p = problems('- a\n- b\n');
  assert.equal(p[0]!.line, 1);
  assert.match(p[0]!.message, /mapping/);
});

test('bad mirror URL and hostname', () => {
  const p = problems('debian:\n  mirror: ftp.example\nhostname: Not_Valid\n');
  const paths = p.map((x) => x.path).sort();
  assert.deepEqual(paths, ['debian.mirror', 'hostname']);
  assert.equal(p.find((x) => x.path === 'hostname')!.line, 3);
});

test('duplicate keys are rejected', () => {
  const p = problems('name: a\nname: b\n');
  assert.match(p[0]!.message, /YAML: Map keys must be unique/);
  assert.equal(p[0]!.line, 2);
});

test('suggest finds near misses only', () => {
  assert.equal(suggest('packges', ['packages', 'kernel']), 'packages');
  assert.equal(suggest('zzzzzz', ['packages', 'kernel']), undefined);
});

test('files: exactly one of content or source; paths absolute; line of the entry', () => {
  const p = problems('files:\n  - path: /etc/a\n    content: x\n    source: y\n  - path: relative/b\n    content: z\n');
  const paths = p.map((x) => x.path).sort();
  assert.deepEqual(paths, ['files.0', 'files.1.path']);
  assert.match(p.find((x) => x.path === 'files.0')!.message, /exactly one of content or source/);
  assert.equal(p.find((x) => x.path === 'files.1.path')!.line, 5);
});

test('files and hook scripts are resolved next to the config file and must exist', () => {
  const p = problems('files:\n  - path: /etc/a\n    source: no-such-dir/file\nhooks:\n  before-pack:\n    - file: missing.sh\n');
  assert.equal(p.length, 2);
  assert.equal(p[0]!.path, 'files.0.source');
  assert.equal(p[0]!.line, 3);
  assert.match(p[0]!.message, /no such file or folder: \/.*\/no-such-dir\/file/);
  assert.equal(p[1]!.path, 'hooks.before-pack.0.file');
  assert.equal(p[1]!.line, 6);
});

test('hooks: inline scripts and files; unknown hook point named', () => {
  const { config } = loadConfigText('hooks:\n  after-packages:\n    - echo hi > /etc/x\n', 'u.yaml');
  assert.deepEqual(config.hooks, { 'after-packages': ['echo hi > /etc/x'], 'before-pack': [] });
  const p = problems('hooks:\n  after-pack: []\n');
  assert.match(p[0]!.message, /unknown key 'after-pack'/);
  assert.equal(p[0]!.line, 2);
});

test('file mode and owner are checked', () => {
  const p = problems('files:\n  - path: /a\n    content: x\n    mode: "999"\n    owner: "Root User"\n');
  assert.deepEqual(p.map((x) => x.path).sort(), ['files.0.mode', 'files.0.owner']);
  assert.deepEqual(p.map((x) => [x.line, x.message]).sort(), [[4, "an octal mode such as '0644'"], [5, "user or user:group, e.g. 'root:root'"]]);
});

test('extends: a chain of files over the default; "!x" removes an inherited list entry', async () => {
  const { writeFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { loadConfig } = await import('../../src/config/load.js');
  const d = scratchDir('d2d-ext-');
  writeFileSync(join(d, 'base.yaml'), 'name: base\npackages: [htop, curl]\nboot:\n  timeout: 9\n');
  writeFileSync(join(d, 'child.yaml'), 'extends: base.yaml\nname: child\npackages: ["!htop", jq]\n');
  const { config, sources } = loadConfig(join(d, 'child.yaml'));
  assert.equal(config.name, 'child');
  assert.equal(config.boot.timeout, 9);
  assert.deepEqual(config.packages, ['curl', 'jq']);
  assert.equal(sources.length, 3);
  writeFileSync(join(d, 'loop.yaml'), 'extends: loop.yaml\n');
  assert.throws(() => loadConfig(join(d, 'loop.yaml')), (e: unknown) => e instanceof ConfigError && /extends itself/.test(e.message) && e.problems[0]!.line === 1);
  writeFileSync(join(d, 'orphan.yaml'), 'name: x\nextends: nowhere.yaml\n');
  assert.throws(() => loadConfig(join(d, 'orphan.yaml')), (e: unknown) => e instanceof ConfigError && /no such file: .*nowhere\.yaml/.test(e.message) && e.problems[0]!.line === 2);
  // An error in the parent is reported at the parent's file and line.
  writeFileSync(join(d, 'badbase.yaml'), 'name: ok\nboot:\n  timeout: later\n');
  writeFileSync(join(d, 'c2.yaml'), 'extends: badbase.yaml\n');
  assert.throws(() => loadConfig(join(d, 'c2.yaml')), (e: unknown) => e instanceof ConfigError && e.problems[0]!.file.endsWith('badbase.yaml') && e.problems[0]!.line === 3);
});

test('the JSON Schema kept in the repository is current (regenerate: debian2docker schema > schema/debian2docker.schema.json)', async () => {
  const { readFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { jsonSchema } = await import('../../src/config/schema.js');
  const { PACKAGE_ROOT } = await import('../../src/paths.js');
  const kept = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'schema/debian2docker.schema.json'), 'utf8')) as unknown;
  assert.deepEqual(kept, JSON.parse(JSON.stringify(jsonSchema())));
  const props = (kept as { properties: Record<string, unknown> }).properties;
  for (const k of ['name', 'debian', 'packages', 'files', 'hooks', 'kernel', 'boot', 'docker', 'initramfs', 'extends']) assert.ok(k in props, k);
});

test('a hook that YAML reads as a mapping gets a message that says what a hook is', () => {
  const p = problems('hooks:\n  after-packages:\n    - echo "a: b"; exit 1\n');
  assert.equal(p[0]!.path, 'hooks.after-packages.0');
  assert.equal(p[0]!.line, 3);
  assert.match(p[0]!.message, /a hook is a shell script/);
});

test('ssh: a server needs a key; keys must look like OpenSSH public keys', () => {
  const p = problems('ssh:\n  enabled: true\n');
  assert.equal(p[0]!.path, 'ssh.enabled');
  assert.equal(p[0]!.line, 2);
  assert.match(p[0]!.message, /needs at least one key/);
  const q = problems('ssh:\n  authorized_keys: ["hunter2"]\n');
  assert.equal(q[0]!.path, 'ssh.authorized_keys.0');
  assert.equal(q[0]!.line, 2);
  assert.match(q[0]!.message, /not an OpenSSH public key line/);
  const { config } = loadConfigText('ssh:\n  enabled: true\n  authorized_keys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeKey me@host"]\n');
  assert.equal(config.ssh.enabled, true);
});

// Bad kernel sections, each with its message and the file:line of the key at fault.
// (With the ones above, over twenty distinct bad configs.) Files are resolved next to the config.
const BAD_KERNEL: { name: string; yaml: string; path: string; line: number; message: RegExp }[] = [
  { name: 'package and deb', yaml: 'name: k\nkernel:\n  package: linux-image-cloud-amd64\n  deb: [vmlinuz.deb]\n', path: 'kernel.deb', line: 4, message: /give one kernel source, not both kernel\.package and kernel\.deb/ },
  { name: 'deb and vmlinuz', yaml: 'kernel:\n  deb: [a.deb]\n  vmlinuz: vmlinuz\n  modules_tree: lib/modules/6.1.0-test\n', path: 'kernel.vmlinuz', line: 3, message: /not both kernel\.deb and kernel\.vmlinuz/ },
  { name: 'vmlinuz without its modules', yaml: 'kernel:\n  vmlinuz: vmlinuz\n', path: 'kernel.vmlinuz', line: 2, message: /kernel\.vmlinuz needs kernel\.modules_tree/ },
  { name: 'modules without a kernel image', yaml: 'kernel:\n  modules_tree: lib/modules/6.1.0-test\n', path: 'kernel.modules_tree', line: 2, message: /kernel\.modules_tree goes with kernel\.vmlinuz/ },
  { name: 'suite with a local kernel', yaml: 'kernel:\n  deb: [linux-image-cloud-amd64_6.1.1-1_amd64.deb]\n  suite: trixie-backports\n', path: 'kernel.suite', line: 3, message: /kernel\.suite only applies to kernel\.package/ },
  { name: 'suite that is no suite name', yaml: 'kernel:\n  suite: "Trixie Backports"\n', path: 'kernel.suite', line: 2, message: /must be a Debian suite or codename/ },
  { name: 'deb that is no .deb', yaml: 'kernel:\n  deb:\n    - vmlinuz\n', path: 'kernel.deb.0', line: 3, message: /must be a Debian package file \(\*\.deb\)/ },
  { name: 'empty deb list', yaml: 'kernel:\n  deb: []\n', path: 'kernel.deb', line: 2, message: /give at least one \.deb file/ },
  { name: 'missing .deb file', yaml: 'kernel:\n  deb:\n    - linux-image-cloud-amd64_6.1.1-1_amd64.deb\n    - not-downloaded.deb\n', path: 'kernel.deb.1', line: 4, message: /^no such file: \/.*\/not-downloaded\.deb$/ },
  { name: 'a .deb that is not a Debian package', yaml: 'kernel:\n  deb: [fake.deb]\n', path: 'kernel.deb.0', line: 2, message: /not a Debian package \(no ar\/debian-binary header\): \/.*\/fake\.deb/ },
  { name: 'vmlinuz that is no kernel image', yaml: 'kernel:\n  vmlinuz: fake.deb\n  modules_tree: lib/modules/6.1.0-test\n', path: 'kernel.vmlinuz', line: 2, message: /not an x86 kernel image with a version string \(bzImage\)/ },
  { name: 'modules of another kernel', yaml: 'kernel:\n  vmlinuz: vmlinuz\n  modules_tree: lib/modules/6.9.9-other\n', path: 'kernel.modules_tree', line: 3, message: /is for kernel 6\.9\.9-other, but kernel\.vmlinuz is 6\.1\.0-test/ },
  { name: 'modules_tree one level too high', yaml: 'kernel:\n  vmlinuz: vmlinuz\n  modules_tree: lib/modules\n', path: 'kernel.modules_tree', line: 3, message: /not a kernel modules folder .*give lib\/modules\/VERSION itself/ },
  { name: 'missing modules folder', yaml: 'kernel:\n  vmlinuz: vmlinuz\n  modules_tree: build/lib/modules/6.1.0-test\n', path: 'kernel.modules_tree', line: 3, message: /no such folder: \/.*\/build\/lib\/modules\/6\.1\.0-test/ },
  { name: 'module name with a space', yaml: 'kernel:\n  modules:\n    - wireguard\n    - "nf tables"\n', path: 'kernel.modules.1', line: 4, message: /not a valid kernel module name/ },
  { name: 'build and package', yaml: 'kernel:\n  package: linux-image-amd64\n  build: linux-source-6.12\n', path: 'kernel.build', line: 3, message: /not both kernel\.package and kernel\.build/ },
  { name: 'build of a package that is no kernel source', yaml: 'kernel:\n  build: linux-image-amd64\n', path: 'kernel.build', line: 2, message: /a Debian kernel source package such as linux-source-6\.12/ },
  { name: 'fragments without build', yaml: 'kernel:\n  package: linux-image-amd64\n  fragments: [my.config]\n', path: 'kernel.fragments', line: 3, message: /kernel\.fragments only applies to kernel\.build/ },
  { name: 'missing fragment', yaml: 'kernel:\n  build: linux-source-6.12\n  fragments:\n    - nowhere.config\n', path: 'kernel.fragments.0', line: 4, message: /^no such file: \/.*\/nowhere\.config$/ },
  { name: 'fragment with a comment after a value', yaml: 'kernel:\n  build: linux-source-6.12\n  fragments: [bad.config]\n', path: 'kernel.fragments.0', line: 3, message: /bad\.config:2: not a Kconfig line: 'CONFIG_WIREGUARD=y # vpn'/ },
  { name: 'unknown kernel key', yaml: 'kernel:\n  modules: []\n  module_tree: lib/modules/6.1.0-test\n', path: 'kernel.module_tree', line: 3, message: /unknown key 'module_tree' \(did you mean 'modules_tree'\?\)/ },
];

for (const bad of BAD_KERNEL) {
  test(`bad kernel config: ${bad.name} (${bad.path}, line ${bad.line})`, async () => {
    const { mkdirSync, writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { loadConfig } = await import('../../src/config/load.js');
    const { kernelFixtures } = await import('./fixtures.js');
    const d = kernelFixtures();
    writeFileSync(join(d, 'fake.deb'), 'not a package\n');
    writeFileSync(join(d, 'bad.config'), '# mine\nCONFIG_WIREGUARD=y # vpn\n');
    mkdirSync(join(d, 'lib/modules/6.9.9-other/kernel'), { recursive: true });
    const file = join(d, 'k.yaml');
    writeFileSync(file, bad.yaml);
    try {
      loadConfig(file);
    } catch (e) {
      assert.ok(e instanceof ConfigError, String(e));
      const p = e.problems.find((x) => x.path === bad.path);
      assert.ok(p, `no problem at ${bad.path}: ${e.message}`);
      assert.match(p.message, bad.message);
      assert.equal(p.file, file);
      assert.equal(p.line, bad.line, e.message);
      assert.equal(e.problems.length, 1, e.message);
      assert.ok(e.message.includes(`${file}:${bad.line}:`), e.message);
      return;
    }
    assert.fail('config was accepted');
  });
}

test('a kernel source problem in an extended file is reported in the file that wrote it', async () => {
  const { writeFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { loadConfig } = await import('../../src/config/load.js');
  const { kernelFixtures } = await import('./fixtures.js');
  const d = kernelFixtures();
  writeFileSync(join(d, 'base.yaml'), 'name: base\nkernel:\n  deb: [linux-image-cloud-amd64_6.1.1-1_amd64.deb]\n');
  writeFileSync(join(d, 'child.yaml'), 'extends: base.yaml\nname: child\nkernel:\n  suite: trixie-backports\n');
  assert.throws(
    () => loadConfig(join(d, 'child.yaml')),
    (e: unknown) => e instanceof ConfigError && e.problems[0]!.file === join(d, 'child.yaml') && e.problems[0]!.line === 4 && /kernel\.suite only applies to kernel\.package/.test(e.problems[0]!.message),
  );
});
