#!/usr/bin/env bash
# Install step for build.sh: the wasi-libc *headers* for wasm32-wasip1-threads.
#
# Debian ships no wasm32-wasi(p1)-threads sysroot in any suite, and bookworm's wasi-libc
# (0.0~git20220510) has no pthread.h. The libc itself comes from rustup's
# wasm32-wasip1-threads target (self-contained libc.a from wasi-sdk); only the headers come
# from here: Debian trixie's wasi-libc 0.0~git20241209.574b88d-2 (arch: all), whose headers
# are shared by wasi-libc's single- and multi-threaded builds (threads parts keyed on
# _REENTRANT, which `clang -pthread` defines).
#
# usage: fetch-headers.sh [DEST]   (default: $HOME/.cache/lucet-wasi/wasi-libc-headers)
# Afterwards DEST/usr/include/wasm32-wasi holds the headers.
set -euo pipefail

VERSION="0.0~git20241209.574b88d-2"
SHA256="b7716260051d289248b7667f81fa2792c125d888ff51da3fa09c6272cc0bd11d"
DEST="${1:-${HOME}/.cache/lucet-wasi/wasi-libc-headers}"

if [ -f "$DEST/.version" ] && [ "$(cat "$DEST/.version")" = "$VERSION" ]; then
    exit 0
fi

# The Debian mirror this machine's apt already uses (deb822 or one-line format).
mirror=$(grep -h -E '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | grep -v -- '-security' | awk '{print $2}' | head -n1 || true)
if [ -z "$mirror" ]; then
    mirror=$(grep -h -E '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null \
        | grep -v -- '-security' | sed -E 's/^deb (\[[^]]*\] )?//' | awk '{print $1}' | head -n1 || true)
fi
[ -n "$mirror" ] || { echo "fetch-headers.sh: no Debian mirror found in the apt configuration" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/lists/partial" "$work/cache/archives/partial"
echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror trixie main" >"$work/sources.list"
apt_opts=(-o "Dir::Etc::SourceList=$work/sources.list" -o Dir::Etc::SourceParts=/dev/null
    -o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work/cache" -o Dir::State::status=/dev/null
    -o APT::Sandbox::User=root)
apt-get "${apt_opts[@]}" update -qq
(cd "$work" && apt-get "${apt_opts[@]}" download -qq "wasi-libc=$VERSION")
deb=$(ls "$work"/wasi-libc_*_all.deb)
echo "$SHA256  $deb" | sha256sum -c --quiet -
rm -rf "$DEST"
mkdir -p "$DEST"
dpkg-deb -x "$deb" "$DEST"
# Keep only the headers.
rm -rf "$DEST/usr/lib" "$DEST/usr/share"
echo "$VERSION" >"$DEST/.version"
