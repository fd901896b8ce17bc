#!/bin/sh
# Runs inside an image rebuilt from the stage cache after one file of the
# config changed (test/e2e/repro.test.ts). files/expected-* hold what the
# config put into the image: the changed file, its mode and owner.
set -u
fail() {
	echo "FAIL: $*"
	exit 1
}
ok() { echo "ok: $*"; }

want=$(cat ./files/expected-content 2>/dev/null) || fail "no expected content on the test disk"
got=$(cat /etc/d2d-rebuild-probe 2>/dev/null) || fail "no /etc/d2d-rebuild-probe in the image"
[ "$got" = "$want" ] || fail "/etc/d2d-rebuild-probe holds '$got', expected '$want'"
ok "the changed file is in the image"

# A file in a folder the root file system does not have, with the mode and owner the config gave.
[ -x /opt/d2d-rebuild/bin/hello ] || fail "/opt/d2d-rebuild/bin/hello is missing or not executable"
[ "$(/opt/d2d-rebuild/bin/hello)" = "hello from the files layer" ] || fail "the script did not run"
perms=$(stat -c '%a %U %G' /opt/d2d-rebuild/bin/hello)
[ "$perms" = "750 nobody nogroup" ] || fail "mode/owner is '$perms', expected '750 nobody nogroup'"
[ "$(stat -c '%a %U' /opt/d2d-rebuild)" = "755 root" ] || fail "the new folder /opt/d2d-rebuild is $(stat -c '%a %U' /opt/d2d-rebuild)"
ok "a new folder, a script with mode 0750 and owner nobody:nogroup"

# The build names itself, though its root file system came from another config's build.
want=$(cat ./files/expected-build 2>/dev/null) || fail "no expected build on the test disk"
grep -qx "CONFIG_SHA256=$want" /etc/d2d-release || fail "/etc/d2d-release names another build: $(tr '\n' ' ' </etc/d2d-release)"
grep -qx "BUILD=$want" /etc/d2d/build || fail "/etc/d2d/build names another build: $(tr '\n' ' ' </etc/d2d/build)"
ok "the image names its own build ($want)"

# The root file system's own files are untouched by the layer.
[ -x /usr/sbin/dockerd ] || fail "dockerd is missing"
[ -f /usr/lib/d2d/rootfs-complete ] || fail "the root file system's sentinel is missing"
ok "the root file system is complete"
exit 0
