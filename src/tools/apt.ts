// apt-get in the image's root, for the kernel: pure argv builders and parsers.
// Signatures are always verified: nothing here sets trusted=yes or an
// AllowInsecure/AllowUnauthenticated option, and an inherited trusted=yes is dropped.

/** The kernel's own APT source (in the image root while the kernel is fetched; removed afterwards). */
export const KERNEL_SOURCES_FILE = '/etc/apt/sources.list.d/d2d-kernel.sources';

export function aptGetArgv(root: string, args: readonly string[]): string[] {
  return ['chroot', root, 'apt-get', '-y', '--no-install-recommends', ...args];
}

/** What to ask apt for: the package, pinned to the extra suite when there is one (`pkg/suite` also
 * takes from that suite the dependencies that need its versions, and nothing else). */
export function kernelRequest(pkg: string, extraSuite: string | undefined): string {
  return extraSuite === undefined ? pkg : `${pkg}/${extraSuite}`;
}

/** Refresh the index of the kernel's source only; List-Cleanup=0 keeps the other sources' lists. */
export function updateKernelSourceArgv(root: string): string[] {
  return aptGetArgv(root, ['-o', `Dir::Etc::SourceList=${KERNEL_SOURCES_FILE}`, '-o', 'Dir::Etc::SourceParts=-', '-o', 'APT::Get::List-Cleanup=0', 'update']);
}

/** Parse `apt-get install -s` output: the packages apt would install, with versions and architectures ("all" for firmware). */
export function parseSimulatedInstalls(out: string): { name: string; version: string; arch: string }[] {
  const res: { name: string; version: string; arch: string }[] = [];
  for (const m of out.matchAll(/^Inst (\S+) (?:\[[^\]]*\] )?\((\S+)[^\n]*?(?:\[([a-z0-9-]+)\])?\)\s*$/gm)) res.push({ name: m[1]!, version: m[2]!, arch: m[3] ?? 'amd64' });
  return res;
}

/** The file name apt gives a downloaded package in /var/cache/apt/archives. */
export function debFileName(name: string, version: string, arch = 'amd64'): string {
  return `${name}_${version.replace(/:/g, '%3a')}_${arch}.deb`;
}

export interface AptSource {
  uris: string[];
  suites: string[];
  components: string[];
  /** Other deb822 fields (Signed-By, Architectures, ...), verbatim. */
  fields: Record<string, string>;
}

/** One-line option names and their deb822 field names. */
const OPTION_FIELDS: Record<string, string> = { 'signed-by': 'Signed-By', arch: 'Architectures', lang: 'Languages', target: 'Targets' };

/** The `deb` sources of an image's APT configuration, from one-line (.list) and deb822 (.sources) files. */
export function parseAptSources(files: { name: string; text: string }[]): AptSource[] {
  const out: AptSource[] = [];
  for (const { name, text } of files) {
    if (name.endsWith('.sources')) {
      for (const stanza of text.split(/\n\s*\n/)) {
        const f: Record<string, string> = {};
        let last = '';
        for (const line of stanza.split('\n')) {
          if (line.startsWith('#') || line.trim() === '') continue;
          if (/^\s/.test(line) && last !== '') f[last] += `\n${line}`; // continuation (an inline key)
          else {
            const m = /^([A-Za-z-]+):\s*(.*)$/.exec(line);
            if (m) f[(last = m[1]!)] = m[2]!;
          }
        }
        if (!(f.Types ?? '').split(/\s+/).includes('deb') || /^no$/i.test(f.Enabled ?? '')) continue;
        const { Types: _t, URIs, Suites, Components, Enabled: _e, ...rest } = f;
        out.push({ uris: (URIs ?? '').split(/\s+/).filter(Boolean), suites: (Suites ?? '').split(/\s+/).filter(Boolean), components: (Components ?? '').split(/\s+/).filter(Boolean), fields: rest });
      }
    } else {
      for (const raw of text.split('\n')) {
        const m = /^deb\s+(?:\[([^\]]*)\]\s+)?(\S+)\s+(\S+)\s*(.*)$/.exec(raw.trim());
        if (!m) continue;
        const fields: Record<string, string> = {};
        for (const opt of (m[1] ?? '').trim().split(/\s+/).filter(Boolean)) {
          const [k = '', v = ''] = opt.split('=');
          fields[OPTION_FIELDS[k] ?? k] = v.replace(/,/g, ' ');
        }
        out.push({ uris: [m[2]!], suites: [m[3]!], components: m[4]!.split(/\s+/).filter(Boolean), fields });
      }
    }
  }
  return out;
}

/**
 * The deb822 source for the kernel's suite: the same mirror(s), components and keys as the
 * image's main suite, with the suite replaced. Undefined when no source carries `mainSuite`.
 */
export function kernelSourceStanza(sources: AptSource[], mainSuite: string, kernelSuite: string): string | undefined {
  const main = sources.filter((s) => s.suites.includes(mainSuite));
  if (main.length === 0) return undefined;
  return main
    .map((s) => {
      const lines = ['Types: deb', `URIs: ${s.uris.join(' ')}`, `Suites: ${kernelSuite}`, `Components: ${s.components.join(' ')}`];
      for (const [k, v] of Object.entries(s.fields)) if (!/^trusted$/i.test(k) && !/^allow-insecure$/i.test(k)) lines.push(v.startsWith('\n') ? `${k}:${v}` : `${k}: ${v}`);
      return lines.join('\n') + '\n';
    })
    .join('\n');
}

/** The host's apt version (its first line: "apt 2.6.1 (amd64)"). */
export const aptVersionArgv = (): string[] => ['apt-get', '--version'];
