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
command -v fdtput >/dev/null 2>&1 || missing+=(device-tree-compiler)
command -v depmod >/dev/null 2>&1 || missing+=(kmod)
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
    local package=$1 name=${1%%[:=]*}
    if ! ls "$cache/$name"_*.deb >/dev/null 2>&1; then
        # apt-get download talks on stdout; this function answers there.
        (cd "$cache" && apt-get download "$package" >&2) ||
            (cd "$cache" && $sudo apt-get update -qq && apt-get download "$package" >&2)
    fi
    ls "$cache/$name"_*.deb | tail -1
}
kernel_package=$(apt-cache depends linux-image-armmp:armhf | awk '/Depends: linux-image-/ {print $2; exit}')
kernel_package=${kernel_package%%:*}
kernel_deb=$(fetch "$kernel_package:armhf")
busybox_deb=$(fetch busybox-static:armhf)
# The D-Bus broker: the reference dbus-daemon, with the C libraries it links
# (docs/AST2600.md says why this one).
dbus_packages=(dbus-daemon libdbus-1-3 libexpat1 libc6 libgcc-s1 libsystemd0
    libcap2 libgcrypt20 libgpg-error0 liblz4-1 liblzma5 libzstd1 libapparmor1
    libaudit1 libcap-ng0 libselinux1 libpcre2-8-0)
dbus_debs=()
for package in "${dbus_packages[@]}"; do
    dbus_debs+=("$(fetch "$package:armhf")")
done

