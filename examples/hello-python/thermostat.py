"""The thermostat controller: a Python Lambda handler that Gaffer invokes with device
telemetry (a route device:<thing> -> task:thermostat-controller), reads the device's
shadow for the temperature an operator asked for, and sends the device a command (a route
task:thermostat-controller -> device:<thing>). Both calls use Gaffer's extension of the
runtime API (docs/task-devices-api.md); bootstrap.py is the runtime loop."""
import json
import os
import urllib.parse
import urllib.request

API = "http://{}/gaffer/v1".format(os.environ.get("GAFFER_RUNTIME_API") or os.environ["AWS_LAMBDA_RUNTIME_API"])


def call(method, path, body=None):
    request = urllib.request.Request(API + path, data=body, method=method)
    with urllib.request.urlopen(request) as response:
        return json.loads(response.read() or b"null")


def handle(event, context):
    # things/<thing>/telemetry, payload {"temperature": 19.5}
    thing = event["topic"].split("/")[1]
    temperature = float(event["payload"]["temperature"])
    shadow = call("GET", "/shadow/" + urllib.parse.quote(thing))
    wanted = float(shadow.get("state", {}).get("desired", {}).get("temperature", temperature))
    command = {"heating": "on" if temperature < wanted - 0.5 else "off", "target": wanted}
    topic = "things/%s/commands" % thing
    query = urllib.parse.urlencode({"topic": topic, "qos": 1})
    call("POST", "/publish?" + query, json.dumps(command).encode())
    print("%s at %.1f, wants %.1f: heating %s" % (thing, temperature, wanted, command["heating"]))
    return {"thing": thing, "command": command}
