"""One sensor as pyghmi's get_sensor_data reads it: prints its value on the
first line, then its states (threshold crossings) one per line.

usage: pyghmi_sensor.py PORT USER PASSWORD NAME
"""
import sys

from pyghmi.ipmi import command


def main():
    port, user, password, name = sys.argv[1:5]
    bmc = command.Command(bmc="127.0.0.1", userid=user, password=password, port=int(port))
    try:
        for reading in bmc.get_sensor_data():
            if reading.name == name:
                print(reading.value)
                for state in reading.states:
                    print(state)
                return
        sys.exit("no sensor named " + name)
    finally:
        # Close the session: the test calls this in a loop, and sessions
        # per user are limited.
        bmc.ipmi_session.logout()


if __name__ == "__main__":
    main()
