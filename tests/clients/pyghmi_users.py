"""pyghmi, the third IPMI client of the end-to-end tests: lists or creates
users on a BMC, printing what pyghmi itself reports.

usage: pyghmi_users.py PORT USER PASSWORD list
       pyghmi_users.py PORT USER PASSWORD create UID NAME PASSWORD PRIVILEGE
"""
import json
import sys

from pyghmi.ipmi import command


def main():
    port, user, password, action = sys.argv[1:5]
    bmc = command.Command(bmc="127.0.0.1", userid=user, password=password, port=int(port))
    if action == "create":
        uid, name, new_password, privilege = sys.argv[5:9]
        bmc.create_user(uid=int(uid), name=name, password=new_password,
                        privilege_level=privilege, channel=1)
    users = bmc.get_users(channel=1)
    print(json.dumps({str(uid): {"name": u["name"], "privilege": u["access"]["privilege_level"]}
                      for uid, u in users.items()}, sort_keys=True))


if __name__ == "__main__":
    main()
