# tests/packaging/run, part 4 (sourced): gafferd from the package, with the packaged config.
# systemd is not PID 1 here, so the daemon is started directly: once with a notification
# socket (as systemd's Type=notify would run it, watchdog on) and once without one. The
# check that matters most is the documented restart behaviour: after SIGTERM no task
# process, no gaffer-init and no environment cgroup survives the daemon.

gafferd=/usr/sbin/gafferd
gaffer_init=/usr/libexec/gaffer/gaffer-init
api_socket=/run/gaffer/gaffer.sock
gafferd_pid=

start_gafferd() {  # start_gafferd LOGFILE [VAR=value...]: env assignments for the daemon
  local log=$1; shift
  env "$@" "$gafferd" --config /etc/gaffer/gaffer.toml > "$log" 2>&1 &
  gafferd_pid=$!
  bg_pids+=("$gafferd_pid")
}

# stop_gafferd: SIGTERM, wait up to 60 s (the unit's TimeoutStopSec); sets gafferd_status.
stop_gafferd() {
  gafferd_status=none
  [ -n "$gafferd_pid" ] || return 0
  kill -TERM "$gafferd_pid" 2>/dev/null
  if wait_for 60 sh -c "! kill -0 $gafferd_pid"; then
    wait "$gafferd_pid" 2>/dev/null; gafferd_status=$?
  else
    gafferd_status=timeout
    kill -KILL "$gafferd_pid" 2>/dev/null; wait "$gafferd_pid" 2>/dev/null
  fi
  gafferd_pid=
}

# Task processes: anything in an environment cgroup (<daemon's cgroup>/gaffer/<env>, the
# environments.cgroup_parent default), and any gaffer-init.
task_processes() {
  local p
  {
    for p in /proc/[0-9]*; do
      grep -qs '/gaffer/' "$p/cgroup" && printf '%s\n' "${p#/proc/}"
    done
    pids_of_exe "$gaffer_init"
  } | sort -u
}
has_task_processes() { [ -n "$(task_processes)" ]; }

check_nothing_survives() {  # after the daemon exited
  local left
  sleep 0.5
  left=$(task_processes | tr '\n' ' ')
  check "no task or gaffer-init process survives gafferd${left:+ (left: $left)}" test -z "$left"
  list_cgroups > "$work/cgroups.after"
  # The parent (.../gaffer) may stay; no environment below it may.
  left=$(comm -13 "$cgroups_before" "$work/cgroups.after" | grep '/gaffer/' | tr '\n' ' ')
  check "no environment cgroup survives gafferd${left:+ (left: $left)}" test -z "$left"
}

socket_ok() {
  [ -S "$api_socket" ] && [ "$(stat -c %a:%G "$api_socket")" = 660:gaffer ]
}

