// What the outer build and the in-hook stages (src/inside.ts) agree on. A module
// of its own because inside.ts runs its main() on import and cannot be imported.

/** Rootless builds: the in-hook work folder, inside the chroot (left out of the image). */
export const INNER_WORKDIR = '.d2d-work';

/** Prefix of the error line the hook prints, for when inside-error.json cannot be written. */
export const ERROR_MARKER = 'D2D-INSIDE-ERROR ';

/** An in-hook failure, as written to inside-error.json or after ERROR_MARKER. */
export interface InsideError {
  code: string;
  message: string;
  hint?: string;
  /** The process exit code the error maps to (e.g. 3 for an unknown kernel package). */
  exitCode?: number;
  stage?: string;
  logPath?: string;
}
