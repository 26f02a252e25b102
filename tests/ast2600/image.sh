#!/usr/bin/env bash
# The image for QEMU's emulated AST2600 (`-M ast2600-evb`), issue 17: the
# armv7 `rbmc` multi-call executable (static), busybox, and Debian's armmp
# kernel with its own `aspeed-ast2600-evb.dtb`, assembled into
# target/ast2600/ (kernel, dtb, initrd.gz). Debian's armhf packages are
# fetched with `apt-get download` and kept in target/ast2600/cache, so a
# second run downloads nothing. Installs what a fresh Debian machine lacks
# (QEMU for ARM, the armhf cross linker, the Rust target).
#
# Step 1 of issue 17: the guest boots to rbmc's init and runs the armv7
# build (tests/ast2600.rs). Not yet here: the modules and the device tree
# changes for the board's sensors, fans, GPIO, ADC and KCS, the D-Bus
# broker, and the daemons themselves.
set -euo pipefail
cd "$(dirname "$0")/../.."

out=target/ast2600
cache=$out/cache
mkdir -p "$cache"

sudo=""
[ "$(id -u)" -eq 0 ] || sudo=sudo
missing=()
command -v qemu-system-arm >/dev/null 2>&1 || missing+=(qemu-system-arm)
command -v arm-linux-gnueabihf-gcc >/dev/null 2>&1 || missing+=(gcc-arm-linux-gnueabihf)
[ -e /usr/arm-linux-gnueabihf/lib/libc.a ] || missing+=(libc6-dev-armhf-cross)
command -v cpio >/dev/null 2>&1 || missing+=(cpio)
if ((${#missing[@]})); then
    echo "image.sh: installing ${missing[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
if ! dpkg --print-foreign-architectures | grep -qx armhf; then
    $sudo dpkg --add-architecture armhf
    $sudo apt-get update -qq
fi
rustup target list --installed | grep -qx armv7-unknown-linux-gnueabihf ||
    rustup target add armv7-unknown-linux-gnueabihf

# Debian's armhf packages, downloaded once.
fetch() {
    local package=$1
    if ! ls "$cache/${package%%:*}"_*.deb >/dev/null 2>&1; then
        # apt-get download talks on stdout; this function answers there.
        (cd "$cache" && apt-get download "$package" >&2) ||
            (cd "$cache" && $sudo apt-get update -qq && apt-get download "$package" >&2)
    fi
    ls "$cache/${package%%:*}"_*.deb | tail -1
}
kernel_package=$(apt-cache depends linux-image-armmp:armhf | awk '/Depends: linux-image-/ {print $2; exit}')
kernel_package=${kernel_package%%:*}
kernel_deb=$(fetch "$kernel_package:armhf")
busybox_deb=$(fetch busybox-static:armhf)

unpacked=$out/unpacked
rm -rf "$unpacked" && mkdir -p "$unpacked/kernel" "$unpacked/busybox"
dpkg-deb -x "$kernel_deb" "$unpacked/kernel"
dpkg-deb -x "$busybox_deb" "$unpacked/busybox"
release=${kernel_package#linux-image-}
cp "$unpacked/kernel/boot/vmlinuz-$release" "$out/vmlinuz"
cp "$unpacked/kernel/usr/lib/linux-image-$release/aspeed-ast2600-evb.dtb" "$out/ast2600-evb.dtb"

# The armv7 multi-call executable, linked statically (the initramfs has no
# C library).
CARGO_TARGET_ARMV7_UNKNOWN_LINUX_GNUEABIHF_LINKER=arm-linux-gnueabihf-gcc \
CC_armv7_unknown_linux_gnueabihf=arm-linux-gnueabihf-gcc \
CARGO_TARGET_ARMV7_UNKNOWN_LINUX_GNUEABIHF_RUSTFLAGS="-C target-feature=+crt-static" \
    cargo build --release --target armv7-unknown-linux-gnueabihf -p rbmc

root=$out/root
rm -rf "$root" && mkdir -p "$root"/{bin,proc,sys,dev,etc/rbmc,var/lib/rbmc,run}
cp "$unpacked/busybox/bin/busybox" "$root/bin/busybox"
cp target/armv7-unknown-linux-gnueabihf/release/rbmc "$root/bin/rbmc"
for daemon in sensord powerd seld userd netipmid kcsd; do
    ln -s rbmc "$root/bin/rbmc-$daemon"
done
cp tests/ast2600/init.sh "$root/init"
chmod 0755 "$root/init"
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$out/initrd.gz"
echo "image.sh: $out/vmlinuz, $out/ast2600-evb.dtb, $out/initrd.gz ($(du -h "$out/initrd.gz" | cut -f1))"
