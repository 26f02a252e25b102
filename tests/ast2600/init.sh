#!/bin/busybox sh
# PID 1 of the emulated AST2600 image (tests/ast2600/image.sh): loads the
# board's drivers, brings up eth0 and the system bus, starts rbmc's six
# daemons on the real drivers, then serves a few commands on the console
# for the host harness (tests/ast2600.rs) and for a developer
# (tests/ast2600/boot.sh). Everything it says for a program starts with
# "RBMC-GUEST:". A daemon that exits says so there, with its log's tail.
#
# Console commands:
#   pwm N VALUE   write the MAX31785's hwmon pwmN (0-255), as fan control
#                 will (issue 20)
#   report        each daemon's resident memory and CPU time so far
#   logs          the tail of each daemon's log
#   run COMMAND   run a shell command (the BMC's console is a root shell)
#   poweroff      stop the daemons and power off
/bin/busybox --install -s /bin
export PATH=/bin:/usr/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs run /run
mount -t tmpfs tmp /tmp
mkdir -p /run/dbus /var/log
say() { echo "RBMC-GUEST: $*"; }
say "up on $(uname -m), kernel $(uname -r)"

# The host's time, if the command line gives it (rbmc.time=SECONDS): the
# board model's RTC starts at zero, and SEL entries carry the time.
for word in $(cat /proc/cmdline); do
    case $word in rbmc.time=*) date -s "@${word#rbmc.time=}" >/dev/null ;; esac
done

for module in $(cat /etc/modules); do
    modprobe "$module" || say "module $module failed to load"
done

ip link set lo up
ip link set eth0 up
# QEMU's user network: the guest is 10.0.2.15, the host 10.0.2.2.
ip addr add 10.0.2.15/24 dev eth0
ip route add default via 10.0.2.2

# The system bus. Debian's libraries live in multiarch directories.
LD_LIBRARY_PATH=/lib/arm-linux-gnueabihf:/usr/lib/arm-linux-gnueabihf \
    dbus-daemon --config-file=/etc/dbus-1/system.conf --fork --nopidfile || say "dbus-daemon failed"

# Each daemon as its unit runs it on the image (systemd/*.service), its log
# in /var/log; a daemon that ends says so on the console.
start() {
    daemon=$1
    shift
    mkdir -p "/var/lib/rbmc/$daemon"
    (
        RUST_LOG=info "/bin/rbmc-$daemon" --config /etc/rbmc/rbmc.toml \
            --state-dir "/var/lib/rbmc/$daemon" "$@" >"/var/log/rbmc-$daemon.log" 2>&1
        status=$?
        say "rbmc-$daemon exited with status $status"
        tail -n 30 "/var/log/rbmc-$daemon.log" | sed "s/^/rbmc-$daemon: /"
        say "rbmc-$daemon log ends"
    ) &
}
start sensord
start powerd
start seld
start userd
start pefd
start fand
start netipmid
start kcsd --kcs-device /dev/ipmi-kcs3
# Redfish on the BMC's port 443 (the image's socket unit listens there).
start redfishd --listen 0.0.0.0:443
say "daemons started"

daemons="sensord powerd seld userd pefd fand netipmid kcsd redfishd"
max31785_hwmon() {
    for dir in /sys/class/hwmon/hwmon*; do
        [ "$(cat "$dir/name")" = max31785 ] && echo "$dir" && return
    done
}
while read -r command rest; do
    # shellcheck disable=SC2086 # the arguments are words
    set -- $rest
    first=$1 second=$2
    case $command in
    pwm)
        hwmon=$(max31785_hwmon)
        if [ -n "$hwmon" ] && echo "$second" >"$hwmon/pwm$first"; then
            say "pwm$first set to $(cat "$hwmon/pwm$first")"
        else
            say "pwm$first could not be set"
        fi
        ;;
    report)
        ticks=$(getconf CLK_TCK 2>/dev/null || echo 100)
        for daemon in $daemons; do
            pid=$(pidof "rbmc-$daemon")
            if [ -z "$pid" ]; then
                say "report rbmc-$daemon not running"
                continue
            fi
            rss=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status")
            cpu=$(awk '{print $14 + $15}' "/proc/$pid/stat")
            say "report rbmc-$daemon rss_kib=$rss cpu_ticks=$cpu ticks_per_s=$ticks"
        done
        say "report uptime=$(cut -d' ' -f1 /proc/uptime)"
        ;;
    run)
        eval "$rest" 2>&1
        say "run ended with status $?"
        ;;
    logs)
        for daemon in $daemons; do
            tail -n 20 "/var/log/rbmc-$daemon.log" | sed "s/^/rbmc-$daemon: /"
        done
        say "logs end"
        ;;
    poweroff)
        say "powering off"
        killall rbmc 2>/dev/null
        for daemon in $daemons; do killall "rbmc-$daemon" 2>/dev/null; done
        sleep 1
        poweroff -f
        ;;
    esac
done
say "console closed"
poweroff -f
