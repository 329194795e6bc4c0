# Helpers for tests/packaging/run (sourced, not run): reporting, cleanup of what the test
# started, and small probes. Every process the test starts is recorded in bg_pids and ended
# by its own pid; nothing is killed by name.

passed=0
failed=0
bg_pids=()
cleanup_paths=()
installed_by_us=0

section() { printf '\n== %s\n' "$*"; }
note() { printf '   . %s\n' "$*"; }
pass() { passed=$((passed + 1)); printf '   ok   %s\n' "$*"; }
fail() { failed=$((failed + 1)); printf '   FAIL %s\n' "$*"; }
die() { printf 'packaging test: %s\n' "$*" >&2; failed=$((failed + 1)); finish; }

# check DESCRIPTION COMMAND...: passes when the command succeeds.
check() {
  local what=$1; shift
  if "$@" > /dev/null 2>&1; then pass "$what"; else fail "$what"; fi
}

finish() {
  printf '\n%d passed, %d failed\n' "$passed" "$failed"
  [ "$failed" = 0 ] && exit 0
  exit 1
}

cleanup() {
  local pid
  for pid in "${bg_pids[@]}"; do
    kill -KILL "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  done
  if [ "$installed_by_us" = 1 ] && dpkg-query -W -f='${Status}' gaffer 2>/dev/null \
      | grep -q 'installed\|config-files'; then
    apt-get purge -y -q gaffer > /dev/null 2>&1 || true
  fi
  local p
  for p in "${cleanup_paths[@]}"; do rm -rf "$p"; done
}

# Installs the named Debian packages that are missing (no network use when none is).
ensure_packages() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' \
      || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    note "installing ${missing[*]}"
    apt-get update -q > /dev/null 2>&1
    apt-get install -y -q --no-install-recommends "${missing[@]}" > /dev/null 2>&1 \
      || die "apt-get install ${missing[*]} failed"
  fi
  pass "tools present: $*"
}

# Installs what debian/control's Build-Depends lists and this machine lacks (run in the
# source tree).
install_build_deps() {
  local unmet
  unmet=$(dpkg-checkbuilddeps 2>&1 | sed -n 's/.*Unmet build dependencies: //p')
  [ -z "$unmet" ] && return 0
  # "pkg (>= 1.0) other [linux-any]" -> "pkg other"
  unmet=$(printf '%s' "$unmet" | sed -e 's/([^)]*)//g' -e 's/\[[^]]*\]//g' -e 's/|/ /g')
  note "installing build dependencies:$unmet"
  apt-get update -q > /dev/null 2>&1
  # shellcheck disable=SC2086
  apt-get install -y -q --no-install-recommends $unmet > /dev/null 2>&1
}

# Copies the working tree (tracked and untracked-but-not-ignored files, so work not yet
# committed is tested too) without build directories or .git.
copy_tree() {
  local from=$1 to=$2
  rm -rf "$to"; mkdir -p "$to"
  if git -C "$from" rev-parse --git-dir > /dev/null 2>&1; then
    (cd "$from" && git ls-files -z --cached --others --exclude-standard \
      | while IFS= read -r -d '' f; do [ -e "$f" ] || [ -L "$f" ] && printf '%s\0' "$f"; done \
      | tar --null -T - -cf -) | tar -xf - -C "$to"
  else
    tar -C "$from" --exclude='./build*' --exclude='./.git' -cf - . | tar -xf - -C "$to"
  fi
}

# Every cgroup directory on the machine, one per line (v1 controllers and v2).
list_cgroups() {
  find /sys/fs/cgroup -mindepth 1 -type d 2>/dev/null | sort
}

# wait_for SECONDS COMMAND...: polls every 0.2 s until the command succeeds.
wait_for() {
  local limit=$1; shift
  local deadline=$(( $(date +%s%N) / 1000000 + limit * 1000 ))
  while [ $(( $(date +%s%N) / 1000000 )) -lt "$deadline" ]; do
    "$@" > /dev/null 2>&1 && return 0
    sleep 0.2
  done
  return 1
}

# Pids of processes whose executable is the given path (gaffer-init, gafferd).
pids_of_exe() {
  local exe=$1 p
  for p in /proc/[0-9]*; do
    [ "$(readlink "$p/exe" 2>/dev/null)" = "$exe" ] && printf '%s\n' "${p#/proc/}"
  done
}

port_free() {
  ! (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null
}
