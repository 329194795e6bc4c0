# tests/packaging/run, part 2 (sourced): what the installed package put on the machine.

section "installed files"
for f in /usr/sbin/gafferd /usr/bin/gaffer /usr/libexec/gaffer/gaffer-init \
    /usr/libexec/gaffer/gaffer-broker-init; do
  check "executable $f" test -x "$f"
done
for f in /lib/systemd/system/gafferd.service /lib/systemd/system/gaffer-broker-init.service \
    /usr/lib/sysusers.d/gaffer.conf \
    /usr/lib/tmpfiles.d/gaffer.conf /etc/gaffer/gaffer.toml \
    /usr/libexec/gaffer/gaffer-mqtt-paho.so /usr/libexec/gaffer/gaffer-mosquitto-ingest.so \
    /etc/mosquitto/conf.d/gaffer.conf /usr/share/doc/gaffer/copyright; do
  check "file $f" test -f "$f"
done
examples=$(find /usr/share/gaffer/examples -name manifest.json 2>/dev/null | sort)
check "examples installed under /usr/share/gaffer/examples" test -n "$examples"
docs_in_tree=$(cd "$repo/docs" 2>/dev/null && ls -- *.md 2>/dev/null)
for d in $docs_in_tree; do
  check "doc /usr/share/doc/gaffer/$d" \
    sh -c "test -f /usr/share/doc/gaffer/$d || test -f /usr/share/doc/gaffer/$d.gz"
done
check "nothing installed into /usr/local" \
  sh -c "! dpkg -L gaffer | grep -q '^/usr/local'"
check "no test programs packaged (built with -Dtests=false)" \
  sh -c "! dpkg -L gaffer | grep -Eq '/(tests?|bench)/|_test\$'"

section "users, groups, directories"
check "system group gaffer exists" getent group gaffer
check "system user gaffer-task exists" getent passwd gaffer-task
task_uid=$(id -u gaffer-task 2>/dev/null || echo 0)
check "gaffer-task is a system user (uid $task_uid < 1000)" test "$task_uid" -gt 0 -a "$task_uid" -lt 1000
check "gaffer-task has no login shell" \
  sh -c "getent passwd gaffer-task | cut -d: -f7 | grep -Eq '/(nologin|false)\$'"
check "gaffer-task is not in group gaffer (tasks cannot reach the API)" \
  sh -c "! id -nG gaffer-task | tr ' ' '\n' | grep -qx gaffer"
check "/var/lib/gaffer is 0750 root:root" \
  sh -c '[ "$(stat -c %a:%U:%G /var/lib/gaffer)" = 750:root:root ]'
check "/var/log/gaffer/tasks exists" test -d /var/log/gaffer/tasks
check "/run/gaffer exists" test -d /run/gaffer

section "conffiles"
conffiles=$(dpkg-query -W -f='${Conffiles}' gaffer)
printf '%s\n' "$conffiles" | sed '/^$/d; s/^/    /'
has_conffile() { printf '%s\n' "$conffiles" | grep -q "^ $1 "; }
for c in /etc/gaffer/gaffer.toml /etc/mosquitto/conf.d/gaffer.conf /etc/gaffer/mosquitto-ingest.conf; do
  check "conffile $c" has_conffile "$c"
done
check "the ingest plugin's config is linked into mosquitto's conf.d" \
  sh -c '[ "$(readlink /etc/mosquitto/conf.d/gaffer-ingest.conf)" = /etc/gaffer/mosquitto-ingest.conf ]'

section "systemd unit"
unit=/lib/systemd/system/gafferd.service
for line in 'Type=notify' 'Delegate=yes' 'KillMode=mixed' 'Restart=on-failure' \
    'ExecStart=/usr/sbin/gafferd --config /etc/gaffer/gaffer.toml' 'RuntimeDirectory=gaffer' \
    'StateDirectory=gaffer' 'NoNewPrivileges=yes' 'ProtectSystem=full'; do
  check "unit has $line" grep -qx "$line" "$unit"
done
for u in "$unit" /lib/systemd/system/gaffer-broker-init.service; do
  if systemd-analyze verify "$u" > "$work/verify.log" 2>&1; then
    pass "systemd-analyze verify $u"
  else
    sed 's/^/    /' "$work/verify.log"; fail "systemd-analyze verify $u"
  fi
done
check "gafferd.service enabled (multi-user.target.wants)" \
  test -L /etc/systemd/system/multi-user.target.wants/gafferd.service
