SUMMARY = "rbmc: a BMC daemon suite in Rust"
SUMMARY:${PN}-core = "rbmc multi-call executable that every rbmc daemon runs"
SUMMARY:${PN}-sensord = "rbmc sensors, SDR repository, FRU and BMC identity"
SUMMARY:${PN}-powerd = "rbmc power and GPIO control: chassis, boot options, watchdog"
SUMMARY:${PN}-seld = "rbmc System Event Log"
SUMMARY:${PN}-userd = "rbmc accounts owner"
SUMMARY:${PN}-pefd = "rbmc PEF and alert owner"
SUMMARY:${PN}-fand = "rbmc fan control: the PWM outputs' owner"
SUMMARY:${PN}-netipmid = "rbmc RMCP+ (IPMI over LAN) network bridge"
SUMMARY:${PN}-kcsd = "rbmc KCS host interface"
SUMMARY:${PN}-redfishd = "rbmc Redfish service (HTTPS)"
SUMMARY:${PN}-config = "rbmc board config, D-Bus policy, rbmc.target and device rules"
DESCRIPTION = "Small daemons, one per concern, that talk over D-Bus: sensors \
               and FRU (rbmc-sensord), power and GPIO (rbmc-powerd), the System \
               Event Log (rbmc-seld), accounts (rbmc-userd), Platform Event Filtering and alerts (rbmc-pefd), fan control (rbmc-fand), IPMI over LAN (rbmc-netipmid) and the KCS \
               host interface (rbmc-kcsd) and Redfish (rbmc-redfishd), with their systemd units, D-Bus \
               policy and board config."
# Placeholder, like RBMC_GIT_REPO below: point both at where rbmc is published.
HOMEPAGE = "https://github.com/rbmc/rbmc"
BUGTRACKER = "https://github.com/rbmc/rbmc/issues"
SECTION = "console/network"
CVE_PRODUCT = "rbmc"
# The workspace's license (Cargo.toml [workspace.package] license). The
# repository has no LICENSE file, so the checksum is of oe-core's copy.
LICENSE = "Apache-2.0"
LIC_FILES_CHKSUM = "file://${COMMON_LICENSE_DIR}/Apache-2.0;md5=89aea4e17d99a7cacdbeed46a0096b10"

PV = "0.1.0+git"

# Where rbmc's git repository is: a placeholder until rbmc is published.
# Set these where you build (e.g. RBMC_GIT_REPO:pn-rbmc in local.conf);
# overriding SRC_URI itself would drop the crate list appended to it.
RBMC_GIT_REPO ?= "github.com/rbmc/rbmc.git"
RBMC_GIT_PROTOCOL ?= "https"
RBMC_GIT_BRANCH ?= "main"
# destsuffix=${BP} puts the checkout where every supported release expects S
# by default (${WORKDIR}/${BP} up to walnascar, ${UNPACKDIR}/${BP} after), so
# S need not be set.
SRC_URI = "git://${RBMC_GIT_REPO};protocol=${RBMC_GIT_PROTOCOL};branch=${RBMC_GIT_BRANCH};destsuffix=${BP} \
           file://70-rbmc.rules \
           file://rbmc-kcsd-device-group.conf \
           "
# The commit to build. The all-zero value is a placeholder that fails at
# fetch time with a clear message (never at parse time, as ${AUTOREV} on an
# unreachable URL would). Set it where you build, e.g. in local.conf:
#     SRCREV:pn-rbmc = "<commit>"
# and keep rbmc-crates.inc generated from that commit's Cargo.lock
# (yocto-layer/scripts/gen-crates-inc.py).
SRCREV ?= "0000000000000000000000000000000000000000"

# The crates.io dependencies, generated from Cargo.lock.
require ${BPN}-crates.inc

inherit cargo cargo-update-recipe-crates systemd useradd

