// Every mistake explained: values that would break (or be run) on the booted machine are refused
// when the config is loaded, each at the file:line of the value at fault, with its own message.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfigText } from '../../src/config/load.js';
import { ConfigError, formatProblem } from '../../src/errors.js';

const HELLO = 'images:\n  - tag: "me/hello:1"\n    debian: {packages: [hello]}\n'; // lines 1-3
const WEB = `${HELLO}services:\n  - name: web\n    image: "me/hello:1"\n`; // services.0 on lines 4-6

interface Bad {
  name: string;
  yaml: string;
  path: string;
  line: number;
  message: RegExp;
}

const BAD: Bad[] = [
  // Published ports: what `docker run -p` would refuse at boot, or two services fighting over one port.
  { name: 'port 0', yaml: `${WEB}    ports: ["0:80"]\n`, path: 'services.0.ports.0', line: 7, message: /^port 0 is out of range: ports are 1-65535$/ },
  { name: 'port above 65535', yaml: `${WEB}    ports:\n      - "8080:80"\n      - "70000:80"\n`, path: 'services.0.ports.1', line: 9, message: /^port 70000 is out of range/ },
  { name: 'three parts without an address', yaml: `${WEB}    ports: ["8080:80:90"]\n`, path: 'services.0.ports.0', line: 7, message: /^'8080' is not an IPv4 address \(three parts are IP:HOST:CONTAINER\)$/ },
  { name: 'address octet above 255', yaml: `${WEB}    ports: ["300.0.0.1:8080:80"]\n`, path: 'services.0.ports.0', line: 7, message: /^'300\.0\.0\.1' is not an IPv4 address/ },
  { name: 'range that runs backwards', yaml: `${WEB}    ports: ["8010-8000:80"]\n`, path: 'services.0.ports.0', line: 7, message: /^the range 8010-8000 runs backwards: write 8000-8010$/ },
  { name: 'ranges of different lengths', yaml: `${WEB}    ports: ["8000-8009:80-81"]\n`, path: 'services.0.ports.0', line: 7, message: /^the host range has 10 ports and the container range 2: they must have the same length$/ },
  {
    name: 'two services on one host port',
    yaml: `${WEB}    ports: ["8080:80"]\n  - name: api\n    image: "me/hello:1"\n    ports: ["127.0.0.1:8080:3000"]\n`,
    path: 'services.1.ports.0',
    line: 10,
    message: /^host port 8080\/tcp is already published by service 'web' \(services\.0\.ports\.0\)$/,
  },
  { name: 'overlapping ranges in one service', yaml: `${WEB}    ports:\n      - "9000-9010:9000-9010"\n      - "9005:80"\n`, path: 'services.0.ports.1', line: 9, message: /^host port 9005\/tcp is already published by service 'web'/ },
  {
    name: "the remote API's port",
    yaml: `docker:\n  remote-api:\n    enabled: true\n${WEB}    ports: ["2376:80"]\n`,
    path: 'services.0.ports.0',
    line: 10,
    message: /^host port 2376\/tcp is the Docker remote API's \(docker\.remote-api\.port\): publish the service on another port$/,
  },
  {
    name: "the SSH server's port",
    yaml: `ssh:\n  enabled: true\n  authorized_keys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeKey me@host"]\n${WEB}    ports: ["22:2222"]\n`,
    path: 'services.0.ports.0',
    line: 10,
    message: /^host port 22\/tcp is the SSH server's \(ssh\.enabled\)/,
  },
  // Volumes and env.
  { name: 'relative host path', yaml: `${WEB}    volumes:\n      - "./data:/data"\n`, path: 'services.0.volumes.0', line: 8, message: /^'\.\/data' is neither an absolute host path nor a volume name .*Docker would refuse it$/ },
  { name: 'volume name with shell syntax', yaml: `${WEB}    volumes: ["$(reboot):/data"]\n`, path: 'services.0.volumes.0', line: 7, message: /^'\$\(reboot\)' is neither an absolute host path nor a volume name/ },
  { name: "volume over the container's /", yaml: `${WEB}    volumes: ["data:/"]\n`, path: 'services.0.volumes.0', line: 7, message: /^a volume cannot be mounted over the container's \/$/ },
  { name: 'two volumes at one path', yaml: `${WEB}    volumes:\n      - "data:/srv"\n      - "/srv/www:/srv/:ro"\n`, path: 'services.0.volumes.1', line: 9, message: /^\/srv is already mounted in this container \(services\.0\.volumes\.0\): Docker refuses two mounts at one path$/ },
  { name: 'env as a list of NAME=value', yaml: `${WEB}    env:\n      - MODE=production\n`, path: 'services.0.env', line: 7, message: /^env is a mapping of NAME: value, such as \{TZ: Europe\/Berlin\}, not a list of NAME=value$/ },
  // Names that must be unique, or that Docker refuses.
  { name: 'one-character service name', yaml: `${HELLO}services:\n  - {name: w, image: "me/hello:1"}\n`, path: 'services.0.name', line: 5, message: /at least 2 characters, Docker's rule/ },
  {
    name: "service named like a session's container",
    yaml: `${HELLO}services:\n  - {name: d2d-desktop-main, image: "me/hello:1"}\ndesktop:\n  sessions:\n    - {name: main, image: "me/hello:1"}\n`,
    path: 'services.0.name',
    line: 5,
    message: /^'d2d-desktop-main' is the container of desktop session 'main': choose another name$/,
  },
  { name: 'one tag for two images', yaml: `${HELLO}  - tarball: /dev/null\n    tags:\n      - "me/app:1"\n      - "me/hello:1"\n`, path: 'images.1.tags.1', line: 7, message: /^the tag me\/hello:1 is already given by images\.0\.tag: a tag names one image$/ },
  { name: 'one registry tag pulled twice', yaml: 'images:\n  - ref: "127.0.0.1:5000/tool:2"\n  - {ref: "127.0.0.1:5000/tool:2", background: true}\n', path: 'images.1.ref', line: 3, message: /^the tag 127\.0\.0\.1:5000\/tool:2 is already given by images\.0\.ref/ },
  { name: 'two files at one path', yaml: 'files:\n  - {path: /etc/motd, content: "a\\n"}\n  - path: /etc//motd\n    content: "b\\n"\n', path: 'files.1.path', line: 3, message: /^\/etc\/\/motd is already written by files\.0: give it once$/ },
  { name: 'file path that leaves the image', yaml: 'files:\n  - path: /etc/../../root/.profile\n    content: x\n', path: 'files.0.path', line: 2, message: /^no '\.\.' in the path: it would point outside the image$/ },
  {
    name: "a folder over a session's home",
    yaml: `${HELLO}desktop:\n  sessions:\n    - name: main\n      image: "me/hello:1"\n      folders: ["/data:/home/user/"]\n`,
    path: 'desktop.sessions.0.folders.0',
    line: 8,
    message: /^\/home\/user is already mounted in this container \(the session's home volume\)/,
  },
  // Values that reach a shell or GRUB on the machine.
  { name: 'persistence folder with a command substitution', yaml: 'persistence:\n  data:\n    - "/srv/$(reboot)"\n', path: 'persistence.data.4', line: 3, message: /read by the boot's shell \(\/etc\/d2d\/persist\.conf\)$/ },
  { name: 'persistence folder with a glob', yaml: 'persistence:\n  settings: ["/etc/app*"]\n', path: 'persistence.settings.4', line: 2, message: /^letters, digits and \. _ - \+ @ , : = \/ only/ },
  { name: 'kernel command line over two lines', yaml: 'boot:\n  cmdline: "quiet\\n}\\nmenuentry evil {"\n', path: 'boot.cmdline', line: 2, message: /^a kernel command line is one line .*grub\.cfg$/ },
  { name: 'GRUB syntax in an extra entry', yaml: 'boot:\n  entries:\n    - title: debug\n      cmdline: "d2d.debug=1; reboot"\n', path: 'boot.entries.0.cmdline', line: 4, message: /^';' would be read by GRUB, not passed to the kernel/ },
  { name: 'kernel command line too long', yaml: `boot:\n  cmdline: "${'x'.repeat(1901)}"\n`, path: 'boot.cmdline', line: 2, message: /^1901 characters: at most 1900/ },
  { name: 'menu title over two lines', yaml: 'boot:\n  entries:\n    - {title: "a\\nb", cmdline: quiet}\n', path: 'boot.entries.0.title', line: 3, message: /^one line of text/ },
  { name: 'suite with shell syntax', yaml: 'debian:\n  suite: "trixie main\\ndeb http://x/ sid"\n', path: 'debian.suite', line: 2, message: /^must be a Debian suite or codename/ },
  { name: "an image's suite", yaml: 'images:\n  - tag: "me/a:1"\n    debian: {packages: [hello], suite: "Trixie"}\n', path: 'images.0.debian.suite', line: 3, message: /^must be a Debian suite or codename/ },
  // An existing rule that had no test: a session per VT, VT2 to VT11.
  {
    name: 'eleven desktop sessions',
    yaml: `${HELLO}desktop:\n  sessions:\n${Array.from({ length: 11 }, (_, i) => `    - {name: s${i}, image: "me/hello:1"}\n`).join('')}`,
    path: 'desktop.sessions',
    line: 5,
    message: /^at most 10 sessions \(VT2 to VT11\)$/,
  },

];

for (const bad of BAD) {
  test(`bad config: ${bad.name} (${bad.path}, line ${bad.line})`, () => {
    try {
      loadConfigText(bad.yaml, 'my.yaml');
    } catch (e) {
      assert.ok(e instanceof ConfigError, String(e));
      assert.equal(e.problems.length, 1, e.message);
      const [p] = e.problems;
      assert.equal(p!.path, bad.path, e.message);
      assert.match(p!.message, bad.message);
      assert.equal(p!.line, bad.line, e.message);
      // The user sees FILE:LINE:COLUMN: PATH: MESSAGE.
      assert.match(formatProblem(p!), new RegExp(`^my\\.yaml:${bad.line}:\\d+: ${bad.path.replace(/\./g, '\\.')}: `));
      return;
    }
    assert.fail('config was accepted');
  });
}

test('what the rules allow: tcp and udp on one port, other addresses, a host range for one port, named and absolute volumes', () => {
  const { config } = loadConfigText(
    `${WEB}    ports: ["53:53/udp", "53:53", "127.0.0.1:8080:80", "127.0.0.2:8080:80", "8000-8009:80"]\n    volumes: ["data:/data", "/srv/www:/www:ro"]\n    env: {MODE: production}\n`,
    'my.yaml',
  );
  assert.equal(config.services[0]!.ports!.length, 5);
});
