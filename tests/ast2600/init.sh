#!/bin/busybox sh
# PID 1 of the emulated AST2600 image (tests/ast2600/image.sh). Step 1 of
# issue 17: mounts the kernel's file systems, shows that the armv7 rbmc
# runs, and powers off. The host side (tests/ast2600.rs) reads the console.
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
echo "RBMC-GUEST: up on $(uname -m), kernel $(uname -r)"
if /bin/rbmc >/tmp.out 2>&1 || grep -q '^daemons:' /tmp.out; then
    echo "RBMC-GUEST: rbmc runs: $(grep '^daemons:' /tmp.out)"
else
    echo "RBMC-GUEST: rbmc failed:"
    cat /tmp.out
fi
echo "RBMC-GUEST: done"
reboot -f
