// Shared by the desktop test files: what `docker inspect` in the guest says of a session's container.
import type { Session } from '../support/vmsession.js';

export interface Inspect {
  Id: string;
  HostConfig: { Privileged: boolean; CapDrop: string[] | null; CapAdd: string[] | null; SecurityOpt: string[] | null; NetworkMode: string; IpcMode: string; PidMode: string; Binds: string[] | null; Devices: unknown[] | null };
  Config: { User: string; Env: string[] };
  Mounts: { Source: string; Destination: string; Type: string }[];
}

/** `docker inspect d2d-desktop-NAME` in the guest. */
export async function inspect(s: Session, name: string): Promise<Inspect> {
  const out = await s.sh(`docker inspect d2d-desktop-${name}`);
  return (JSON.parse(out.slice(out.indexOf('['))) as Inspect[])[0]!;
}
