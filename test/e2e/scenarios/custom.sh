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
# No identity baked into the image (systemd, which openssh-server brings, writes a random one at install).
grep -q 'machine-id: made at boot' /var/log/d2d-boot.log || fail "/etc/machine-id came with the image: $(cat /etc/machine-id 2>&1)"
grep -Eqx '[0-9a-f]{32}' /etc/machine-id || fail "/etc/machine-id: $(cat /etc/machine-id 2>&1)"
ok "machine-id made at boot ($(cat /etc/machine-id))"
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
# Time zone, locale, keyboard.
[ "$(readlink /etc/localtime)" = /usr/share/zoneinfo/Europe/Berlin ] || fail "localtime -> $(readlink /etc/localtime)"
case $(date +%Z) in CET | CEST) ;; *) fail "time zone abbreviation $(date +%Z)" ;; esac
ok "time zone Europe/Berlin ($(date +%Z))"
[ "$(cat /etc/default/locale)" = "LANG=de_DE.UTF-8" ] || fail "/etc/default/locale: $(cat /etc/default/locale)"
locale -a | grep -qx 'de_DE.utf8' || fail "locale not generated: $(locale -a | tr '\n' ' ')"
[ "$(LC_ALL=de_DE.UTF-8 date -d 2024-01-01 +%A)" = Montag ] || fail "German day name: $(LC_ALL=de_DE.UTF-8 date -d 2024-01-01 +%A)"
[ ! -e /usr/share/i18n ] || fail "locale sources not pruned"
ok "locale de_DE.UTF-8 generated (2024-01-01 is a Montag), sources pruned"
grep -q '^de ' /etc/d2d/keymap.name || fail "keymap source: $(cat /etc/d2d/keymap.name)"
busybox dumpkmap >/tmp/kmap.now || fail "dumpkmap"
# The kernel's plain keymap (dumpkmap: "bkeymap", 256 flags, then 128 16-bit entries per table):
# on a German (QWERTZ) layout keycode 21 types z and keycode 44 types y; on the US one it is the other way.
key() { od -An -tu1 -j $((7 + 256 + $1 * 2)) -N1 /tmp/kmap.now | tr -d ' '; }
if [ "$(key 21)" != 122 ] || [ "$(key 44)" != 121 ]; then fail "keycodes 21/44 give $(key 21)/$(key 44), not z/y; $(grep -i keyboard /var/log/d2d-boot.log)"; fi
ok "console keymap de loaded: keycode 21 types z, 44 types y ($(cat /etc/d2d/keymap.name))"

# The remote API: TLS on 2376 only, certificates made on this machine.
n=0
until ss -ltn | grep -Eq ':2376\b'; do
	n=$((n + 1))
	[ $n -lt 60 ] || fail "nothing listens on 2376: $(tail -n 3 /var/log/docker.log)"
	sleep 1
done
if ss -ltn | grep -Eq ':2375\b'; then fail "plain-TCP API port 2375 is open"; fi
san=$(openssl x509 -in /var/lib/d2d/tls/server-cert.pem -noout -ext subjectAltName)
echo "$san" | grep -q 'DNS:custombox' || fail "server certificate names: $san"
echo "$san" | grep -q 'DNS:custombox.internal' || fail "configured name missing: $san"
openssl verify -CAfile /var/lib/d2d/tls/ca.pem /var/lib/d2d/tls/client/cert.pem >/dev/null || fail "client certificate does not verify"
[ "$(stat -c %a /var/lib/d2d/tls/ca-key.pem)" = 600 ] || fail "CA key mode"
ok "remote API on 2376 with TLS; certificates made at boot ($(echo "$san" | tr -d ' ' | tail -n 1))"
exit 0
