#!/bin/sh
# Installs datumctl, one self-contained binary, for the current user. Never needs root.
#
#   curl -fsSL https://github.com/datum-cloud/datumctl/releases/latest/download/install.sh | sh
#   sh install.sh [--prefix DIR | --bin-dir DIR] [--version X.Y.Z]
#
# It picks the binary for `uname -s`/`uname -m`, downloads it and the release's SHA256SUMS
# (curl or wget), refuses a binary whose SHA-256 does not match, checks that it starts, and
# moves it into place in one step.
#
#   --bin-dir DIR   install into DIR (default: $DATUMCTL_INSTALL_DIR, else ~/.local/bin)
#   --prefix DIR    install into DIR/bin
#   --version V     install release V instead of the latest
#
# Environment:
#   DATUMCTL_INSTALL_DIR       where to install (like --bin-dir)
#   DATUMCTL_INSTALL_BASE_URL  the folder holding the release files (a mirror, a test server)

set -eu

REPO_URL="https://github.com/datum-cloud/datumctl/releases"

say() {
	printf '%s\n' "$*"
}

fail() {
	printf 'error: %s\n' "$1" >&2
	if [ $# -gt 1 ]; then printf '%s\n' "$2" >&2; fi
	exit 1
}

usage() {
	cat <<'EOF'
Usage: sh install.sh [--prefix DIR | --bin-dir DIR] [--version X.Y.Z]

  --bin-dir DIR   install into DIR (default: $DATUMCTL_INSTALL_DIR, else ~/.local/bin)
  --prefix DIR    install into DIR/bin
  --version V     install release V instead of the latest

Environment: DATUMCTL_INSTALL_DIR (like --bin-dir), DATUMCTL_INSTALL_BASE_URL (the folder
holding the release files: a mirror or a test server). Never needs root.
EOF
}

bin_dir="${DATUMCTL_INSTALL_DIR:-}"
version=""
while [ $# -gt 0 ]; do
	case "$1" in
	--prefix)
		[ $# -ge 2 ] || fail "--prefix needs a folder"
		bin_dir="${2%/}/bin"
		shift 2
		;;
	--prefix=*)
		bin_dir="${1#--prefix=}"
		bin_dir="${bin_dir%/}/bin"
		shift
		;;
	--bin-dir)
		[ $# -ge 2 ] || fail "--bin-dir needs a folder"
		bin_dir="$2"
		shift 2
		;;
	--bin-dir=*)
		bin_dir="${1#--bin-dir=}"
		shift
		;;
	--version)
		[ $# -ge 2 ] || fail "--version needs a version, e.g. 0.2.0"
		version="${2#v}"
		shift 2
		;;
	--version=*)
		version="${1#--version=}"
		version="${version#v}"
		shift
		;;
	-h | --help)
		usage
		exit 0
		;;
	*)
		fail "unknown option '$1'" "Run 'sh install.sh --help' for the options."
		;;
	esac
done

if [ -z "$bin_dir" ]; then
	[ -n "${HOME:-}" ] || fail "HOME is not set" "Choose a folder with --bin-dir DIR."
	bin_dir="$HOME/.local/bin"
fi

# --- platform ---------------------------------------------------------------------------

kernel=$(uname -s 2>/dev/null || echo unknown)
machine=$(uname -m 2>/dev/null || echo unknown)
exe=""
case "$kernel" in
Linux) os=linux ;;
Darwin) os=darwin ;;
MINGW* | MSYS* | CYGWIN*)
	os=windows
	exe=".exe"
	;;
*) os="" ;;
esac
case "$machine" in
x86_64 | amd64) arch=x86_64 ;;
aarch64 | arm64) arch=aarch64 ;;
*) arch="" ;;
esac
# A shell running under Rosetta reports x86_64 on Apple silicon; the native binary is better.
if [ "$os" = darwin ] && [ "$arch" = x86_64 ]; then
	if [ "$(sysctl -n sysctl.proc_translated 2>/dev/null || echo 0)" = 1 ]; then arch=aarch64; fi
fi
supported="Linux and macOS on x86_64 or arm64, and Windows on x86_64"
if [ -z "$os" ] || [ -z "$arch" ] || { [ "$os" = windows ] && [ "$arch" != x86_64 ]; }; then
	fail "datumctl has no release for $kernel on $machine." \
		"Releases exist for $supported; see $REPO_URL."
