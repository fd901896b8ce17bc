// GNU cpio: a newc archive of the paths given on standard input, relative to the
// folder it runs in. --reproducible numbers inodes from 1 and zeroes device
// numbers, so the same tree gives the same bytes.

/** Archive the paths on stdin (run with cwd = the tree) into `output`; `rootOwned`: every entry owned by 0:0. */
export function cpioCreateArgv(output: string, opts: { rootOwned?: boolean } = {}): string[] {
  return ['cpio', '--quiet', '-o', '-H', 'newc', '--reproducible', ...(opts.rootOwned ? ['-R', '0:0'] : []), '-O', output];
}