# The examples: an on-demand lambda task to invoke (hello-shell if present). The
# long-lived task is the test's own: a sleep in an environment, to watch it die with the
# daemon and come back with the next one.
ondemand_manifest=-
for m in /usr/share/gaffer/examples/hello-shell/manifest.json \
    /usr/share/gaffer/examples/*/manifest.json; do
  if [ -f "$m" ] && grep -q '"interface": *"lambda"' "$m"; then ondemand_manifest=$m; break; fi
done
longlived_manifest="$work/longlived/manifest.json"
mkdir -p "$work/longlived"
cat > "$longlived_manifest" <<'EOF'
{
  "name": "pkgtest-longlived",
  "version": "1",
  "owner": "pkgtest",
  "command": ["/bin/sleep", "3600"],
  "artifact_dir": "/usr/share/gaffer/examples",
  "mode": "long-lived",
  "interface": "process",
  "limits": {"memory": "16M", "cpu": 0.1, "pids": 4},
  "user": "nobody",
  "network": "none"
}
EOF
chmod -R a+rX "$work/longlived"
task_name() { /usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["name"])' "$1"; }

section "gafferd with a notification socket and the watchdog (as under systemd)"
notify_sock="$work/notify.sock"; notify_log="$work/notify.log"
: > "$notify_log"
/usr/bin/python3 "$here/notify-listener.py" "$notify_sock" "$notify_log" &
bg_pids+=("$!")
wait_for 5 test -S "$notify_sock" || fail "the notification listener did not start"
start_gafferd "$work/gafferd-notify.log" NOTIFY_SOCKET="$notify_sock" WATCHDOG_USEC=2000000
if wait_for 30 grep -qx 'READY=1' "$notify_log"; then
  pass "gafferd sent READY=1"
else
  sed 's/^/    /' "$work/gafferd-notify.log" | tail -n 30
  fail "gafferd sent no READY=1 within 30 s"
fi
check "gafferd sent a STATUS= line" grep -q '^STATUS=.' "$notify_log"
check "gafferd sent WATCHDOG=1 (WATCHDOG_USEC=2 s)" wait_for 5 grep -qx 'WATCHDOG=1' "$notify_log"
check "API socket $api_socket is 0660 group gaffer" wait_for 10 socket_ok
check "a member of group gaffer may use the CLI" \
  setpriv --reuid=nobody --regid=gaffer --clear-groups gaffer status
check "a user outside group gaffer may not" \
  sh -c 'test -x /usr/bin/gaffer && ! setpriv --reuid=nobody --regid=nogroup --clear-groups gaffer status'

if [ "$ondemand_manifest" = - ]; then
  fail "no on-demand example manifest under /usr/share/gaffer/examples"
else
  name=$(task_name "$ondemand_manifest")
  if gaffer task add "$ondemand_manifest" > "$work/add.out" 2>&1; then
    pass "gaffer task add $ondemand_manifest"
  else
    sed 's/^/    /' "$work/add.out"; fail "gaffer task add $ondemand_manifest"
  fi
  payload='{"packaging-test":"ping"}'
  if gaffer task invoke "$name" --payload "$payload" > "$work/invoke.out" 2>&1; then
    pass "gaffer task invoke $name --payload '$payload'"
    sed 's/^/    /' "$work/invoke.out"
    # Every example echoes its event back (hello-shell: "Echoing request: '<event>'").
    check "the response carries the event back" grep -q 'packaging-test' "$work/invoke.out"
  else
    sed 's/^/    /' "$work/invoke.out"; fail "gaffer task invoke $name"
  fi
fi
if gaffer task add "$longlived_manifest" > "$work/add-ll.out" 2>&1; then
  pass "gaffer task add (a long-lived sleep)"
else
  sed 's/^/    /' "$work/add-ll.out"; fail "gaffer task add $longlived_manifest"
fi
check "the long-lived task runs in an environment cgroup" wait_for 20 has_task_processes
note "task processes before SIGTERM: $(task_processes | tr '\n' ' ')"
env_cgroups=$(list_cgroups | grep -c '/gaffer/')
check "the environments have cgroups below a gaffer parent ($env_cgroups)" test "$env_cgroups" -gt 0
stop_gafferd
check "gafferd exits 0 on SIGTERM (got $gafferd_status)" test "$gafferd_status" = 0
check "gafferd sent STOPPING=1" grep -qx 'STOPPING=1' "$notify_log"
check_nothing_survives

section "gafferd without systemd (no NOTIFY_SOCKET): stderr logging, plain signals"
start_gafferd "$work/gafferd-plain.log" -u NOTIFY_SOCKET -u WATCHDOG_USEC
if wait_for 30 socket_ok; then
  pass "gafferd serves $api_socket without a notification socket"
else
  sed 's/^/    /' "$work/gafferd-plain.log" | tail -n 30; fail "no API socket without systemd"
fi
check "gafferd logs to stderr" test -s "$work/gafferd-plain.log"
check "gafferd connects to the broker's ingest plugin (/run/mosquitto/gaffer-ingest.sock)" \
  wait_for 10 grep -q "ingest: connected to the broker's plugin at /run/mosquitto/gaffer-ingest.sock" \
  "$work/gafferd-plain.log"
if [ "$ondemand_manifest" != - ]; then
  check "the task added before the restart is still known (state in /var/lib/gaffer)" \
    sh -c "gaffer task list | grep -q '$(task_name "$ondemand_manifest")'"
fi
check "the new daemon starts the long-lived task again" wait_for 20 has_task_processes
stop_gafferd
check "gafferd exits 0 on SIGTERM without systemd (got $gafferd_status)" test "$gafferd_status" = 0
check_nothing_survives
sed 's/^/    gafferd: /' "$work/gafferd-plain.log" | tail -n 8
stop_broker
