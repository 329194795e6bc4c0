# The device half of the Gaffer demo, sourced by examples/demo once gafferd is up with the
# demo's broker ($broker_port): a thermostat registered with its own credentials, its
# shadow, and two routes that take its telemetry to a task and the task's command back.
# Uses say/run from examples/demo.

device() {  # mosquitto client options for the thermostat's own account
  printf '%s\n' -h 127.0.0.1 -p "$broker_port" -V 5 -i thermostat-1 -u thermostat-1 -P "$device_password"
}

forget_thermostat() {  # what this part adds, so that the demo can run again
  gaffer --json route list 2>/dev/null | /usr/bin/python3 -c '
import json, sys
for r in json.load(sys.stdin).get("routes", []):
    if "thermostat" in r["source"] + r["target"]:
        print(r["id"])' | while read -r id; do gaffer route remove "$id" >/dev/null; done
  gaffer device remove thermostat-1 >/dev/null 2>&1 || true
  gaffer task remove thermostat-controller >/dev/null 2>&1 || true
}
forget_thermostat

say "Devices: register a thermostat; it gets its own broker account and ACLs"
enrolled=$(gaffer --json device add thermostat-1 --attribute model=T100 --group ground-floor)
device_password=$(printf '%s' "$enrolled" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["credentials"]["password"])')
run gaffer device show thermostat-1

say "The thermostat connects with its credentials and waits for commands and shadow deltas"
mapfile -t opts < <(device)
/usr/bin/python3 examples/demo-thermostat.py "$broker_port" "$device_password" "$demo_dir/go" \
  > "$demo_dir/device.out" 2>&1 &
device_pid=$!
sleep 0.5

say "Operator sets the wanted temperature in the device shadow (AWS IoT shadow semantics)"
run gaffer shadow update thermostat-1 '{"state": {"desired": {"temperature": 21}}, "clientToken": "demo-1"}'

say "Routes: the thermostat's telemetry goes to a task, the task's commands go back to it"
run gaffer task add "$examples/thermostat-controller/manifest.json"
run gaffer route add device:thermostat-1 things/thermostat-1/telemetry task:thermostat-controller
run gaffer route add task:thermostat-controller things/thermostat-1/commands device:thermostat-1
run gaffer route list

say "The thermostat reports 19.5 degrees: the controller reads the shadow and answers"
touch "$demo_dir/go"   # the thermostat publishes {"temperature": 19.5} on its telemetry topic
wait $device_pid || true
echo "what the thermostat received:"
sed 's/^/  /' "$demo_dir/device.out"
echo "its QoS 1 telemetry was acknowledged only once gafferd had committed the invocation:"
curl -s --unix-socket "$socket" http://localhost/metrics | grep '^gaffer_mqtt_messages_ingested_total'

say "The thermostat reports its state over MQTT; its shadow now has reported and desired"
mosquitto_pub "${opts[@]}" -q 1 -t '$aws/things/thermostat-1/shadow/update' \
  -m '{"state": {"reported": {"temperature": 19.5, "heating": "on"}}}'
sleep 0.3
run gaffer shadow get thermostat-1

say "Default deny: the thermostat may not listen to other devices' topics"
mosquitto_sub "${opts[@]}" -t 'things/#' -C 1 -W 2 2>&1 | head -n 2 || true

say "Removing the thermostat revokes its broker account at once"
run gaffer device remove thermostat-1
mosquitto_pub "${opts[@]}" -t things/thermostat-1/telemetry -m x 2>&1 | head -n 1 || true
forget_thermostat