unpacked=$out/unpacked
rm -rf "$unpacked" && mkdir -p "$unpacked/kernel" "$unpacked/busybox"
dpkg-deb -x "$kernel_deb" "$unpacked/kernel"
dpkg-deb -x "$busybox_deb" "$unpacked/busybox"
release=${kernel_package#linux-image-}
cp "$unpacked/kernel/boot/vmlinuz-$release" "$out/vmlinuz"

# The device tree: Debian's aspeed-ast2600-evb.dtb, plus what the board
# config names and the mainline EVB tree leaves out (docs/AST2600.md shows
# the same as .dts snippets for a real EVB):
dtb=$out/ast2600-evb.dtb
cp "$unpacked/kernel/usr/lib/linux-image-$release/aspeed-ast2600-evb.dtb" "$dtb"
apb=/ahb/apb
# - a TMP421 on I2C bus 3 at 4Ch and the MAX31785 fan controller at 52h
#   (QEMU: -device tmp421/max31785 on aspeed.i2c.bus.3);
i2c3=$apb/bus@1e78a000/i2c-bus@200
fdtput -c "$dtb" "$i2c3/temperature-sensor@4c" "$i2c3/fan-controller@52"
fdtput -t s "$dtb" "$i2c3/temperature-sensor@4c" compatible ti,tmp421
fdtput -t x "$dtb" "$i2c3/temperature-sensor@4c" reg 4c
fdtput -t s "$dtb" "$i2c3/fan-controller@52" compatible maxim,max31785
fdtput -t x "$dtb" "$i2c3/fan-controller@52" reg 52
# - both ADCs;
fdtput -t s "$dtb" "$apb/adc@1e6e9000" status okay
fdtput -t s "$dtb" "$apb/adc@1e6e9100" status okay
# - KCS3 at the host's LPC I/O address CA2h (IPMI v2.0 §9: the system
#   interface's default KCS address);
fdtput -t s "$dtb" "$apb/lpc@1e789000/kcs@2c" status okay
fdtput -t x "$dtb" "$apb/lpc@1e789000/kcs@2c" aspeed,lpc-io-reg ca2
# - gpio-line-names for the power control lines, on GPIOB0-B3 (lines 8-11;
#   QEMU's gpioB0..gpioB3).
line_names=()
for ((line = 0; line < 208; line++)); do line_names+=(""); done
line_names[8]=PS_PWROK
line_names[9]=POWER_OUT
line_names[10]=RESET_OUT
line_names[11]=NMI_OUT
fdtput -t s "$dtb" "$apb/gpio@1e780000" gpio-line-names "${line_names[@]}"

# kcs_bmc_cdev_ipmi, which serves /dev/ipmi-kcsN: Debian builds the KCS
# core and the ASPEED driver but leaves this one out, so it is built here
# against Debian's headers for the same kernel, from Debian's source of it.
kcs_module=$out/kcs/kcs_bmc_cdev_ipmi.ko
if [ ! -e "$kcs_module" ]; then
    version=$(dpkg-deb -f "$kernel_deb" Version)
    headers_deb=$(fetch "linux-headers-$release:armhf")
    common_deb=$(fetch "linux-headers-${release%-armmp}-common")
    kbuild_deb=$(fetch "linux-kbuild-${release%%.[0-9]-*}=$version")
    source_deb=$(fetch "linux-source-${release%%.[0-9]-*}=$version")
    kcs=$out/kcs
    rm -rf "$kcs" && mkdir -p "$kcs/tree" "$kcs/build"
    for deb in "$headers_deb" "$common_deb" "$kbuild_deb"; do dpkg-deb -x "$deb" "$kcs/tree"; done
    headers=$PWD/$kcs/tree/usr/src/linux-headers-$release
    # The headers' Makefile names the common tree by its installed path.
    sed -i "s#/usr/src/linux-headers-${release%-armmp}-common#$PWD/$kcs/tree/usr/src/linux-headers-${release%-armmp}-common#" \
        "$headers/Makefile"
    series=linux-source-${release%%.[0-9]-*}
    dpkg-deb --fsys-tarfile "$source_deb" | tar -xO "./usr/src/$series.tar.xz" |
        tar -xJ --strip-components=4 -C "$kcs/build" \
            "$series/drivers/char/ipmi/kcs_bmc_cdev_ipmi.c" \
            "$series/drivers/char/ipmi/kcs_bmc_client.h" \
            "$series/drivers/char/ipmi/kcs_bmc.h"
    echo 'obj-m += kcs_bmc_cdev_ipmi.o' >"$kcs/build/Kbuild"
    make -s -C "$headers" M="$PWD/$kcs/build" ARCH=arm CROSS_COMPILE=arm-linux-gnueabihf- modules
    arm-linux-gnueabihf-strip --strip-debug -o "$kcs_module" "$kcs/build/kcs_bmc_cdev_ipmi.ko"
    rm -rf "$kcs/tree" "$kcs/build"
fi

# The armv7 multi-call executable, linked statically (the initramfs has no
# C library).
CARGO_TARGET_ARMV7_UNKNOWN_LINUX_GNUEABIHF_LINKER=arm-linux-gnueabihf-gcc \
CC_armv7_unknown_linux_gnueabihf=arm-linux-gnueabihf-gcc \
CARGO_TARGET_ARMV7_UNKNOWN_LINUX_GNUEABIHF_RUSTFLAGS="-C target-feature=+crt-static" \
    cargo build --release --target armv7-unknown-linux-gnueabihf -p rbmc

root=$out/root
rm -rf "$root" && mkdir -p "$root"/{bin,proc,sys,dev,tmp,etc/rbmc,var/lib/rbmc,run,lib/modules}
ln -s ../run "$root/var/run"
cp "$unpacked/busybox/bin/busybox" "$root/bin/busybox"
cp target/armv7-unknown-linux-gnueabihf/release/rbmc "$root/bin/rbmc"
for daemon in sensord powerd seld userd pefd fand netipmid kcsd redfishd; do
    ln -s rbmc "$root/bin/rbmc-$daemon"
done
cp tests/ast2600/init.sh "$root/init"
chmod 0755 "$root/init"
cp configs/qemu-ast2600-evb.toml "$root/etc/rbmc/rbmc.toml"

# The kernel modules the board's drivers are, with what they depend on.
modules=(i2c-aspeed i2c-dev lm75 tmp421 max31785 aspeed_adc gpio-aspeed
    kcs_bmc_aspeed mdio-aspeed ftgmac100)
all_modules=$unpacked/kernel/lib/modules/$release
depmod -b "$unpacked/kernel" "$release"
needed=()
for module in "${modules[@]}"; do
    line=$(grep -E "/$module\.ko:" "$all_modules/modules.dep") ||
        { echo "image.sh: $release has no module $module" >&2; exit 1; }
    needed+=(${line%%:*} ${line#*:})
done
for file in $(printf '%s\n' "${needed[@]}" | sort -u); do
    mkdir -p "$root/lib/modules/$release/$(dirname "$file")"
    cp "$all_modules/$file" "$root/lib/modules/$release/$file"
done
cp "$all_modules"/modules.{order,builtin,builtin.modinfo} "$root/lib/modules/$release/"
mkdir -p "$root/lib/modules/$release/extra"
cp "$kcs_module" "$root/lib/modules/$release/extra/"
depmod -b "$root" "$release"
printf '%s\n' "${modules[@]}" kcs_bmc_cdev_ipmi >"$root/etc/modules"

# dbus-daemon and its libraries, without their documentation.
for deb in "${dbus_debs[@]}"; do dpkg-deb -x "$deb" "$root"; done
rm -rf "$root"/usr/share/{doc,man,locale,lintian,bug} "$root"/usr/lib/arm-linux-gnueabihf/gconv
mkdir -p "$root"/etc/dbus-1/system.d "$root/run/dbus"
cp tests/ast2600/system-bus.conf "$root/etc/dbus-1/system.conf"
cp systemd/dbus-1/system.d/org.rbmc.conf "$root/etc/dbus-1/system.d/"
# The users the policy names (systemd/sysusers.d/rbmc.conf), so the broker
# resolves them; the daemons run as root in this image (docs/AST2600.md).
{
    echo "root:x:0:0:root:/root:/bin/sh"
    echo "messagebus:x:100:100::/run/dbus:/bin/false"
    uid=990
    for daemon in sensord powerd seld userd pefd fand netipmid kcsd redfishd; do
        echo "rbmc-$daemon:x:$uid:$uid::/:/bin/false"
        uid=$((uid + 1))
    done
} >"$root/etc/passwd"
sed 's/^\([^:]*\):x:\([0-9]*\):.*/\1:x:\2:/' "$root/etc/passwd" >"$root/etc/group"
echo 0123456789abcdef0123456789abcdef >"$root/etc/machine-id"

(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$out/initrd.gz"
echo "image.sh: $out/vmlinuz, $out/ast2600-evb.dtb, $out/initrd.gz ($(du -h "$out/initrd.gz" | cut -f1))"