fi

musl=no
if [ "$os" = linux ]; then
	if ls /lib/ld-musl-* >/dev/null 2>&1 || (ldd --version 2>&1 | grep -qi musl); then musl=yes; fi
fi

asset="datumctl-$os-$arch$exe"
if [ -n "${DATUMCTL_INSTALL_BASE_URL:-}" ]; then
	base_url="${DATUMCTL_INSTALL_BASE_URL%/}"
elif [ -n "$version" ]; then
	base_url="$REPO_URL/download/v$version"
else
	base_url="$REPO_URL/latest/download"
fi

# --- tools ------------------------------------------------------------------------------

if command -v curl >/dev/null 2>&1; then
	download() { curl -fsSL --retry 2 -o "$2" "$1"; }
elif command -v wget >/dev/null 2>&1; then
	download() { wget -q -O "$2" "$1"; }
else
	fail "neither curl nor wget is installed." "Install one of them and run this again."
fi

if command -v sha256sum >/dev/null 2>&1; then
	sha256() { sha256sum "$1" | cut -d ' ' -f 1; }
elif command -v shasum >/dev/null 2>&1; then
	sha256() { shasum -a 256 "$1" | cut -d ' ' -f 1; }
elif command -v openssl >/dev/null 2>&1; then
	sha256() { openssl dgst -sha256 -r "$1" | cut -d ' ' -f 1; }
else
	fail "no SHA-256 tool (sha256sum, shasum or openssl) found; refusing to install an unverified binary." \
		"Install coreutils or openssl and run this again."
fi

# --- download and verify ----------------------------------------------------------------

tmp=$(mktemp -d 2>/dev/null || mktemp -d -t datumctl)
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

say "Downloading $asset from $base_url ..."
download "$base_url/SHA256SUMS" "$tmp/SHA256SUMS" ||
	fail "could not download $base_url/SHA256SUMS." "Check the network or the release (--version)."
expected=$(awk -v f="$asset" '$2 == f || $2 == ("*" f) { print $1; exit }' "$tmp/SHA256SUMS")
[ -n "$expected" ] || fail "the release has no $asset." "Releases exist for $supported."
download "$base_url/$asset" "$tmp/$asset" || fail "could not download $base_url/$asset."

actual=$(sha256 "$tmp/$asset")
if [ "$actual" != "$expected" ]; then
	fail "checksum mismatch for $asset: SHA256SUMS says $expected, the download is $actual. Nothing was installed." \
		"Try again; if it persists, the download may have been tampered with: please report it."
fi
say "Checksum verified (SHA-256 $actual)."
chmod 755 "$tmp/$asset"

if ! installed_version=$("$tmp/$asset" --version 2>/dev/null); then
	if [ "$musl" = yes ]; then
		fail "the binary does not start: this system uses musl libc (Alpine?), and datumctl's Linux builds need glibc." \
			"Install glibc compatibility first (Alpine: apk add gcompat libstdc++) or use a glibc-based image. Nothing was installed."
	fi
	fail "the downloaded binary does not start on this machine. Nothing was installed." \
		"Please report it with the output of: uname -a"
fi

# --- install ----------------------------------------------------------------------------

mkdir -p "$bin_dir" 2>/dev/null ||
	fail "cannot create $bin_dir." "Choose a folder you own with --prefix DIR or DATUMCTL_INSTALL_DIR (this script never uses sudo)."
target="$bin_dir/datumctl$exe"
staged="$bin_dir/.datumctl-install-$$$exe"
if ! cp "$tmp/$asset" "$staged" 2>/dev/null; then
	rm -f "$staged" 2>/dev/null || true
	fail "cannot write to $bin_dir." "Choose a folder you own with --prefix DIR or DATUMCTL_INSTALL_DIR (this script never uses sudo)."
fi
chmod 755 "$staged"
# A rename within one folder: the old binary is replaced whole or not at all.
mv -f "$staged" "$target" || {
	rm -f "$staged"
	fail "cannot replace $target."
}

say "Installed $installed_version to $target"
case ":${PATH:-}:" in
*":$bin_dir:"*) ;;
*)
	say ""
	say "$bin_dir is not on your PATH. Add it, e.g. in ~/.profile:"
	say "  export PATH=\"$bin_dir:\$PATH\""
	;;
esac
say ""
say "Next: datumctl login    (shell completion: datumctl completion --help)"
