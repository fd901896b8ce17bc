// Stage "locale" (inside the hook, after the overlay): time zone, locale and
// console keyboard of the machine. Each default (UTC, C.UTF-8, us) needs no
// package and no file; anything else is checked against what the image's own
// packages provide, so a misspelt name fails the build with its name.
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { run } from '../exec/run.js';
import { ExitCode, StageError } from '../errors.js';
import { needsLocales, needsTzdata } from '../plan/plan.js';
import type { Context } from '../context.js';
import { keymapArgv, localeGenArgv } from '../tools/chroot.js';

/** The line of /usr/share/i18n/SUPPORTED for a locale ("de_DE.UTF-8 UTF-8"), if glibc knows it. */
export function supportedLine(supported: string, locale: string): string | undefined {
  return supported.split('\n').find((l) => l.split(' ')[0] === locale);
}

/** Keymap files named NAME.kmap.gz under a keymaps folder (i386 first: the PC layouts). */
export function findKeymaps(dir: string, name: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name === `${name}.kmap.gz` || e.name === `${name}.kmap`) out.push(p);
    }
  };
  if (existsSync(dir)) walk(dir);
  return out.sort((a, b) => Number(!a.includes('/i386/')) - Number(!b.includes('/i386/')) || a.localeCompare(b));
}

export async function applyLocale(ctx: Context, root: string, logFile: string): Promise<void> {
  const { timezone, locale, keyboard } = ctx.plan.system;
  const cfg = (what: string, msg: string, hint: string): StageError => new StageError('locale', `${what}: ${msg}`, { exitCode: ExitCode.config, hint, logPath: logFile });

  rmSync(join(root, 'etc/localtime'), { force: true });
  if (needsTzdata(timezone)) {
    const zone = join(root, 'usr/share/zoneinfo', timezone);
    if (!existsSync(zone)) throw cfg('timezone', `'${timezone}' is not a time zone of tzdata`, 'names look like Europe/Berlin or America/New_York (ls /usr/share/zoneinfo)');
    symlinkSync(`/usr/share/zoneinfo/${timezone}`, join(root, 'etc/localtime'));
  }
  writeFileSync(join(root, 'etc/timezone'), `${needsTzdata(timezone) ? timezone : 'Etc/UTC'}\n`);

  if (needsLocales(locale)) {
    const supported = readFileSync(join(root, 'usr/share/i18n/SUPPORTED'), 'utf8');
    const line = supportedLine(supported, locale);
    if (!line) throw cfg('locale', `'${locale}' is not a locale glibc supports`, 'see /usr/share/i18n/SUPPORTED of the locales package, e.g. de_DE.UTF-8');
    writeFileSync(join(root, 'etc/locale.gen'), `${line}\n`);
    await run(localeGenArgv(root), { log: logFile });
  }
  writeFileSync(join(root, 'etc/default/locale'), `LANG=${locale}\n`);

  rmSync(join(root, 'etc/d2d/keymap.bmap'), { force: true });
  if (keyboard !== 'us') {
    const maps = findKeymaps(join(root, 'usr/share/keymaps'), keyboard);
    if (maps.length === 0) throw cfg('keyboard', `no console keymap named '${keyboard}'`, 'console-data names them like de, fr, uk, de-latin1 (ls -R /usr/share/keymaps)');
    mkdirSync(join(root, 'etc/d2d'), { recursive: true });
    // The binary map busybox loadkmap reads at boot; made now, so the image needs no kbd at boot.
    await run(keymapArgv(root, `/${relative(root, maps[0]!)}`), { log: logFile });
    writeFileSync(join(root, 'etc/d2d/keymap.name'), `${keyboard} ${relative(root, maps[0]!)}\n`);
  }
}
