// npm's "prepare" step (package.json): npm runs it after `npm install` / `npm ci` in a checkout,
// when it installs this package from a git URL or a folder, and before `npm pack`. It compiles
// dist/ afresh, so that an installed `debian2docker` has its program and a packed tarball carries
// no file left in dist/ by code since removed. Plain Node, no dependency: it must run before any.
import { existsSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url)).replace(/\/$/, '');
const dist = fileURLToPath(new URL('../dist', import.meta.url));
let tsc;
try {
  // Resolved as Node would, so a hoisted node_modules (a workspace, a parent folder) works too.
  tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
} catch {
  if (existsSync(`${dist}/src/main.js`)) {
    // e.g. `npm ci --omit=dev` after a build: nothing to compile with, and a program to run.
    process.stderr.write('debian2docker: TypeScript is not installed here; keeping the dist/ already built\n');
    process.exit(0);
  }
  // `npm install -g FOLDER` links the folder without installing its dependencies.
  process.stderr.write(`debian2docker: cannot build: TypeScript is not installed in ${root} (run \`npm ci\` there first, then install again)\n`);
  process.exit(1);
}
rmSync(dist, { recursive: true, force: true });
const r = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: root, stdio: 'inherit' });
process.exit(r.status ?? 1);
