// Rules across entries of a config: things that are each valid alone but clash on the booted
// machine (two services on one host port, two images claiming one tag, two files at one path).
// Each problem is reported at the later entry, the one that would lose at boot.
import { CONTAINER_HOME, containerName } from './desktop.js';
import { refTag } from './images.js';
import { mountDest, parsePortSpec, type PortSpec } from './values.js';
import type { Config } from './schema.js';

export type Issue = { path: (string | number)[]; message: string };

/** A TCP port the machine itself listens on when a feature is on: a service cannot publish it. */
function systemPorts(c: Config): { port: number; what: string }[] {
  const out: { port: number; what: string }[] = [];
  if (c.docker['remote-api'].enabled) out.push({ port: c.docker['remote-api'].port, what: "the Docker remote API's (docker.remote-api.port)" });
  if (c.ssh.enabled) out.push({ port: 22, what: "the SSH server's (ssh.enabled)" });
  return out;
}

/** Docker publishes on every address unless given one: two mappings clash if either has none, or both the same. */
function clash(a: PortSpec, b: PortSpec): boolean {
  return a.proto === b.proto && (a.ip === undefined || b.ip === undefined || a.ip === b.ip) && a.host[0] <= b.host[1] && b.host[0] <= a.host[1];
}

function servicePorts(c: Config): Issue[] {
  const issues: Issue[] = [];
  const seen: { spec: PortSpec; service: string; path: string }[] = [];
  const system = systemPorts(c);
  c.services.forEach((sv, i) => {
    (sv.ports ?? []).forEach((p, j) => {
      const spec = parsePortSpec(p);
      if (typeof spec === 'string') return; // reported by the schema
      const path = ['services', i, 'ports', j];
      const port = spec.host[0] === spec.host[1] ? `${spec.host[0]}` : `${spec.host[0]}-${spec.host[1]}`;
      const sys = system.find((s) => spec.proto === 'tcp' && spec.host[0] <= s.port && s.port <= spec.host[1]);
      const other = seen.find((o) => clash(o.spec, spec));
      if (sys) issues.push({ path, message: `host port ${sys.port}/tcp is ${sys.what}: publish the service on another port` });
      else if (other) issues.push({ path, message: `host port ${port}/${spec.proto} is already published by service '${other.service}' (${other.path})` });
      seen.push({ spec, service: sv.name, path: path.join('.') });
    });
  });
  return issues;
}

/** Docker refuses two mounts at one container path ("Duplicate mount point"). */
function mounts(c: Config): Issue[] {
  const issues: Issue[] = [];
  const check = (list: readonly string[], at: (string | number)[], reserved: Map<string, string>): void => {
    const seen = new Map(reserved);
    list.forEach((v, j) => {
      const dest = mountDest(v);
      const other = seen.get(dest);
      if (other) issues.push({ path: [...at, j], message: `${dest} is already mounted in this container (${other}): Docker refuses two mounts at one path` });
      seen.set(dest, [...at, j].join('.'));
    });
  };
  c.services.forEach((sv, i) => check(sv.volumes ?? [], ['services', i, 'volumes'], new Map()));
  // A session's home volume is mounted at its home (plan/desktop.ts).
  c.desktop.sessions.forEach((s, i) => check(s.folders ?? [], ['desktop', 'sessions', i, 'folders'], new Map([[CONTAINER_HOME, "the session's home volume"]])));
  return issues;
}

/** A tag names one image; a second image with it would silently take it over at boot. */
function imageTags(c: Config): Issue[] {
  const issues: Issue[] = [];
  const owner = new Map<string, string>();
  c.images.forEach((im, i) => {
    const own: { tag: string; path: (string | number)[] }[] = [];
    if ('tag' in im) own.push({ tag: im.tag, path: ['images', i, 'tag'] });
    if ('ref' in im) {
      const t = refTag(im.ref);
      if (t) own.push({ tag: t, path: ['images', i, 'ref'] });
    }
    (im.tags ?? []).forEach((t, j) => own.push({ tag: t, path: ['images', i, 'tags', j] }));
    for (const { tag, path } of own) {
      const other = owner.get(tag);
      if (other !== undefined) issues.push({ path, message: `the tag ${tag} is already given by ${other}: a tag names one image` });
      else owner.set(tag, path.join('.'));
    }
  });
  return issues;
}

/** Two files entries at one path: the later would silently replace the earlier. */
function filePaths(c: Config): Issue[] {
  const issues: Issue[] = [];
  const seen = new Map<string, number>();
  c.files.forEach((f, i) => {
    const norm = f.path.replace(/\/+/g, '/').replace(/(.)\/$/, '$1');
    const other = seen.get(norm);
    if (other !== undefined) issues.push({ path: ['files', i, 'path'], message: `${f.path} is already written by files.${other}: give it once` });
    else seen.set(norm, i);
  });
  return issues;
}

/** A service container named like a session's container: the second `docker run` would fail. */
function containerNames(c: Config): Issue[] {
  const sessions = new Set(c.desktop.sessions.map((s) => containerName(s.name)));
  return c.services.flatMap((sv, i) =>
    sessions.has(sv.name) ? [{ path: ['services', i, 'name'], message: `'${sv.name}' is the container of desktop session '${sv.name.slice(containerName('').length)}': choose another name` }] : [],
  );
}

export function crossRules(c: Config): Issue[] {
  return [...servicePorts(c), ...mounts(c), ...imageTags(c), ...filePaths(c), ...containerNames(c)];
}
