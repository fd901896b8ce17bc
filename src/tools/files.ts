// argv for coreutils, findutils and tar on the build's own files.

/** Copy a folder's contents into another (cp -R FROM/. TO/); keepMode: modes kept, ownership not (the builder's own). */
export function copyTreeArgv(from: string, to: string, o: { keepMode?: boolean } = {}): string[] {
  return ['cp', '-R', ...(o.keepMode ? ['--no-preserve=ownership', '--preserve=mode'] : []), `${from}/.`, `${to}/`];
}

/** Every path under the current folder, on its file system only, relative ("./usr/bin/..."). */
export const listTreeArgv = (): string[] => ['find', '.', '-xdev', '-mindepth', '1'];

export const moveArgv = (from: string, to: string): string[] => ['mv', from, to];

/** The names in a tar archive. */
export const tarListArgv = (archive: string): string[] => ['tar', '-tf', archive];

/** One member of a tar archive, to stdout. */
export const tarReadArgv = (archive: string, member: string): string[] => ['tar', '-xOf', archive, member];
