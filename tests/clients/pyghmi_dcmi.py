"""pyghmi's DCMI identity calls: with no argument prints the asset tag and
the management controller identifier string, one per line; with two, sets
them first.

usage: pyghmi_dcmi.py PORT USER PASSWORD [ASSET_TAG CONTROLLER_ID]
"""
import sys

from pyghmi.ipmi import command


def main():
    port, user, password = sys.argv[1:4]
    bmc = command.Command(bmc="127.0.0.1", userid=user, password=password, port=int(port))
    if len(sys.argv) > 5:
        bmc.set_asset_tag(sys.argv[4].encode())
        bmc.set_mci(sys.argv[5])
    print(bmc.get_asset_tag())
    print(bmc.get_mci())


if __name__ == "__main__":
    main()
