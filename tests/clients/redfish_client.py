"""A Redfish client for the end-to-end tests, on DMTF's python `redfish`
library: logs in with a session (or HTTP Basic), runs one operation, prints
its result as JSON on stdout, and logs out.

usage: redfish_client.py PORT USER PASSWORD OPERATION [ARGS...]

operations:
  sensors                 every sensor of the chassis: {name: reading}
  get PATH                one resource: {"status": N, "body": {...}}
  post PATH JSON          {"status": N, "body": {...}}
  patch PATH JSON         {"status": N, "body": {...}}
  delete PATH             {"status": N, "body": {...}}
  basic-get PATH          one resource with HTTP Basic instead of a session
"""
import json
import sys
import warnings

import redfish

warnings.filterwarnings("ignore")


def main():
    port, user, password, operation, *args = sys.argv[1:]
    client = redfish.redfish_client(
        base_url="https://127.0.0.1:" + port, username=user, password=password
    )
    auth = "basic" if operation.startswith("basic-") else "session"
    client.login(auth=auth)
    try:
        if operation == "sensors":
            readings = {}
            collection = client.get("/redfish/v1/Chassis/chassis/Sensors").dict
            for member in collection["Members"]:
                sensor = client.get(member["@odata.id"]).dict
                readings[sensor["Name"]] = {
                    "Reading": sensor.get("Reading"),
                    "ReadingRangeMin": sensor.get("ReadingRangeMin"),
                    "ReadingRangeMax": sensor.get("ReadingRangeMax"),
                    "Health": sensor["Status"]["Health"],
                }
            print(json.dumps(readings))
        elif operation in ("get", "basic-get"):
            response = client.get(args[0])
            print(json.dumps({"status": response.status, "body": response.dict}))
        elif operation in ("post", "patch"):
            call = client.post if operation == "post" else client.patch
            response = call(args[0], body=json.loads(args[1]))
            print(json.dumps({"status": response.status, "body": response.dict}))
        elif operation == "delete":
            response = client.delete(args[0])
            print(json.dumps({"status": response.status, "body": response.dict}))
        else:
            sys.exit("unknown operation " + operation)
    finally:
        client.logout()


if __name__ == "__main__":
    main()
