#!/bin/sh
# shellcheck disable=SC2317 # functions called through wait_for look unreachable to it
# Runs inside the Wi-Fi test image (test/e2e/wifi.test.ts): Debian's kernel with
# mac80211_hwsim kept, hostapd added, and one network in its config (wifi.networks:
# d2d-test, its passphrase from a file). Two simulated radios: an access point on
# the second, in its own network namespace with its own DHCP and web server, and
# the image's own client on the first, as a machine with one Wi-Fi card.
set -u
fail() {
	echo "FAIL: $*"
	echo "--- wpa_supplicant.log"
	tail -n 30 /var/log/wpa_supplicant.log 2>/dev/null
	echo "--- dmesg"
	dmesg | grep -iE 'wlan|cfg80211|regulatory|hwsim' | tail -n 20
	exit 1
}
ok() { echo "ok: $*"; }
T=/run/d2d-wifi-test
mkdir -p "$T/www"

# Wait for a command (often a function of this script) to succeed, up to N half-seconds: the events
# come from a guest under TCG.
wait_for() { # N DESCRIPTION COMMAND...
	w_n=$1 w_what=$2
	shift 2
	while [ "$w_n" -gt 0 ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.5
		w_n=$((w_n - 1))
	done
	fail "timed out waiting for $w_what"
}

# 0. The image's Wi-Fi: the client, the tool, the regulatory database from stage 1, and the
# joined networks' folder among the persisted settings.
command -v wpa_supplicant >/dev/null || fail "no wpa_supplicant"
for f in regulatory.db regulatory.db.p7s; do
	{ [ -f "/lib/firmware/$f" ] && [ ! -L "/lib/firmware/$f" ]; } || fail "/lib/firmware/$f is not a file"
done
grep -q '^SETTINGS=.*/var/lib/d2d/wifi' /etc/d2d/persist.conf || fail "persist.conf does not keep /var/lib/d2d/wifi: $(cat /etc/d2d/persist.conf)"
[ "$(stat -c %a /etc/d2d/wifi)" = 700 ] || fail "/etc/d2d/wifi is not 0700"
for f in /etc/d2d/wifi/*.conf; do [ "$(stat -c %a "$f")" = 600 ] || fail "$f is not 0600"; done
d2d-wifi list | grep -q "^d2d-test	(image)" || fail "d2d-wifi list: $(d2d-wifi list)"
ok "wpa_supplicant, regulatory.db (a file, from stage 1), the image's network d2d-test (0600)"

# 1. Two radios. The first Wi-Fi interface gets the client as it appears (hotplug), since the
# image knows a network.
modprobe mac80211_hwsim radios=2 || fail "modprobe mac80211_hwsim"
wait_for 20 "two hwsim interfaces" sh -c '[ -e /sys/class/net/wlan0 ] && [ -e /sys/class/net/wlan1 ]'
client_on_wlan0() { [ "$(cat /run/d2d-wifi/iface)" = wlan0 ] && wpa_cli -p /run/wpa_supplicant -i wlan0 ping | grep -q PONG; }
wait_for 20 "the client on wlan0" client_on_wlan0
ok "radios wlan0 and wlan1; the image's client started on wlan0 by hotplug"

# 2. The access point: wlan1's radio into netns ap (a wiphy moves with iw, not ip link).
ip netns add ap || fail "ip netns add ap"
phy=$(cat /sys/class/net/wlan1/phy80211/name)
iw phy "$phy" set netns name ap || fail "iw phy $phy set netns name ap"
ip netns exec ap ip link set lo up
ip netns exec ap ip addr add 192.168.77.1/24 dev wlan1
ap() { # SSID KEY_MGMT PMF
	[ -s "$T/hostapd.pid" ] && kill "$(cat "$T/hostapd.pid")" && wait_for 20 "hostapd to stop" sh -c "! kill -0 $(cat "$T/hostapd.pid")"
	rm -f "$T/hostapd.pid"
	cat >"$T/hostapd.conf" <<EOC
interface=wlan1
driver=nl80211
ssid=$1
hw_mode=g
channel=1
wpa=2
wpa_key_mgmt=$2
rsn_pairwise=CCMP
ieee80211w=$3
wpa_passphrase=$(cat "./files/passphrase-$1")
EOC
	ip netns exec ap hostapd -B -P "$T/hostapd.pid" "$T/hostapd.conf" >"$T/hostapd.log" 2>&1 || fail "hostapd ($1): $(cat "$T/hostapd.log")"
}
ap d2d-test WPA-PSK 0
cat >"$T/udhcpd.conf" <<EOC
interface wlan1
start 192.168.77.100
end 192.168.77.150
lease_file $T/udhcpd.leases
option subnet 255.255.255.0
option router 192.168.77.1
EOC
: >"$T/udhcpd.leases"
ip netns exec ap busybox udhcpd "$T/udhcpd.conf" || fail "udhcpd"
echo hello-from-ap >"$T/www/hello"
ip netns exec ap busybox httpd -p 192.168.77.1:80 -h "$T/www" || fail "httpd"
ok "access point d2d-test (WPA2-PSK) in netns ap, with DHCP and a web server"

# 3. The client joins it with the config's passphrase, and DHCP gives wlan0 an address.
lease() { ip -4 addr show wlan0 | grep -q 'inet 192\.168\.77\.'; }
wait_for 240 "wlan0's DHCP lease from the access point" lease
wpa_cli -p /run/wpa_supplicant -i wlan0 status | grep -qx 'ssid=d2d-test' || fail "not on d2d-test"
grep -q 'wifi: wlan0 joined d2d-test' /var/log/d2d-boot.log || fail "no 'joined' line in the boot log"
ok "wlan0 joined d2d-test and has $(ip -4 -o addr show wlan0 | awk '{print $4}')"
# A wired link would stay the way out: the Wi-Fi default route has the higher metric. (The harness's
# user-mode network is restricted: its DHCP gives eth0 no router, so there is no wired default here.)
ip route show default | grep -q 'dev wlan0 .*metric 600' || fail "Wi-Fi default route: $(ip route show default)"
# The regulatory domain the config names, applied from the verified database.
iw reg get | grep -q '^country DE' || fail "regulatory domain: $(iw reg get | head -n 3)"
dmesg | grep -qiE 'regulatory.db.*(fail|invalid)' && fail "regulatory.db: $(dmesg | grep -i regulatory)"
ok "default route via Wi-Fi at metric 600; regulatory domain DE"

# 4. A container reaches the access point's side, through docker0's NAT and the Wi-Fi link.
got=$(docker run --rm d2d-test/busybox:1 sh -c "printf 'GET /hello HTTP/1.0\r\n\r\n' | nc 192.168.77.1 80 | tail -n 1" 2>&1)
[ "$got" = hello-from-ap ] || fail "container -> access point: $got"
ok "a container fetched the access point's page over Wi-Fi"

# 5. d2d-wifi join: the access point becomes a WPA3 (SAE, PMF required) network of another name;
# the tool remembers it (0600, in the persisted folder) and the client moves to it.
ap d2d-wpa3 SAE 2
out=$(d2d-wifi join d2d-wpa3 --passphrase-file ./files/passphrase-d2d-wpa3 2>&1) || fail "d2d-wifi join: $out"
case $out in *'d2d-wpa3 remembered until the machine stops'*) ;; *) fail "d2d-wifi join said: $out" ;; esac
f=/var/lib/d2d/wifi/$(printf %s d2d-wpa3 | od -An -v -tx1 | tr -d ' \n').conf
[ "$(stat -c %a "$f")" = 600 ] || fail "$f: $(ls -l "$f" 2>&1)"
on_wpa3() { wpa_cli -p /run/wpa_supplicant -i wlan0 status | grep -qx 'ssid=d2d-wpa3' && wpa_cli -p /run/wpa_supplicant -i wlan0 status | grep -qx 'wpa_state=COMPLETED'; }
wait_for 240 "the client on d2d-wpa3" on_wpa3
wpa_cli -p /run/wpa_supplicant -i wlan0 status | grep -qx 'key_mgmt=SAE' || fail "not SAE: $(wpa_cli -p /run/wpa_supplicant -i wlan0 status)"
wait_for 120 "wlan0's lease on d2d-wpa3" lease
d2d-wifi status | grep -qx 'ssid: d2d-wpa3' || fail "d2d-wifi status: $(d2d-wifi status)"
ok "d2d-wifi join d2d-wpa3: WPA3-SAE, $(ip -4 -o addr show wlan0 | awk '{print $4}'), remembered in $f"

# 6. Bad input is refused, naming the fault; forget removes the joined network only.
out=$(printf 'short\n' | d2d-wifi join x --passphrase-file - 2>&1) && fail "a short passphrase was taken: $out"
case $out in *'8 to 63 characters'*) ;; *) fail "short passphrase: $out" ;; esac
out=$(d2d-wifi forget d2d-test 2>&1) && fail "the image's network was forgotten: $out"
case $out in *'comes with the image'*) ;; *) fail "forget of the image's network: $out" ;; esac
out=$(d2d-wifi forget d2d-wpa3 2>&1) || fail "d2d-wifi forget: $out"
case $out in *forgotten*) ;; *) fail "d2d-wifi forget said: $out" ;; esac
[ ! -e "$f" ] || fail "$f is still there"
d2d-wifi list | grep -q d2d-wpa3 && fail "d2d-wpa3 still listed"
ok "short passphrase refused; the image's network kept; d2d-wpa3 forgotten"
exit 0
