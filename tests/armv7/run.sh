#!/usr/bin/env bash
# make test-armv7: the built wheel installed (pip --no-deps) beside Debian 12's armhf python3, python3-numpy and
# python3-click, run under qemu-arm, and checked against torch's answers computed on x86-64, on the numpy engine
# (no onnxruntime exists for 32-bit ARM; docs/engines.md). Exit 0: every check passed; 1: a check failed; 77: this
# machine cannot run it, with the reason on one line (ARMV7_ALLOW_SKIP=1, as .ci/run sets, turns 77 into 0).
# The sysroot is made as tests/arm64/run.sh makes its own.
set -euo pipefail
cd "$(dirname "$0")/../.."
CACHE=.work/armv7  # gitignored
SUITE=bookworm  # Debian 12: python3.11, numpy 1.24, click 8.1
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
# The interpreter, the shared libraries it loads, and numpy, click and the BLAS numpy links (reference BLAS/LAPACK:
# one thread); apt-get download fetches no dependencies.
PACKAGES="python3.11-minimal libpython3.11-minimal libpython3.11-stdlib libc6 libexpat1 zlib1g libgcc-s1
  libstdc++6 libffi8 libssl3 libbz2-1.0 liblzma5 libsqlite3-0 libuuid1 libncursesw6 libtinfo6 libcrypt1
  python3-numpy python3-click libblas3 liblapack3 libgfortran5"

cannot() {
    echo "armv7: skipped: $*" >&2
    [ "${ARMV7_ALLOW_SKIP:-0}" = 1 ] && exit 0
    exit 77
}

[ "$(uname -s) $(uname -m)" = "Linux x86_64" ] || cannot "the host is $(uname -s) $(uname -m); this emulates armv7l on Linux x86_64"
command -v apt-get >/dev/null || cannot "no apt-get: the armhf Python is built from Debian packages"
[ -r "$KEYRING" ] || cannot "no $KEYRING to check Debian's signatures (apt-get install debian-archive-keyring)"
mkdir -p "$CACHE"
QEMU=$(command -v qemu-arm-static || command -v qemu-arm || true)
if [ -z "$QEMU" ]; then
    [ "$(id -u)" = 0 ] || cannot "qemu-user-static is not installed (as root: apt-get install qemu-user-static)"
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq qemu-user-static; } \
        >"$CACHE/qemu-install.log" 2>&1 || cannot "apt-get install qemu-user-static failed ($CACHE/qemu-install.log)"
    QEMU=$(command -v qemu-arm-static) || cannot "apt-get installed qemu-user-static but no qemu-arm-static"
fi

# Debian's armhf .debs unpacked with dpkg -x; apt-get works on a private state directory and sources list, so the
# host's dpkg architectures and package lists stay as they are (no --add-architecture).
arch=armhf root=$CACHE/sysroot-armhf apt=$CACHE/apt-armhf want="$SUITE armhf $(echo $PACKAGES) alternatives"
if [ "$(cat "$root/.packages" 2>/dev/null)" != "$want" ]; then
    rm -rf "$apt" "$root" "$root.new"
    mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$apt/parts" "$apt/debs" "$root.new"
    : >"$apt/status"
    for suite in "$SUITE" "$SUITE-updates"; do
        echo "deb [arch=$arch signed-by=$KEYRING] http://deb.debian.org/debian $suite main"
    done >"$apt/sources.list"
    echo "deb [arch=$arch signed-by=$KEYRING] http://deb.debian.org/debian-security $SUITE-security main" >>"$apt/sources.list"
    opts=(-o APT::Architecture="$arch" -o APT::Architectures::="$arch" -o Debug::NoLocking=1
        -o Acquire::Retries=3 -o Dir::Etc::sourcelist="$PWD/$apt/sources.list"
        -o Dir::Etc::sourceparts="$PWD/$apt/parts" -o Dir::Etc::preferencesparts="$PWD/$apt/parts"
        -o Dir::State::Lists="$PWD/$apt/lists" -o Dir::State::status="$PWD/$apt/status" -o Dir::Cache="$PWD/$apt/cache")
    [ "$(id -u)" = 0 ] && opts+=(-o APT::Sandbox::User=root)  # _apt cannot write into the cache directory
    apt-get "${opts[@]}" update -qq >"$apt/log" 2>&1 || true  # a failing index is skipped; a missing package is not
    (cd "$apt/debs" && apt-get "${opts[@]}" download $(printf "%s:$arch " $PACKAGES)) >>"$apt/log" 2>&1 \
        || cannot "apt-get download of the armhf python3.11, numpy and click packages failed ($apt/log)"
    for deb in "$apt"/debs/*.deb; do dpkg -x "$deb" "$root.new"; done
    # what the BLAS and LAPACK packages' postinst does with update-alternatives, which dpkg -x does not run
    lib=$root.new/usr/lib/arm-linux-gnueabihf
    ln -s blas/libblas.so.3 "$lib/libblas.so.3"
    ln -s lapack/liblapack.so.3 "$lib/liblapack.so.3"
    echo "$want" >"$root.new/.packages"
    mv "$root.new" "$root"
fi
# Some sandboxes forbid what qemu-user needs (seccomp, mmap_min_addr): the bare interpreter tells.
why=$("$QEMU" -L "$root" "$root/usr/bin/python3.11" -c pass 2>&1 | head -1) \
    || cannot "$QEMU cannot run Debian's armhf python3.11 here: ${why:-no message}"

exec .venv/bin/python tests/armv7/driver.py --qemu "$QEMU" --sysroot "$root" --cache "$CACHE"