# The daemons the image runs, all in one multi-call executable, /usr/bin/rbmc,
# with each daemon's name a link to it (docs/SIZE.md: 3.4 MB on armv7 instead
# of 12.9 MB for five binaries). The workspace also holds rbmc-dev (the
# development launcher with a built-in bus) and the test crate; neither
# belongs on a BMC, so only the multi-call package is built.
RBMC_DAEMONS = "rbmc-sensord rbmc-powerd rbmc-seld rbmc-userd rbmc-pefd rbmc-fand rbmc-netipmid rbmc-kcsd rbmc-redfishd"
CARGO_BUILD_FLAGS:append = " -p rbmc"
# The release profile strips symbols itself (Cargo.toml). Leave that to
# bitbake, which splits debug info into rbmc-dbg and would otherwise flag the
# binaries as already stripped.
export CARGO_PROFILE_RELEASE_STRIP = "none"

# The board config installed as /etc/rbmc/rbmc.toml: a file in the source
# tree's configs/, or in RBMC_BOARD_CONFIG_DIR (a bbappend can point that at
# its own files). configs/dev.toml carries a development password and is
# refused.
RBMC_BOARD_CONFIG ?= "ast2600-evb.toml"
RBMC_BOARD_CONFIG_DIR ?= "${S}/configs"
# Network interfaces that get an RMCP+ socket (rbmc-netipmid@IF.socket).
RBMC_LAN_INTERFACES ?= "eth0"
# KCS devices, /dev/NAME, that get a host interface (rbmc-kcsd@NAME.service).
# ipmi-kcs3 is the host KCS channel at LPC I/O 0xCA2 (docs/AST2600.md).
RBMC_KCS_DEVICES ?= "ipmi-kcs3"

# Where local files (file://) were unpacked: UNPACKDIR from styhead on,
# WORKDIR before it.
RBMC_FILESDIR = "${@d.getVar('UNPACKDIR') or d.getVar('WORKDIR')}"

do_install() {
    if [ "${RBMC_BOARD_CONFIG}" = "dev.toml" ]; then
        bbfatal "RBMC_BOARD_CONFIG = dev.toml: that config carries a development password and must not reach an image"
    fi

    install -d ${D}${bindir}
    install -m 0755 ${B}/target/${CARGO_TARGET_SUBDIR}/rbmc ${D}${bindir}/rbmc
    for daemon in ${RBMC_DAEMONS}; do
        ln -sf rbmc ${D}${bindir}/$daemon
    done

    install -d ${D}${systemd_system_unitdir}
    install -m 0644 ${S}/systemd/rbmc.target ${D}${systemd_system_unitdir}/
    for unit in ${S}/systemd/rbmc-*.service ${S}/systemd/rbmc-*.socket; do
        install -m 0644 $unit ${D}${systemd_system_unitdir}/
    done
    # The units name the FHS paths; follow the distro's if they differ.
    sed -i -e 's#/usr/bin/#${bindir}/#g' -e 's#/etc/rbmc/#${sysconfdir}/rbmc/#g' \
        ${D}${systemd_system_unitdir}/rbmc-*
    install -d ${D}${systemd_system_unitdir}/rbmc-kcsd@.service.d
    install -m 0644 ${RBMC_FILESDIR}/rbmc-kcsd-device-group.conf \
        ${D}${systemd_system_unitdir}/rbmc-kcsd@.service.d/10-device-group.conf

    # The same users and groups as the useradd class below makes; on a
    # systemd image systemd-sysusers finds them there and does nothing.
    install -d ${D}${nonarch_libdir}/sysusers.d
    install -m 0644 ${S}/systemd/sysusers.d/rbmc.conf ${D}${nonarch_libdir}/sysusers.d/

    install -d ${D}${datadir}/dbus-1/system.d
    install -m 0644 ${S}/systemd/dbus-1/system.d/org.rbmc.conf ${D}${datadir}/dbus-1/system.d/

    install -d ${D}${nonarch_base_libdir}/udev/rules.d
    install -m 0644 ${RBMC_FILESDIR}/70-rbmc.rules ${D}${nonarch_base_libdir}/udev/rules.d/

    # World-readable: every daemon reads it, each as its own user. So a board
    # config holds no passwords (rbmc warns if one with [[users]] is
    # world-readable).
    install -d ${D}${sysconfdir}/rbmc
    install -m 0644 ${RBMC_BOARD_CONFIG_DIR}/${RBMC_BOARD_CONFIG} ${D}${sysconfdir}/rbmc/rbmc.toml

    # rbmc.target's Documentation= points here.
    install -d ${D}${docdir}/${BPN}
    install -m 0644 ${S}/docs/ARCHITECTURE.md ${D}${docdir}/${BPN}/
}

