#!/usr/bin/env bash
# make test-arm64: the built wheel installed into an emulated linux/aarch64 Python and checked there
# against torch (docs/arm64.md). Exit 0: every check passed; 1: a check failed; 77: this machine cannot
# run it, with the reason on one line (ARM64_ALLOW_SKIP=1, as .ci/run sets, turns 77 into 0).
# ARM64_FULL=1 (make test-arm64-full): every onnxruntime and model of driver.py, and 32-bit ARM's pip.
set -euo pipefail
cd "$(dirname "$0")/../.."
CACHE=.work/arm64  # gitignored; every copy of the tree for a wheel build leaves out .work
SUITE=bookworm  # Debian 12, whose python3 is 3.11, the version the project tests
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
# The interpreter and the shared libraries it and the wheels load; apt-get download fetches no dependencies.
PACKAGES="python3.11-minimal libpython3.11-minimal libpython3.11-stdlib libc6 libexpat1 zlib1g libgcc-s1
  libstdc++6 libffi8 libssl3 libbz2-1.0 liblzma5 libsqlite3-0 libuuid1 libncursesw6 libtinfo6 libcrypt1"

cannot() {
    echo "arm64: skipped: $*" >&2
    [ "${ARM64_ALLOW_SKIP:-0}" = 1 ] && exit 0
    exit 77
}

[ "$(uname -s) $(uname -m)" = "Linux x86_64" ] || cannot "the host is $(uname -s) $(uname -m); this emulates aarch64 on Linux x86_64"
command -v apt-get >/dev/null || cannot "no apt-get: the aarch64 Python is built from Debian packages"
[ -r "$KEYRING" ] || cannot "no $KEYRING to check Debian's signatures (apt-get install debian-archive-keyring)"
mkdir -p "$CACHE"
QEMU=$(command -v qemu-aarch64-static || command -v qemu-aarch64 || true)
if [ -z "$QEMU" ] || { [ "${ARM64_FULL:-0}" = 1 ] && ! command -v qemu-arm-static >/dev/null; }; then
    [ "$(id -u)" = 0 ] || cannot "qemu-user-static is not installed (as root: apt-get install qemu-user-static)"
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq qemu-user-static; } \
        >"$CACHE/qemu-install.log" 2>&1 || cannot "apt-get install qemu-user-static failed ($CACHE/qemu-install.log)"
    QEMU=$(command -v qemu-aarch64-static) || cannot "apt-get installed qemu-user-static but no qemu-aarch64-static"
fi

# A sysroot is Debian's .debs for ARCH unpacked with dpkg -x. apt-get works on a private state directory and
# sources list, so the host's dpkg architectures and package lists stay as they are (no --add-architecture).
sysroot() {
    local arch=$1 root=$CACHE/sysroot-$1 apt=$CACHE/apt-$1 want="$SUITE $1 $(echo $PACKAGES)"
    [ "$(cat "$root/.packages" 2>/dev/null)" = "$want" ] && return
    rm -rf "$apt" "$root" "$root.new"
    mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$apt/parts" "$apt/debs" "$root.new"
    : >"$apt/status"
    for suite in "$SUITE" "$SUITE-updates"; do
        echo "deb [arch=$arch signed-by=$KEYRING] http://deb.debian.org/debian $suite main"
    done >"$apt/sources.list"
    echo "deb [arch=$arch signed-by=$KEYRING] http://deb.debian.org/debian-security $SUITE-security main" >>"$apt/sources.list"
    local opts=(-o APT::Architecture="$arch" -o APT::Architectures::="$arch" -o Debug::NoLocking=1
        -o Acquire::Retries=3 -o Dir::Etc::sourcelist="$PWD/$apt/sources.list"
        -o Dir::Etc::sourceparts="$PWD/$apt/parts" -o Dir::Etc::preferencesparts="$PWD/$apt/parts"
        -o Dir::State::Lists="$PWD/$apt/lists" -o Dir::State::status="$PWD/$apt/status" -o Dir::Cache="$PWD/$apt/cache")
    [ "$(id -u)" = 0 ] && opts+=(-o APT::Sandbox::User=root)  # _apt cannot write into the cache directory
    # An index that fails (a mirror mid-sync) is skipped by apt; only a package that cannot be had is fatal.
    apt-get "${opts[@]}" update -qq >"$apt/log" 2>&1 || true
    (cd "$apt/debs" && apt-get "${opts[@]}" download $(printf "%s:$arch " $PACKAGES)) >>"$apt/log" 2>&1 \
        || cannot "apt-get download of the $arch python3.11 packages failed ($apt/log)"
    for deb in "$apt"/debs/*.deb; do dpkg -x "$deb" "$root.new"; done
    echo "$want" >"$root.new/.packages"
    mv "$root.new" "$root"
}
sysroot arm64
# Some sandboxes forbid what qemu-user needs (seccomp, mmap_min_addr): the bare interpreter tells.
why=$("$QEMU" -L "$CACHE/sysroot-arm64" "$CACHE/sysroot-arm64/usr/bin/python3.11" -c pass 2>&1 | head -1) \
    || cannot "$QEMU cannot run Debian's aarch64 python3.11 here: ${why:-no message}"
armv7l=()
if [ "${ARM64_FULL:-0}" = 1 ]; then
    sysroot armhf  # only to show what pip says on 32-bit ARM
    armv7l=(--qemu-arm "$(command -v qemu-arm-static || command -v qemu-arm)" --armhf-sysroot "$CACHE/sysroot-armhf")
fi

exec .venv/bin/python tests/arm64/driver.py --qemu "$QEMU" --sysroot "$CACHE/sysroot-arm64" --cache "$CACHE" "${armv7l[@]}"
