# shellcheck shell=sh
# Part of persist.sh (which sources it, after its settings): Asking the user: passphrases (typed twice, or from a file; checked for strength), typed confirmations, the recovery key.
# POSIX sh; see docs/persistence.md.

# passphrase_problem PASS: why PASS is too weak; prints nothing when it is fine.
passphrase_problem() {
	pp_len=$(printf '%s' "$1" | wc -m)
	if [ "$pp_len" -lt 12 ]; then
		echo "it has $pp_len characters; use at least 12 (a few random words work well)"
		return 0
	fi
	pp_distinct=$(printf '%s' "$1" | fold -w 1 | sort -u | wc -l)
	if [ "$pp_distinct" -lt 6 ]; then
		echo "it uses only $pp_distinct different characters"
		return 0
	fi
	case $(printf '%s' "$1" | tr '[:upper:]' '[:lower:]') in
	*password* | *passwort* | *123456* | *qwerty* | *letmein* | *debian2docker*)
		echo "it contains a well-known word or sequence"
		;;
	esac
}

# read_secret PROMPT: read one line from the terminal without echo.
# Echo goes off before the prompt shows: what is typed as soon as it shows is not echoed either.
read_secret() {
	stty -echo </dev/tty 2>/dev/null
	printf '%s' "$1" >/dev/tty
	rs_line=
	IFS= read -r rs_line </dev/tty || :
	stty echo </dev/tty 2>/dev/null
	printf '\n' >/dev/tty
	printf '%s' "$rs_line"
}

# new_passphrase [FILE]: a new passphrase, from FILE (scripts) or typed twice,
# strong enough. Prints it.
new_passphrase() {
	if [ -n "${1:-}" ]; then
		[ -r "$1" ] || die "cannot read the passphrase file $1"
		np_p=$(cat "$1")
		np_why=$(passphrase_problem "$np_p")
		[ -z "$np_why" ] || die "the passphrase in $1 is too weak: $np_why"
		printf '%s' "$np_p"
		return 0
	fi
	has_tty || die "no terminal to ask for a passphrase on: use --passphrase-file FILE"
	np_try=0
	while [ $np_try -lt 3 ]; do
		np_try=$((np_try + 1))
		np_p=$(read_secret "New passphrase: ")
		np_why=$(passphrase_problem "$np_p")
		if [ -n "$np_why" ]; then
			echo "Too weak: $np_why." >/dev/tty
			continue
		fi
		np_q=$(read_secret "Again: ")
		if [ "$np_p" != "$np_q" ]; then
			echo "The two passphrases differ." >/dev/tty
			continue
		fi
		printf '%s' "$np_p"
		return 0
	done
	die "no passphrase set"
}

# has_tty: is there a terminal to ask on? (/dev/tty exists even without one.)
has_tty() {
	(: </dev/tty) 2>/dev/null
}

# confirm WORD WHAT: unless YES=1, the user must type WORD to go on.
confirm() {
	[ "${YES:-0}" = 1 ] && return 0
	has_tty || die "$2 needs a typed confirmation, and there is no terminal: add --yes"
	printf 'This will %s.\nType %s to go on: ' "$2" "$1" >/dev/tty
	cf_a=
	IFS= read -r cf_a </dev/tty || :
	[ "$cf_a" = "$1" ] || die "not confirmed; nothing was changed"
}

# recovery_key: 40 random characters in groups of five (no 0/1/o/l to misread).
recovery_key() {
	tr -dc 'abcdefghijkmnpqrstuvwxyz23456789' </dev/urandom | head -c 40 | sed 's/...../&-/g; s/-$//'
}
