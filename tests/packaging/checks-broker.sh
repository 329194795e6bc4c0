# tests/packaging/run, part 3 (sourced): the broker configuration the package adds to
# Debian's mosquitto. mosquitto is started with Debian's own /etc/mosquitto/mosquitto.conf
# (which includes conf.d/gaffer.conf) and stays up for the daemon checks; stop_broker ends it.

section "mosquitto with the dynamic-security plugin"
secret=/etc/gaffer/broker-admin.secret
dynsec=/var/lib/mosquitto/dynamic-security.json
check "$secret is 0600 root:root" sh -c "[ \"\$(stat -c %a:%U:%G $secret)\" = 600:root:root ]"
check "$secret holds a password" test -s "$secret"
check "$dynsec created, 0600 mosquitto" \
  sh -c "[ \"\$(stat -c %a:%U $dynsec)\" = 600:mosquitto ]"
check "$dynsec names the gaffer-admin client" grep -q '"gaffer-admin"' "$dynsec"

broker_pid=
# Debian's config persists to /var/lib/mosquitto/mosquitto.db: leave the machine as found.
broker_db=/var/lib/mosquitto/mosquitto.db
broker_db_existed=no
[ -e "$broker_db" ] && broker_db_existed=yes
stop_broker() {
  [ -n "$broker_pid" ] || return 0
  kill -TERM "$broker_pid" 2>/dev/null
  wait "$broker_pid" 2>/dev/null
  broker_pid=
  [ "$broker_db_existed" = yes ] || rm -f "$broker_db"
}

if ! port_free 1883; then
  fail "port 1883 is in use: cannot start mosquitto with the packaged listener"
else
  install -d -o mosquitto -g mosquitto /run/mosquitto /var/log/mosquitto
  mosquitto -c /etc/mosquitto/mosquitto.conf > "$work/mosquitto.out" 2>&1 &
  broker_pid=$!
  bg_pids+=("$broker_pid")
  if wait_for 10 bash -c '(exec 3<>/dev/tcp/127.0.0.1/1883)'; then
    pass "mosquitto -c /etc/mosquitto/mosquitto.conf starts and listens on 1883"
    password=$(cat "$secret")
    if mosquitto_ctrl -h 127.0.0.1 -p 1883 -u gaffer-admin -P "$password" \
        dynsec listClients > "$work/listclients.out" 2>&1 \
        && grep -qx 'gaffer-admin' "$work/listclients.out"; then
      pass "gaffer-admin administers dynsec with the password in $secret"
    else
      sed 's/^/    /' "$work/listclients.out"
      fail "mosquitto_ctrl dynsec listClients as gaffer-admin"
    fi
    # mosquitto_ctrl exits 0 even when the broker refuses it: read what it says.
    timeout 10 mosquitto_ctrl -h 127.0.0.1 -p 1883 -u gaffer-admin -P wrong \
      dynsec listClients > "$work/wrongpw.out" 2>&1
    check "a wrong password is refused (Not authorized)" \
      sh -c "grep -qi 'not authori' '$work/wrongpw.out' && ! grep -qx 'gaffer-admin' '$work/wrongpw.out'"
    check "anonymous clients are refused" \
      sh -c "! timeout 10 mosquitto_pub -h 127.0.0.1 -p 1883 -t gaffer/test -m x"
  else
    fail "mosquitto did not listen on 1883"
  fi
  if ! kill -0 "$broker_pid" 2>/dev/null; then
    sed 's/^/    /' "$work/mosquitto.out"; tail -n 20 /var/log/mosquitto/mosquitto.log
    fail "mosquitto exited with the packaged configuration"
    broker_pid=
  elif tail -n 20 /var/log/mosquitto/mosquitto.log 2>/dev/null \
      | grep -q 'Error loading Dynamic'; then
    fail "mosquitto could not load the dynamic-security file"
  fi
  check "mosquitto loaded Gaffer's ingest plugin (its socket exists)" \
    wait_for 5 test -S /run/mosquitto/gaffer-ingest.sock
fi
