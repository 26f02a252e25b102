#!/usr/bin/env bash
# Boots the emulated AST2600 image for a developer (issue 17): the same
# image, devices and network as tests/ast2600.rs, with the guest's console on
# this terminal. Builds the image first if target/ast2600 lacks it.
#
#   bash tests/ast2600/boot.sh [--ipmi-port N] [--redfish-port N]
#                                        (defaults 6230 and 8443)
#
# The image has no user. Like rbmc-dev, this adds the documented dev
# administrator (admin / rbmc-admin, configs/dev.toml) as a one-time
# provision.toml in a second initramfs archive; never do that on a BMC.
# The host's side of the board: QMP at target/ast2600/qmp.sock, e.g.
#   qom-set /machine/peripheral/tmp421 temperature0 45000
#   qom-set /machine/soc/gpio gpioB0 true        (PS_PWROK)
#   qom-get /machine/soc/gpio gpioB1             (POWER_OUT, active low)
# The console takes init.sh's commands (pwm, report, logs, run, poweroff);
# Ctrl-A X quits QEMU.
set -euo pipefail
cd "$(dirname "$0")/../.."

port=6230
redfish_port=8443
while (($#)); do
    case $1 in
    --ipmi-port) port=$2; shift 2 ;;
    --redfish-port) redfish_port=$2; shift 2 ;;
    *) echo "usage: $0 [--ipmi-port N] [--redfish-port N]" >&2; exit 64 ;;
    esac
done

out=target/ast2600
[ -e "$out/initrd.gz" ] || bash tests/ast2600/image.sh

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/root/var/lib/rbmc/userd"
cat >"$work/root/var/lib/rbmc/userd/provision.toml" <<'EOF'
[[users]]
id = 2
name = "admin"
password = "rbmc-admin"
privilege = "administrator"
sol = true
EOF
(cd "$work/root" && find . | cpio -o -H newc --quiet | gzip -1) >"$work/provision.gz"
cat "$out/initrd.gz" "$work/provision.gz" >"$work/initrd"

echo "boot.sh: a few seconds after the console says \"daemons started\":"
echo "  ipmitool -I lanplus -H 127.0.0.1 -p $port -U admin -P rbmc-admin -C 17 sensor list"
echo "  curl -k -u admin:rbmc-admin https://127.0.0.1:$redfish_port/redfish/v1/Chassis/chassis/Sensors?\$expand=."
echo "  QMP: $out/qmp.sock"
qemu-system-arm -M ast2600-evb -m 1G -nographic -no-reboot \
    -kernel "$out/vmlinuz" -dtb "$out/ast2600-evb.dtb" -initrd "$work/initrd" \
    -append "console=ttyS4,115200n8 rdinit=/init rbmc.time=$(date +%s)" \
    -device tmp421,id=tmp421,bus=aspeed.i2c.bus.3,address=0x4c \
    -device max31785,id=fans,bus=aspeed.i2c.bus.3,address=0x52 \
    -nic "user,model=ftgmac100,hostfwd=udp:127.0.0.1:$port-:623,hostfwd=tcp:127.0.0.1:$redfish_port-:443" \
    -qmp "unix:$out/qmp.sock,server=on,wait=off"
