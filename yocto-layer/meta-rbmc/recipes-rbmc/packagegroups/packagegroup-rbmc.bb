SUMMARY = "rbmc: every daemon of the BMC suite, with its config and policy"
DESCRIPTION = "Pulls in the rbmc daemons (sensors, power, SEL, accounts, \
               IPMI over LAN, KCS host interface) and rbmc-config, which holds the \
               board config, the D-Bus policy, rbmc.target and the device \
               access rules."
# Placeholder, like the rbmc recipe's HOMEPAGE.
BUGTRACKER = "https://github.com/rbmc/rbmc/issues"
SECTION = "console/network"
LICENSE = "MIT"

inherit packagegroup

RDEPENDS:${PN} = "\
    rbmc-config \
    rbmc-fand \
    rbmc-kcsd \
    rbmc-netipmid \
    rbmc-pefd \
    rbmc-powerd \
    rbmc-redfishd \
    rbmc-seld \
    rbmc-sensord \
    rbmc-userd \
    "
