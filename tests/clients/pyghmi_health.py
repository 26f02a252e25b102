"""pyghmi's view of the BMC's health: prints the health word and the names
of the sensors it reports as bad, one per line after it.

usage: pyghmi_health.py PORT USER PASSWORD
"""
import sys

from pyghmi.ipmi import command


def main():
    port, user, password = sys.argv[1:4]
    bmc = command.Command(bmc="127.0.0.1", userid=user, password=password, port=int(port))
    health = bmc.get_health()
    # pyghmi's health is a bit set: 0 ok, 1 warning, 2 critical, 4 failed.
    print(int(health["health"]))
    for reading in health["badreadings"]:
        print(reading.name)


if __name__ == "__main__":
    main()
