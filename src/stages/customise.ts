// Stages "files" and "hooks" (inside mmdebstrap's customize hook): the user's
// own files, and the user's scripts run in the image's root at named points.
import { chmodSync, copyFileSync, cpSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { run } from '../exec/run.js';
import { CommandError, StageError } from '../errors.js';
import type { Context } from '../context.js';
import type { BuildPlan } from '../plan/plan.js';
import { chownArgv, hookArgv } from '../tools/chroot.js';

export type HookPoint = keyof BuildPlan['hooks'];

/** A hook's name for messages: its file name, or its first line. */
export function hookName(point: HookPoint, index: number, hook: BuildPlan['hooks'][HookPoint][number]): string {
  const what = typeof hook === 'string' ? `"${hook.split('\n')[0]!.slice(0, 40)}"` : basename(hook.file);
  return `hooks.${point}[${index}] (${what})`;
}

export async function runHooks(ctx: Context, root: string, point: HookPoint, logFile: string): Promise<number> {
  const hooks = ctx.plan.hooks[point];
  for (const [i, h] of hooks.entries()) {
    const name = hookName(point, i, h);
    const script = typeof h === 'string' ? h : readFileSync(h.file, 'utf8');
    try {
      // The script goes in on stdin: nothing is left behind in the image.
      await run(hookArgv(root), { input: script, log: logFile, env: { D2D_HOOK: point, DEBIAN_FRONTEND: 'noninteractive' } });
    } catch (e) {
      if (!(e instanceof CommandError)) throw e;
      throw new StageError(`hooks`, `${name} failed (exit status ${e.status})\n${e.tail}`, { logPath: logFile, hint: 'the hook\'s output is in the log' });
    }
  }
  return hooks.length;
}

export async function applyFiles(ctx: Context, root: string, logFile: string): Promise<number> {
  for (const [i, f] of ctx.plan.files.entries()) {
    const dst = join(root, f.path);
    mkdirSync(dirname(dst), { recursive: true });
    if (f.content !== undefined) {
      rmSync(dst, { force: true });
      writeFileSync(dst, f.content);
    } else if (f.source !== undefined) {
      if (statSync(f.source).isDirectory()) cpSync(f.source, dst, { recursive: true });
      else copyFileSync(f.source, dst);
    }
    if (f.mode !== undefined) chmodSync(dst, parseInt(f.mode, 8));
    if (f.owner !== undefined) {
      // Names are looked up in the image's own passwd/group.
      await run(chownArgv(root, f.owner, f.path), { log: logFile }).catch((e: unknown) => {
        throw new StageError('files', `files[${i}]: cannot set owner '${f.owner}' on ${f.path} (no such user or group in the image?)`, { logPath: logFile, cause: e });
      });
    }
  }
  return ctx.plan.files.length;
}
