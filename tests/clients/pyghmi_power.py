"""pyghmi's reading of the system's power draw (DCMI Get Power Reading):
prints the watts.

usage: pyghmi_power.py PORT USER PASSWORD
"""
import sys

from pyghmi.ipmi import command


def main():
    port, user, password = sys.argv[1:4]
    bmc = command.Command(bmc="127.0.0.1", userid=user, password=password, port=int(port))
    print(bmc.get_system_power_watts())


if __name__ == "__main__":
    main()
