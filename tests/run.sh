#!/usr/bin/env bash
# The one command that runs every rbmc test (named in README.md; .ci/run calls
# it). On a fresh Debian/Ubuntu machine it first installs the real clients the
# end-to-end tests drive: ipmitool, FreeIPMI, and busctl (systemd).
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v ipmitool >/dev/null 2>&1 || missing+=(ipmitool)
command -v bmc-info >/dev/null 2>&1 || missing+=(freeipmi-tools)
command -v busctl >/dev/null 2>&1 || missing+=(systemd)
# dbus-daemon checks the image's D-Bus policy file.
command -v dbus-daemon >/dev/null 2>&1 || missing+=(dbus)
# The LAN settings test runs systemd-networkd (from systemd) in a network
# namespace made with iproute2 and util-linux's unshare.
[ -x /lib/systemd/systemd-networkd ] || missing+=(systemd)
command -v ip >/dev/null 2>&1 || missing+=(iproute2)
command -v unshare >/dev/null 2>&1 || missing+=(util-linux)
# The KCS end-to-end test boots a real Linux guest under QEMU.
command -v qemu-system-x86_64 >/dev/null 2>&1 || missing+=(qemu-system-x86)
ls /boot/vmlinuz-* >/dev/null 2>&1 || missing+=(linux-image-amd64)
[ -x /bin/busybox ] || missing+=(busybox-static)
# The Redfish tests use curl, and openssl makes the event receiver's
# certificate.
command -v curl >/dev/null 2>&1 || missing+=(curl)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
# PEF's alerts are received by net-snmp's trap daemon.
command -v snmptrapd >/dev/null 2>&1 || missing+=(snmptrapd)
# The Yocto layer check runs oelint-adv from a private venv.
command -v python3 >/dev/null 2>&1 || missing+=(python3)
python3 -c "import venv, ensurepip" >/dev/null 2>&1 || missing+=(python3-venv)
if ((${#missing[@]})); then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo=sudo
    echo "tests/run.sh: installing ${missing[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The Yocto layer: the crate list matches Cargo.lock, and oelint-adv is clean.
bash yocto-layer/scripts/check-layer.sh
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
# The docs build without a broken link or a warning.
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps
# pyghmi, the third IPMI client the end-to-end tests drive, in a private
# venv (PyPI).
if ! target/pyghmi-venv/bin/python -c "import pyghmi" >/dev/null 2>&1; then
    python3 -m venv target/pyghmi-venv
    target/pyghmi-venv/bin/pip install -q pyghmi==1.6.19
fi
# DMTF's Redfish client library and validators, for the Redfish tests, in
# a private venv (PyPI). The validators check against DMTF's schemas in
# ../shared/redfish-csdl (or $RBMC_REDFISH_CSDL).
if ! target/redfish-venv/bin/python -c "import redfish, redfish_service_validator, redfish_protocol_validator" >/dev/null 2>&1; then
    python3 -m venv target/redfish-venv
    target/redfish-venv/bin/pip install -q redfish==3.4.2 redfish-service-validator==3.1.8 \
        redfish-protocol-validator==1.3.2
fi
# The emulated AST2600's image (the armv7 build, Debian's armhf kernel and
# busybox; tests/ast2600.rs boots it).
bash tests/ast2600/image.sh
# Build every binary once; the end-to-end tests start them from target/.
cargo build --workspace --all-targets
cargo test --workspace
# Coverage-guided fuzzing, 10 s per target (nightly and cargo-fuzz are
# installed if missing); `bash tests/fuzz/run.sh` alone runs longer.
bash tests/fuzz/run.sh --smoke
