#!/usr/bin/env bash
# make test-pi: proves the device side on a Debian bookworm arm64 userland (the base of 64-bit
# Raspberry Pi OS: Python 3.11, glibc 2.36) under qemu-user, as a Pi 4 (Cortex-A72) and a
# Pi 5 (Cortex-A76).
#
# Builds the root filesystem with debootstrap, or restores it from a cache keyed on
# pi/rootfs.sh; installs edgecnn from the working tree with only the device extra into a venv
# inside it (TensorFlow must be absent); makes a conformance kit on the host (pi/make_kit.py)
# and runs `edgecnn doctor --conformance KIT` inside for each CPU, compared with the host.
#
# Exit 0: conformant. 1: results differ or a step failed. 2: cannot run here (not root, no
# qemu, no registry): one line per missing piece. Nothing stays mounted in any case.
#
# Registries come only from this machine's configuration, never from addresses written here:
# the package index pip uses inside the rootfs is EDGECNN_PI_PYPI, else PIP_INDEX_URL, else
# the host pip's index-url (`pip config list`), else pip's own default (inside the rootfs
# too); the Debian mirror that builds the rootfs is EDGECNN_PI_MIRROR, else the first
# .../debian URI of the host's apt sources. Unreachable or unconfigured: preflight says so.
#
# Environment: EDGECNN_PI_WORK (scratch, /var/tmp/edgecnn-pi), EDGECNN_PI_CACHE (rootfs
# cache folder, ~/.cache/edgecnn), EDGECNN_PI_PYPI (package index, a PEP 503 simple index
# URL), EDGECNN_PI_MIRROR (Debian mirror), EDGECNN_PI_CPUS ("cortex-a72 cortex-a76"),
# EDGECNN_PI_KEEP=1 (keep the rootfs). Tests simulate missing pieces with EDGECNN_PI_EUID,
# EDGECNN_PI_QEMU and EDGECNN_PI_APT (the apt configuration folder, /etc/apt).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(dirname "$HERE")
WORK=${EDGECNN_PI_WORK:-/var/tmp/edgecnn-pi}
ROOT=$WORK/rootfs
CACHE_DIR=${EDGECNN_PI_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/edgecnn}
CPUS=${EDGECNN_PI_CPUS:-cortex-a72 cortex-a76}
QEMU=${EDGECNN_PI_QEMU:-qemu-aarch64-static}
APT_ETC=${EDGECNN_PI_APT:-/etc/apt}
HOST_PY=${EDGECNN_PI_HOST_PYTHON:-$REPO/.venv/bin/python}
HOST_CA=${PIP_CERT:-${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}}
KEY=$(sha256sum "$HERE/rootfs.sh" | cut -c1-12)
CACHE=$CACHE_DIR/pi-rootfs-bookworm-arm64-$KEY.tar.zst

say() { echo "test-pi: $*" >&2; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# --- what is missing -------------------------------------------------------------------------

host_mirror() {  # the first http(s) .../debian URI of the host's apt sources, or nothing
  {
    sed -n 's/^URIs:[[:space:]]*//p' "$APT_ETC"/sources.list.d/*.sources 2>/dev/null
    # one-line format: deb [options] URI suite components
    sed -n 's/^deb[[:space:]]\+\(\[[^]]*\][[:space:]]\+\)\?\([^[:space:]]\+\).*/\2/p' \
      "$APT_ETC"/sources.list "$APT_ETC"/sources.list.d/*.list 2>/dev/null
  } | tr ' ' '\n' | grep -E '^https?://.*/debian/?$' | head -n 1 | sed 's:/$::' || true
}

host_index() {  # "URL<TAB>where it came from" for pip's index, or nothing
  local pip=("$HOST_PY" -m pip) config key url
  [ -x "$HOST_PY" ] || pip=(python3 -m pip)
  if [ -n "${PIP_INDEX_URL:-}" ]; then
    printf '%s\t%s\n' "$PIP_INDEX_URL" "PIP_INDEX_URL"
    return
  fi
  # `pip config list` shows the merged configuration (`pip config get` misses some files);
  # pip install reads [install] before [global].
  config=$("${pip[@]}" config list 2>/dev/null || true)
  for key in install.index-url global.index-url; do
    url=$(printf '%s\n' "$config" | sed -n "s/^$key='\(.*\)'\$/\1/p" | tail -n 1)
    [ -n "$url" ] && printf '%s\t%s\n' "$url" "the host's pip config ($key)" && return
  done
  true
}

MIRROR=${EDGECNN_PI_MIRROR:-$(host_mirror)}
if [ -n "${EDGECNN_PI_PYPI:-}" ]; then
  INDEX=$EDGECNN_PI_PYPI INDEX_FROM=EDGECNN_PI_PYPI
else
  IFS=$'\t' read -r INDEX INDEX_FROM < <(host_index) || true
fi
INDEX=${INDEX:-} INDEX_FROM=${INDEX_FROM:-}

reachable() {  # reachable URL: the host can fetch it within 15 s
  "$HOST_PY" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=15)' \
    "$1" >/dev/null 2>&1
}

