# tests/packaging/run, part 5 (sourced): upgrade to a newer version over an edited config,
# then purge. The newer version is the same build repacked with version +1 (a real dpkg
# upgrade through the maintainer scripts, without a second compile).

section "upgrade keeps the edited config and the state"
marker="# edited by the packaging test $$"
printf '%s\n' "$marker" >> /etc/gaffer/gaffer.toml
state_before=$(cd /var/lib/gaffer && find . -type f | sort)
secret_before=$(cat /etc/gaffer/broker-admin.secret 2>/dev/null)
dynsec_before=$(md5sum < /var/lib/mosquitto/dynamic-security.json 2>/dev/null)

old_version=$(dpkg-deb -f "$work/gaffer.deb" Version)
new_version="${old_version}+pkgtest1"
rm -rf "$work/repack"
dpkg-deb -R "$work/gaffer.deb" "$work/repack"
sed -i "s/^Version: .*/Version: $new_version/" "$work/repack/DEBIAN/control"
dpkg-deb -b "$work/repack" "$work/gaffer-new.deb" > /dev/null
if apt-get install -y -q "$work/gaffer-new.deb" > "$work/upgrade.log" 2>&1; then
  pass "upgrade $old_version -> $new_version"
else
  sed 's/^/    /' "$work/upgrade.log"; fail "upgrade $old_version -> $new_version"
fi
check "installed version is $new_version" \
  sh -c "[ \"\$(dpkg-query -W -f='\${Version}' gaffer)\" = '$new_version' ]"
check "the edited /etc/gaffer/gaffer.toml is kept" grep -qxF "$marker" /etc/gaffer/gaffer.toml
check "no .dpkg-dist/.dpkg-new config left beside it" \
  sh -c '! ls /etc/gaffer/gaffer.toml.dpkg-* 2>/dev/null | grep -q .'
state_after=$(cd /var/lib/gaffer && find . -type f | sort)
check "the state files in /var/lib/gaffer are kept" test "$state_before" = "$state_after"
check "the broker admin secret is unchanged" \
  test "$secret_before" = "$(cat /etc/gaffer/broker-admin.secret 2>/dev/null)"
check "the broker's dynamic-security file is unchanged" \
  test "$dynsec_before" = "$(md5sum < /var/lib/mosquitto/dynamic-security.json 2>/dev/null)"

check "the ingest plugin's link is kept" test -L /etc/mosquitto/conf.d/gaffer-ingest.conf

section "remove, then purge"
# Removal keeps the conffiles, /etc/mosquitto/conf.d/gaffer.conf among them; the link to the
# ingest plugin's config must go before the plugin does, or mosquitto would not start.
if apt-get remove -y -q gaffer > "$work/remove.log" 2>&1; then
  pass "apt-get remove gaffer"
else
  sed 's/^/    /' "$work/remove.log"; fail "apt-get remove gaffer"
fi
check "removed: the ingest plugin's link" sh -c '! test -L /etc/mosquitto/conf.d/gaffer-ingest.conf'
check "kept: /etc/mosquitto/conf.d/gaffer.conf (a conffile)" test -f /etc/mosquitto/conf.d/gaffer.conf
broker_starts() {  # mosquitto with Debian's config still runs after 2 s (timeout's 124)
  install -d -o mosquitto -g mosquitto /run/mosquitto /var/log/mosquitto
  timeout 2 mosquitto -c /etc/mosquitto/mosquitto.conf > "$work/mosquitto-after.out" 2>&1
  local status=$?
  [ "$broker_db_existed" = yes ] || rm -f "$broker_db"
  [ $status = 124 ] || { sed 's/^/    /' "$work/mosquitto-after.out"; return 1; }
}
check "mosquitto starts with what the removed package left" broker_starts
if apt-get purge -y -q gaffer > "$work/purge.log" 2>&1; then
  pass "apt-get purge gaffer"
else
  sed 's/^/    /' "$work/purge.log"; fail "apt-get purge gaffer"
fi
check "package gone from dpkg's database" \
  sh -c "! dpkg-query -W -f='\${Status}' gaffer 2>/dev/null | grep -q 'installed\|config-files'"
for p in /var/lib/gaffer /var/log/gaffer /etc/gaffer /etc/mosquitto/conf.d/gaffer.conf \
    /etc/mosquitto/conf.d/gaffer-ingest.conf \
    /var/lib/mosquitto/dynamic-security.json /var/lib/mosquitto/gaffer-ingest.routes \
    /lib/systemd/system/gafferd.service \
    /etc/systemd/system/multi-user.target.wants/gafferd.service /usr/sbin/gafferd; do
  check "removed: $p" sh -c "! test -e $p && ! test -L $p"
done
mosquitto_conf_unmodified() {
  local want
  want=$(dpkg-query -W -f='${Conffiles}' mosquitto | awk '$1 == "/etc/mosquitto/mosquitto.conf" {print $2}')
  [ -n "$want" ] && [ "$(md5sum < /etc/mosquitto/mosquitto.conf | cut -d' ' -f1)" = "$want" ]
}
check "Debian's own /etc/mosquitto/mosquitto.conf is as shipped" mosquitto_conf_unmodified
note "kept per Debian policy: group gaffer ($(getent group gaffer | cut -d: -f3))," \
  "user gaffer-task ($(id -u gaffer-task 2>/dev/null))"
installed_by_us=0
