# shellcheck shell=sh
# Interactive shells on the image.
PS1='\h:\w\$ '
export PS1
# The machine's locale (config locale:).
if [ -z "${LANG:-}" ] && [ -r /etc/default/locale ]; then
	. /etc/default/locale
	export LANG
fi