binfmt_ready() {
  local entry=/proc/sys/fs/binfmt_misc/qemu-aarch64
  if [ ! -e "$entry" ]; then  # registered at boot on most hosts; containers may need this
    mountpoint -q /proc/sys/fs/binfmt_misc ||
      mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc 2>/dev/null || true
    command -v update-binfmts >/dev/null && update-binfmts --enable qemu-aarch64 2>/dev/null
  fi
  [ -e "$entry" ] && head -n 1 "$entry" | grep -q enabled
}

miss() { missing+=("$*"); }  # one missing piece, from words (for preflight's "missing")

default_index_reachable() {  # pip's own default index answers (its address is pip's, not ours)
  env -u PIP_FIND_LINKS -u PIP_EXTRA_INDEX_URL -u PIP_INDEX_URL PIP_CONFIG_FILE=/dev/null \
    "$HOST_PY" -m pip index versions ai-edge-litert --timeout 15 --retries 0 >/dev/null 2>&1
}

registries() {  # appends to preflight's "missing": the index and mirror, configured and reachable
  if [ -z "$INDEX" ]; then  # none configured: pip inside the rootfs uses its default, as here
    default_index_reachable || miss "network: pip's default package index is not reachable" \
      "(no index-url is configured on this machine; set PIP_INDEX_URL or EDGECNN_PI_PYPI)"
  elif [[ "$INDEX" != http://* && "$INDEX" != https://* ]]; then
    miss "package index: $INDEX (from $INDEX_FROM) is not an http(s) URL the rootfs" \
      "can reach; set EDGECNN_PI_PYPI"
  elif ! reachable "${INDEX%/}/ai-edge-litert/"; then
    miss "network: PyPI is not reachable ($INDEX) - the index from $INDEX_FROM;" \
      "pip needs it inside the rootfs"
  fi
  [ -f "$CACHE" ] && return  # the rootfs comes from the cache: no mirror needed
  if [ -z "$MIRROR" ]; then
    miss "Debian mirror: none in the host's apt sources ($APT_ETC/sources.list*:" \
      "a URI ending in /debian); set EDGECNN_PI_MIRROR"
  elif ! reachable "$MIRROR/dists/bookworm/Release"; then
    missing+=("network: the Debian mirror $MIRROR is not reachable (set EDGECNN_PI_MIRROR)")
  fi
}

preflight() {
  local missing=()
  if [ "${EDGECNN_PI_EUID:-$EUID}" != 0 ]; then
    missing+=("root: building the rootfs and chroot need it (run: sudo make test-pi)")
  fi
  if ! command -v "$QEMU" >/dev/null; then
    missing+=("qemu: $QEMU not found (apt-get install qemu-user-static binfmt-support)")
  elif [ ${#missing[@]} = 0 ] && ! binfmt_ready; then
    miss "binfmt: no enabled qemu-aarch64 handler in /proc/sys/fs/binfmt_misc" \
      "(apt-get install binfmt-support qemu-user-static; in a container the host registers it)"
  fi
  for tool in zstd tar chroot mount; do
    command -v "$tool" >/dev/null || missing+=("$tool: not found")
  done
  if [ ! -f "$CACHE" ] && ! command -v debootstrap >/dev/null; then
    missing+=("debootstrap: needed to build the rootfs (apt-get install debootstrap)")
  fi
  if ! "$HOST_PY" -c 'import edgecnn.device.conformance.check' 2>/dev/null; then
    missing+=("host python: $HOST_PY cannot import edgecnn (run make test-pi, it creates .venv)")
  else
    registries
  fi
  case "$WORK" in *[[:space:]]*) missing+=("EDGECNN_PI_WORK: no spaces please ($WORK)") ;; esac
  if [ ${#missing[@]} -gt 0 ]; then
    for line in "${missing[@]}"; do say "cannot run: missing $line"; done
    exit 2
  fi
}

# --- mounts: always undone, and never rm -rf across one ---------------------------------------

mounts_under() {  # deepest first, so children are unmounted before their parents
  awk -v r="$ROOT" '$5 == r || index($5, r "/") == 1 { print $5 }' /proc/self/mountinfo | sort -r
}

unmount_all() {
  local mp
  for mp in $(mounts_under); do
    umount "$mp" 2>/dev/null || umount -l "$mp" 2>/dev/null || true
  done
  [ -z "$(mounts_under)" ]
}

remove_root() {
  [ -e "$ROOT" ] || return 0
  if ! unmount_all; then
    say "not removing $ROOT: still mounted: $(mounts_under | tr '\n' ' ')"
    return 1
  fi
  rm -rf --one-file-system "$ROOT"
}

cleanup() {
  local rc=$?
  if ! unmount_all; then
    say "WARNING: could not unmount $(mounts_under | tr '\n' ' ')"
    rc=1
  fi
  if [ "${EDGECNN_PI_KEEP:-0}" != 1 ]; then remove_root || rc=1; fi
  exit "$rc"
}

CHILD=
run() {  # a step in its own process group: bash runs traps only between foreground commands
  setsid "$@" &
  CHILD=$!
  local rc=0
  wait "$CHILD" || rc=$?
  CHILD=
  return "$rc"
}

stop() {  # stop CODE: on SIGINT/SIGTERM end the running step (all of it), then exit and clean up
  if [ -n "$CHILD" ]; then
    kill -TERM -- "-$CHILD" 2>/dev/null || true
    wait "$CHILD" 2>/dev/null || true
  fi
  say "interrupted; unmounting and removing $ROOT"
  exit "$1"
}

# --- the root filesystem ----------------------------------------------------------------------

rootfs() {
  remove_root
  mkdir -p "$ROOT" "$CACHE_DIR"
  local t0
  t0=$(now)
  if [ -f "$CACHE" ]; then
    tar -C "$ROOT" --numeric-owner -I zstd -xpf "$CACHE"
    say "rootfs: restored from cache $CACHE in $(since "$t0") s"
    return
  fi
  say "rootfs: building with debootstrap from $MIRROR (about 5 minutes; log in $WORK/rootfs.log)"
  if ! run "$HERE/rootfs.sh" "$ROOT" "$MIRROR" >"$WORK/rootfs.log" 2>&1; then
    tail -n 20 "$WORK/rootfs.log" >&2
    say "rootfs: debootstrap failed (full log: $WORK/rootfs.log)"
    exit 1
  fi
  local built
  built=$(since "$t0")
  unmount_all  # debootstrap mounts proc and sys itself
  t0=$(now)
  tar -C "$ROOT" --numeric-owner -I 'zstd -T0 -3' -cpf "$CACHE.tmp.$$" .
  mv "$CACHE.tmp.$$" "$CACHE"
  say "rootfs: built in $built s; cached in $(since "$t0") s as $CACHE ($(du -h "$CACHE" | cut -f1))"
}

cpu_count() {  # as /sys/devices/system/cpu/present says, e.g. 0-3 -> 4
  awk -F, '{ for (i = 1; i <= NF; i++) { n = split($i, r, "-"); c += n == 2 ? r[2] - r[1] + 1 : 1 } }
    END { print c }' /sys/devices/system/cpu/present
}

fake_cpuinfo() {  # fake_cpuinfo CORE: what a Pi's kernel shows; the LiteRT CPU probe reads it
  local features variant part revision board model i
  case "$1" in
    cortex-a72) features="fp asimd evtstrm crc32 cpuid" variant=0x0 part=0xd08 revision=3
      board=c03114 model="Raspberry Pi 4 Model B Rev 1.4" ;;
    cortex-a76) features="fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid"
      features="$features asimdrdm lrcpc dcpop asimddp" variant=0x4 part=0xd0b revision=1
      board=d04170 model="Raspberry Pi 5 Model B Rev 1.0" ;;
    *) say "unknown CPU $1 in EDGECNN_PI_CPUS; use cortex-a72 and/or cortex-a76"; exit 2 ;;
  esac
  for ((i = 0; i < $(cpu_count); i++)); do
    printf 'processor\t: %d\nBogoMIPS\t: 108.00\nFeatures\t: %s\nCPU implementer\t: 0x41\n' \
      "$i" "$features"
    printf 'CPU architecture: 8\nCPU variant\t: %s\nCPU part\t: %s\nCPU revision\t: %s\n\n' \
      "$variant" "$part" "$revision"
  done
  printf 'Revision\t: %s\nSerial\t\t: 10000000c0ffee00\nModel\t\t: %s\n' "$board" "$model"
}

mount_root() {  # /sys too: without it XNNPACK is silently skipped and int8 outputs shift
  mount -t proc proc "$ROOT/proc"
  mount -t sysfs sysfs "$ROOT/sys"
  mount --bind /dev "$ROOT/dev"
}

use_cpu() {  # a cpuinfo matching QEMU_CPU: the host's x86 one makes LiteRT segfault
  if mounts_under | grep -qx "$ROOT/proc/cpuinfo"; then umount "$ROOT/proc/cpuinfo"; fi
  fake_cpuinfo "$1" >"$WORK/cpuinfo-$1"
  mount --bind "$WORK/cpuinfo-$1" "$ROOT/proc/cpuinfo"
}

in_root() {  # in_root CPU CMD...: a clean environment (only the host's index), the core pinned
  local cpu=$1
  shift
  run env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
    LANG=C.UTF-8 PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 PIP_ROOT_USER_ACTION=ignore \
    PIP_PROGRESS_BAR=off ${INDEX:+PIP_INDEX_URL=$INDEX} ${CA_IN_ROOT:+PIP_CERT=$CA_IN_ROOT} \
    QEMU_CPU="$cpu" \
    EDGECNN_EMULATION="qemu-user $cpu" chroot "$ROOT" "$@"
}

# --- edgecnn inside -------------------------------------------------------------------------

copy_tree() {  # the working tree as git sees it (tracked and new files, not ignored ones)
  mkdir -p "$ROOT/opt/edgecnn-src"
  if git -C "$REPO" rev-parse --git-dir >/dev/null 2>&1; then
    (cd "$REPO" && git ls-files -z --cached --others --exclude-standard |
      while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
      tar --null -T - -cf -) | tar -C "$ROOT/opt/edgecnn-src" -xf -
  else  # an unpacked source archive
    tar -C "$REPO" --exclude=./.venv --exclude=./.git --exclude=./runs -cf - . |
      tar -C "$ROOT/opt/edgecnn-src" -xf -
  fi
}

install_edgecnn() {
  local cpu=$1 t0
  t0=$(now)
  copy_tree
  cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
  CA_IN_ROOT=
  if [ -f "$HOST_CA" ]; then  # a host behind a TLS proxy passes its CA bundle on
    cp "$HOST_CA" "$ROOT/etc/ssl/edgecnn-host-ca.pem"
    CA_IN_ROOT=/etc/ssl/edgecnn-host-ca.pem
  fi
  in_root "$cpu" python3 -m venv /opt/venv
  if ! in_root "$cpu" /opt/venv/bin/pip install --quiet "/opt/edgecnn-src[device]"; then
    say "pip install edgecnn[device] failed inside the rootfs"
    exit 1
  fi
  in_root "$cpu" /opt/venv/bin/pip freeze >"$WORK/results/pip-freeze.txt"
  if grep -iE '^(tensorflow|keras|tf-keras|tflite-micro)' "$WORK/results/pip-freeze.txt"; then
    say "the device venv holds TensorFlow/Keras: the device extra must not pull them in"
    exit 1
  fi
  say "installed edgecnn[device] from the working tree in $(since "$t0") s (no TensorFlow):" \
    "$(tr '\n' ' ' <"$WORK/results/pip-freeze.txt")"
}

conformance() {  # conformance CPU: doctor, then the kit; results copied out of the rootfs
  local cpu=$1 rc=0
  use_cpu "$cpu"
  say "=== $cpu: edgecnn doctor"
  in_root "$cpu" /opt/venv/bin/edgecnn doctor >&2 || rc=1
  say "=== $cpu: edgecnn doctor --conformance (edgecnn run, runtime, benchmark; a few minutes)"
  in_root "$cpu" /opt/venv/bin/edgecnn doctor --conformance /opt/edgecnn-kit \
    --out "/opt/edgecnn-results/$cpu" >&2 || rc=$?
  mkdir -p "$WORK/results/$cpu"
  cp -r "$ROOT/opt/edgecnn-results/$cpu/." "$WORK/results/$cpu/" 2>/dev/null || rc=1
  return "$rc"
}

main() {
  preflight
  trap cleanup EXIT
  trap 'stop 130' INT
  trap 'stop 143' TERM
  mkdir -p "$WORK"
  rm -rf "$WORK/results" "$WORK/kit"
  mkdir -p "$WORK/results"
  say "kit: making it on the host ($HOST_PY pi/make_kit.py $WORK/kit)"
  run "$HOST_PY" "$HERE/make_kit.py" "$WORK/kit" >"$WORK/kit.log" 2>&1 ||
    { cat "$WORK/kit.log" >&2; say "making the kit failed"; exit 1; }
  rootfs
  mount_root
  local first=${CPUS%% *} failed=()
  use_cpu "$first"
  install_edgecnn "$first"
  cp -a "$WORK/kit" "$ROOT/opt/edgecnn-kit"
  for cpu in $CPUS; do
    conformance "$cpu" || failed+=("$cpu")
  done
  # shellcheck disable=SC2086 # one argument per CPU
  "$HOST_PY" "$HERE/summary.py" "$WORK/kit" "$WORK/results" $CPUS >&2 || true
  if [ ${#failed[@]} -gt 0 ]; then
    say "FAIL on: ${failed[*]} (results in $WORK/results)"
    exit 1
  fi
  say "PASS on: $CPUS (results in $WORK/results)"
}

main "$@"
