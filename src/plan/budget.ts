// The size budget of the default image (issue 7): the ISO built from the
// embedded default config, BIOS + UEFI, shell + Docker engine. The core e2e
// test fails when a build passes the budget; bench/size.ts prints the headroom.
// Decimal megabytes, as the manifest's byte counts read.

/**
 * The ceiling CI enforces: the measured default ISO plus about 1 MB of headroom. Measured with
 * trixie's docker.io 26.1.5 and linux 6.12, with issue 5's persistence and installer: 71.4 MB, then
 * 64.3 MB once the engine's unused Go exports are blanked (src/stages/goexports.ts), 63.1 MB with the
 * relocated pointers' in-file copies zeroed (src/stages/relative.ts), four build-time tools pruned and a
 * tighter EFI image, 61.8 MB with stage 1's files kept once (src/stages/stage1shared.ts), 61.4 MB with
 * the relative relocations packed as RELR, 60.6 MB with crun for runc (docs/size.md), 60.9 MB with Swarm
 * mode's modules (vxlan, ip_vs, xfrm/esp: 60,884,992 bytes), 49.3 MB with the tailored kernel as the
 * default (issue 17: 49,295,360 bytes; no module files), 48.4 MB with one GRUB EFI program on the ISO
 * instead of two (48,404,480 bytes, 2026-12-07). Raise it only with a reason in docs/size.md.
 */
export const DEFAULT_ISO_BUDGET_BYTES = 49_500_000;

/**
 * Issue 7's goal, reached with the tailored kernel. bench/size.ts shows the distance to it and to
 * issue 17's 45 MB (SIZE_TARGET_BYTES).
 */
export const SIZE_GOAL_BYTES = 50_000_000;

/** Issue 17's target for the default ISO: not reached yet (docs/size.md, "What remains"). */
export const SIZE_TARGET_BYTES = 45_000_000;