# One package per daemon (its link and units), the multi-call executable
# they all run, and the config, D-Bus policy, target and device rules they
# share. The main package stays empty: install packagegroup-rbmc, or the
# daemons one by one.
PACKAGE_BEFORE_PN = "${PN}-core ${PN}-sensord ${PN}-powerd ${PN}-seld ${PN}-userd ${PN}-pefd ${PN}-fand ${PN}-netipmid ${PN}-kcsd ${PN}-redfishd ${PN}-config"
FILES:${PN}-core += "${bindir}/rbmc"

FILES:${PN}-sensord += "${bindir}/rbmc-sensord ${systemd_system_unitdir}/rbmc-sensord.service"
FILES:${PN}-powerd += "${bindir}/rbmc-powerd ${systemd_system_unitdir}/rbmc-powerd.service"
FILES:${PN}-seld += "${bindir}/rbmc-seld ${systemd_system_unitdir}/rbmc-seld.service"
FILES:${PN}-userd += "${bindir}/rbmc-userd ${systemd_system_unitdir}/rbmc-userd.service"
FILES:${PN}-pefd += "${bindir}/rbmc-pefd ${systemd_system_unitdir}/rbmc-pefd.service"
FILES:${PN}-fand += "${bindir}/rbmc-fand ${systemd_system_unitdir}/rbmc-fand.service"
# The systemd class adds a template's files only for the names listed in
# SYSTEMD_SERVICE, not for instances of it: list the templates here.
FILES:${PN}-netipmid += "${bindir}/rbmc-netipmid \
                         ${systemd_system_unitdir}/rbmc-netipmid@.service \
                         ${systemd_system_unitdir}/rbmc-netipmid@.socket \
                         "
FILES:${PN}-kcsd += "${bindir}/rbmc-kcsd \
                     ${systemd_system_unitdir}/rbmc-kcsd@.service \
                     ${systemd_system_unitdir}/rbmc-kcsd@.service.d \
                     "
FILES:${PN}-redfishd += "${bindir}/rbmc-redfishd \
                         ${systemd_system_unitdir}/rbmc-redfishd.service \
                         ${systemd_system_unitdir}/rbmc-redfishd.socket \
                         "
FILES:${PN}-config += "${sysconfdir}/rbmc \
                       ${datadir}/dbus-1/system.d/org.rbmc.conf \
                       ${nonarch_libdir}/sysusers.d/rbmc.conf \
                       ${systemd_system_unitdir}/rbmc.target \
                       ${nonarch_base_libdir}/udev/rules.d/70-rbmc.rules \
                       "
CONFFILES:${PN}-config += "${sysconfdir}/rbmc/rbmc.toml"

RDEPENDS:${PN}-sensord = "${PN}-config ${PN}-core"
RDEPENDS:${PN}-powerd = "${PN}-config ${PN}-core"
RDEPENDS:${PN}-seld = "${PN}-config ${PN}-core"
RDEPENDS:${PN}-userd = "${PN}-config ${PN}-core"
RDEPENDS:${PN}-pefd = "${PN}-config ${PN}-core"
RDEPENDS:${PN}-fand = "${PN}-config ${PN}-core"
RDEPENDS:${PN}-netipmid = "${PN}-config ${PN}-core"
RDEPENDS:${PN}-kcsd = "${PN}-config ${PN}-core"
RDEPENDS:${PN}-redfishd = "${PN}-config ${PN}-core"

