// Names of a desktop session that the config's rules must know before any plan is made
// (a service may not take a session's container name; a folder may not hide its home).
// The plan reuses them (src/plan/desktop.ts).

/** Where a session's app finds its home in its container. */
export const CONTAINER_HOME = '/home/user';

/** The container a desktop session runs in. */
export const containerName = (session: string): string => `d2d-desktop-${session}`;
