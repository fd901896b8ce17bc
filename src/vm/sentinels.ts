// The console lines the host waits for: the contract between the image's scripts
// (target/, which print them) and the harness, the benchmarks and the tests (which
// wait for them). Written once here; test/unit/sentinels.test.ts checks that
// target/ still prints each one.
import { GUEST_CRASH } from './crash.js';

/** The engine answers (target/rootfs/usr/lib/d2d/docker-ready, through lib.sh's `say`). */
export const DOCKER_READY = /d2d: docker: ready/;
/** Every preloaded image imported and every service started (target/rootfs/usr/lib/d2d/containers-up). */
export const CONTAINERS_UP = /d2d: containers: up/;
/** Stage 1 gave up (target/stage1/init's `fatal`). */
export const STAGE1_FATAL = /d2d: FATAL/;
/** A boot that will not reach Docker: stage 1 gave up, the guest kernel crashed, or its memory ran out. */
export const BOOT_FAILED = new RegExp(`${STAGE1_FATAL.source}|${GUEST_CRASH.source}|Out of memory`);
/**
 * GRUB's countdown under its menu (on the serial console too: src/tools/grub.ts grubHead). A harness that
 * boots the default entry anyway presses Enter here rather than wait out the timeout: GRUB polls the
 * keyboard while it counts, so under TCG the countdown is seconds of a host core per boot.
 */
export const BOOT_MENU_COUNTDOWN = /The highlighted entry will be executed automatically in \d+s/;
