// The size budget of the default image (issue 7): the ISO built from the
// embedded default config, BIOS + UEFI, shell + Docker engine. The core e2e
// test fails when a build passes it; bench/size.ts prints the headroom.
// Decimal megabytes, as `ls -l` / the manifest's byte counts read.

/** The default ISO may not be bigger than this. */
export const DEFAULT_ISO_BUDGET_BYTES = 50_000_000;