SYSTEMD_PACKAGES = "${PN}-sensord ${PN}-powerd ${PN}-seld ${PN}-userd ${PN}-pefd ${PN}-fand ${PN}-netipmid ${PN}-kcsd ${PN}-redfishd ${PN}-config"
SYSTEMD_SERVICE:${PN}-sensord = "rbmc-sensord.service"
SYSTEMD_SERVICE:${PN}-powerd = "rbmc-powerd.service"
SYSTEMD_SERVICE:${PN}-seld = "rbmc-seld.service"
SYSTEMD_SERVICE:${PN}-userd = "rbmc-userd.service"
SYSTEMD_SERVICE:${PN}-pefd = "rbmc-pefd.service"
SYSTEMD_SERVICE:${PN}-fand = "rbmc-fand.service"
SYSTEMD_SERVICE:${PN}-netipmid = "${@' '.join('rbmc-netipmid@%s.socket' % lan for lan in d.getVar('RBMC_LAN_INTERFACES').split())}"
# The instance is the device name escaped as systemd does (- becomes \x2d),
# so the unit binds to the device's own .device unit.
SYSTEMD_SERVICE:${PN}-kcsd = "${@' '.join('rbmc-kcsd@%s.service' % kcs.replace('-', '\\x2d') for kcs in d.getVar('RBMC_KCS_DEVICES').split())}"
SYSTEMD_SERVICE:${PN}-redfishd = "rbmc-redfishd.socket rbmc-redfishd.service"
SYSTEMD_SERVICE:${PN}-config = "rbmc.target"
SYSTEMD_AUTO_ENABLE = "enable"

# Users and groups.
# - The units run as static system users (User=rbmc-sensord, ...), and the
#   D-Bus policy grants bus names to those names. dbus-daemon and
#   dbus-broker resolve policy user names when they load their config, at
#   boot, before any rbmc unit has started: the users must exist by then.
#   These are the users systemd/sysusers.d/rbmc.conf names (installed too);
#   tests/systemd_units.rs checks the two lists agree.
# - The groups the units' SupplementaryGroups= name; 70-rbmc.rules gives them
#   the devices. systemd refuses to start a unit whose group does not exist.
USERADD_PACKAGES = "${PN}-sensord ${PN}-powerd ${PN}-seld ${PN}-userd ${PN}-pefd ${PN}-fand ${PN}-netipmid ${PN}-kcsd ${PN}-redfishd ${PN}-config"
RBMC_USERADD_OPTS = "--system --no-create-home --home-dir /nonexistent --shell /bin/false --user-group"
USERADD_PARAM:${PN}-sensord = "${RBMC_USERADD_OPTS} rbmc-sensord"
USERADD_PARAM:${PN}-powerd = "${RBMC_USERADD_OPTS} rbmc-powerd"
USERADD_PARAM:${PN}-seld = "${RBMC_USERADD_OPTS} rbmc-seld"
USERADD_PARAM:${PN}-userd = "${RBMC_USERADD_OPTS} rbmc-userd"
USERADD_PARAM:${PN}-pefd = "${RBMC_USERADD_OPTS} rbmc-pefd"
USERADD_PARAM:${PN}-fand = "${RBMC_USERADD_OPTS} rbmc-fand"
USERADD_PARAM:${PN}-netipmid = "${RBMC_USERADD_OPTS} rbmc-netipmid"
USERADD_PARAM:${PN}-kcsd = "${RBMC_USERADD_OPTS} rbmc-kcsd"
USERADD_PARAM:${PN}-redfishd = "${RBMC_USERADD_OPTS} rbmc-redfishd"
GROUPADD_PARAM:${PN}-config = "--system i2c; --system gpio; --system ipmi-kcs; --system hwmon-pwm"
