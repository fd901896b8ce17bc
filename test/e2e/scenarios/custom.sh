#!/bin/sh
# Runs inside the customised image (test/e2e/fixtures/custom.yaml).
set -u
fail() {
	echo "FAIL: $*"
	exit 1
}
ok() { echo "ok: $*"; }

[ "$(hostname)" = custombox ] || fail "hostname is $(hostname)"
ok "hostname custombox"
[ "$(cat /etc/d2d-e2e/hello)" = "hello from the config" ] || fail "file content"
[ "$(stat -c %a /etc/d2d-e2e/hello)" = 600 ] || fail "file mode $(stat -c %a /etc/d2d-e2e/hello)"
ok "inline file with mode 0600"
[ "$(greet)" = "greetings from custombox" ] || fail "script from a source file: $(greet 2>&1)"
ok "script from a source file, executable"
[ "$(cat /srv/site/index.html)" = "<h1>site</h1>" ] || fail "folder copied"
[ "$(stat -c %U:%G /srv/site/index.html)" = nobody:nogroup ] || fail "owner $(stat -c %U:%G /srv/site/index.html)"
ok "folder with owner nobody:nogroup"
grep -q '^docker.io' /etc/d2d-e2e-after-packages || fail "after-packages hook: $(cat /etc/d2d-e2e-after-packages 2>&1)"
ok "after-packages hook ran with the packages installed"
[ "$(cat /etc/d2d-e2e-before-pack)" = "before-pack saw hello from the config" ] || fail "before-pack hook"
ok "before-pack hook ran after the files were placed"
exit 0
