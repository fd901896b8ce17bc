#!/bin/sh
# Runs inside the image of test/e2e/images.test.ts: preloaded images from a
# tarball (OCI archive), a registry and Debian packages; a service; a drop-in
# medium with a corrupt tarball. files/expect lists "TAG ID" lines.
set -u
F=/mnt/d2d-test/files
BOOTLOG=/var/log/d2d-boot.log
fail() {
	echo "FAIL: $*"
	exit 1
}
ok() { echo "ok: $*"; }

# The imports and services run in the background of the boot: wait for the end.
n=0
until grep -q 'containers: up' $BOOTLOG; do
	n=$((n + 1))
	[ $n -lt 300 ] || fail "the boot never said 'containers: up': $(tail -n 5 $BOOTLOG)"
	sleep 1
done
ok "boot finished its imports ($(grep 'containers: up' $BOOTLOG))"

# The same config's file, hook and kernel (issue 3: one config with all of them).
[ "$(uname -r)" = "$(cat $F/expected-kernel)" ] || fail "kernel $(uname -r), expected $(cat $F/expected-kernel)"
case $(uname -r) in 7.*) ;; *) fail "not the backports kernel: $(uname -r)" ;; esac
ok "running the configured kernel $(uname -r) (trixie-backports)"
[ "$(cat /etc/d2d-e2e/motd)" = "one config" ] || fail "file /etc/d2d-e2e/motd: $(cat /etc/d2d-e2e/motd)"
[ "$(stat -c %a /etc/d2d-e2e/motd)" = 640 ] || fail "file mode $(stat -c %a /etc/d2d-e2e/motd)"
grep -q '^d2d-e2e-extra' /etc/d2d-e2e-hook || fail "hook effect: $(cat /etc/d2d-e2e-hook 2>&1)"
ok "the config's file and hook are there"

# Booted through `debian2docker serve`: the machine file's host name (d2d.hostname=).
if [ -f $F/expected-hostname ]; then
	[ "$(hostname)" = "$(cat $F/expected-hostname)" ] || fail "host name $(hostname), expected $(cat $F/expected-hostname) (cmdline: $(cat /proc/cmdline))"
	grep -q "d2d.hostname=$(cat $F/expected-hostname)" /proc/cmdline || fail "no d2d.hostname on the command line: $(cat /proc/cmdline)"
	ok "named $(hostname) by its machine file"
fi
[ "$(cat /usr/share/d2d-e2e-extra/hello 2>&1)" = "from the extra repository" ] || fail "package from the extra APT repository"
ok "package from the extra signed APT repository installed"

while read -r tag id; do
	got=$(docker image inspect --format '{{.Id}}' "$tag" 2>&1) || fail "no image $tag: $got"
	[ "$got" = "$id" ] || fail "$tag is $got, expected $id"
	ok "$tag present with id $id"
done <$F/expect

# Order: foreground images, then services, then background images.
fg=$(grep -n 'images: fg:' $BOOTLOG | head -n 1 | cut -d: -f1)
sv=$(grep -n 'service web: started' $BOOTLOG | head -n 1 | cut -d: -f1)
bg=$(grep -n 'images: bg: 1 imported' $BOOTLOG | head -n 1 | cut -d: -f1)
if [ -z "$fg" ] || [ -z "$sv" ] || [ -z "$bg" ]; then fail "boot log lacks a step: $(grep -E 'images|service' $BOOTLOG)"; fi
if [ "$fg" -gt "$sv" ] || [ "$sv" -gt "$bg" ]; then fail "order fg=$fg service=$sv bg=$bg"; fi
ok "foreground images, then the service, then the background image"

if [ "$(cat $F/dropin)" = no ]; then
	# Network boot: what differs from the CD is where the archives come from. The images are the
	# same ones (their ids checked above), so running them again, the second import pass and the
	# service's details are the CD run's checks.
	ls /var/lib/d2d/boot-images/index >/dev/null || fail "network boot images folder"
	left=$(find /var/lib/d2d/boot-images -name '*.tar.zst' | wc -l)
	[ "$left" -eq 0 ] || fail "$left archives left in RAM after import"
	ok "network boot: images came from the images initrd, archives freed after import"
	exit 0
fi

out=$(docker run --rm d2d-e2e/oci:1 cat /msg 2>&1)
[ "$out" = from-oci-archive ] || fail "tarball image: $out"
ok "image from an OCI archive runs: $out"
reg=$(cat $F/registry-tag)
out=$(docker run --rm "$reg" cat /msg 2>&1)
[ "$out" = from-registry ] || fail "registry image: $out"
ok "image from the registry runs: $out"
out=$(docker run --rm d2d-e2e/hello:1 2>&1)
[ "$out" = "Hello, world!" ] || fail "Debian-built image: $out"
ok "image built from Debian packages runs: $out"
[ "$(docker image inspect --format '{{.Id}}' hello:e2e)" = "$(docker image inspect --format '{{.Id}}' d2d-e2e/hello:1)" ] || fail "extra tag hello:e2e"
ok "extra tag from the config applied"
[ "$(docker image inspect --format '{{.Config.User}}' d2d-e2e/hello:1)" = nobody ] || fail "image user"
ok "image config (user) set"

# Idempotent: a second pass loads nothing.
/usr/lib/d2d/images fg >/dev/null 2>&1
/usr/lib/d2d/images bg >/dev/null 2>&1
tail -n 2 $BOOTLOG | grep -q 'images: fg: 0 imported, 2 already present, 0 skipped' || fail "second fg pass: $(tail -n 2 $BOOTLOG)"
tail -n 1 $BOOTLOG | grep -q 'images: bg: 0 imported, 1 already present, 0 skipped' || fail "second bg pass: $(tail -n 1 $BOOTLOG)"
ok "a second import pass loads nothing"

st=$(docker inspect --format '{{.State.Running}} {{.HostConfig.RestartPolicy.Name}} {{index .Config.Labels "d2d.service"}}' web 2>&1)
[ "$st" = "true unless-stopped web" ] || fail "service web: $st"
[ "$(docker exec web cat /data/greeting)" = hi-from-env ] || fail "service env/volume"
docker volume inspect webdata >/dev/null 2>&1 || fail "named volume webdata"
out=$(busybox wget -qO- http://127.0.0.1:8080/ 2>&1)
[ "$out" = service-ok ] || fail "service port 8080: $out"
ok "service web runs with its env, volume, port and restart policy"

if [ "$(cat $F/dropin)" = yes ]; then
	grep -q 'images: SKIPPED corrupt.tar' $BOOTLOG || fail "corrupt tarball not reported: $(grep images $BOOTLOG)"
	grep -q 'corrupt.tar: docker load failed' /var/log/d2d-images.log || fail "corrupt tarball not in the images log"
	out=$(docker run --rm d2d-e2e/dropin:1 cat /msg 2>&1)
	[ "$out" = from-dropin ] || fail "drop-in image: $out"
	ok "drop-in medium: the good tarball imported, the corrupt one skipped and reported"
fi
exit 0
