// argv for xz and zstd: the root's payload, stage 1's own archive, a preloaded image, and the
// decompressors for what a build is handed (kernel modules, image tarballs).

/** xz's dictionary for the engine's programs at level 9: wide enough to span them (docs/size.md). */
export const XZ_DICT = '128MiB';
/** ... and for the rest of the archive, which gains nothing from more. */
export const XZ_REST_DICT = '32MiB';

export function compressArgv(kind: 'xz' | 'zstd', level: number, input: string, dict: string = XZ_DICT): string[] {
  // xz: CRC32 check; the x86 BCJ filter (calls and jumps made position-independent: 2% smaller). Stage 1
  // decodes it with xzdec (busybox's unxz has no BCJ and refuses dictionaries over 64 MiB).
  // One thread, so one block: with -T0 xz cuts the input into independent blocks and loses what
  // files in different blocks share. Single-threaded output is the same on any machine.
  // Level 9 is the size setting: the extreme variant (9e) and the given dictionary.
  if (kind === 'xz') {
    const lzma2 = level >= 9 ? `preset=9e,dict=${dict}` : `preset=${level}`;
    return ['xz', '-T1', '--x86', `--lzma2=${lzma2}`, '--check=crc32', '--keep', '--force', input];
  }
  return ['zstd', '-q', '-T0', `-${level}`, '--keep', '--force', input];
}

/**
 * The kernel's own xz decoder unpacks stage 1: CRC32 check (what it accepts), a dictionary no bigger than
 * stage 1 needs (the kernel allocates the whole dictionary the header asks for).
 */
export function stage1XzArgv(file: string): string[] {
  return ['xz', '-T1', '--lzma2=preset=9e,dict=8MiB', '--check=crc32', '--force', file];
}

/** A preloaded image's archive, as the image's import-at-boot reads it (zstd: fast to unpack under TCG). */
export function imageZstdArgv(level: number, input: string, output: string): string[] {
  return ['zstd', '-q', '-T0', `-${level}`, '-f', '-o', output, input];
}

/** Decompress files in place (each FILE.xz or FILE.zst becomes FILE): a kernel's compressed modules. */
export function decompressInPlaceArgv(kind: 'xz' | 'zst', files: readonly string[]): string[] {
  return kind === 'xz' ? ['xz', '-d', '-f', ...files] : ['zstd', '-q', '-d', '-f', '--rm', ...files];
}

export type StreamCompression = 'gzip' | 'xz' | 'zstd' | 'bzip2';

/** A decompressor from one file into another (through sh: the tools write to stdout). */
export function decompressToArgv(kind: StreamCompression, input: string, output: string): string[] {
  const tool: Record<StreamCompression, string[]> = {
    gzip: ['gzip', '-d', '-c'],
    xz: ['xz', '-d', '-c', '-T0'],
    zstd: ['zstd', '-d', '-c', '-q'],
    bzip2: ['bzip2', '-d', '-c'],
  };
  return ['sh', '-c', `${tool[kind].join(' ')} "$1" > "$2"`, 'sh', input, output];
}
