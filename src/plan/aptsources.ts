// Extra APT repositories (config debian.sources) as deb822 .sources files with
// the repository's key embedded in Signed-By: apt trusts that key for that
// source only, the same file works for mmdebstrap's apt outside the chroot and
// for apt inside it, and no key file path has to exist in both places.

export interface AptSource {
  uri: string;
  suite: string;
  components?: string[];
  key: string; // path of the ASCII-armored key on the build host
}

/** A deb822 stanza; the armored key goes in Signed-By, one space in front of each line, "." for empty ones. */
export function deb822Source(src: Omit<AptSource, 'key'>, armoredKey: string): string {
  const key = armoredKey
    .trim()
    .split(/\r?\n/)
    .map((l) => (l.trim() === '' ? ' .' : ` ${l.trimEnd()}`))
    .join('\n');
  const comps = src.components?.length ? `Components: ${src.components.join(' ')}\n` : '';
  return `Types: deb\nURIs: ${src.uri}\nSuites: ${src.suite}\n${comps}Signed-By:\n${key}\n`;
}

/** The file name in /etc/apt/sources.list.d of the i-th extra source. */
export const sourceFileName = (i: number): string => `d2d-extra-${i + 1}.sources`;
