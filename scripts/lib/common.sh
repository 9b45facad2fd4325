# Shared helpers for the set-up scripts: timed steps and idempotent Debian installs.
# Sourced, not run.

MEMLENS_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

log() { printf '[memlens-setup] %s\n' "$*" >&2; }

# run_errexit CMD...: runs CMD in a subshell with `set -e` in force, sets RC to its exit status and
# returns 0. A function called from `if`, `&&` or `||` runs with `set -e` silently off, so CMD is
# never called that way; the caller's own errexit setting is left as it was. Call run_errexit,
# step and quietly as plain commands, not inside a condition.
run_errexit() {
  local restore=0
  [[ $- == *e* ]] && restore=1
  set +e
  ( set -e; "$@" )
  RC=$?
  if [ "$restore" -eq 1 ]; then set -e; fi
  return 0
}

# step NAME CMD...: runs CMD and prints how long it took, so slow steps show up in CI logs.
step() {
  local name="$1"; shift
  local start
  start=$(date +%s)
  log "-> ${name}"
  run_errexit "$@"
  if [ "$RC" -eq 0 ]; then
    log "<- ${name}: $(($(date +%s) - start)) s"
  else
    log "<- ${name}: FAILED (exit ${RC}) after $(($(date +%s) - start)) s"
  fi
  return "$RC"
}

# quietly LOGFILE CMD...: sends CMD's output to LOGFILE and shows its tail only if CMD fails.
quietly() {
  local logfile="$1"; shift
  run_errexit "$@" >>"$logfile" 2>&1
  if [ "$RC" -ne 0 ]; then
    log "failed (exit $RC): $* -- last lines of $logfile:"
    tail -n 80 "$logfile" >&2
  fi
  return "$RC"
}

as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    log "error: installing Debian packages needs root (or sudo): $*"
    return 1
  fi
}

# ensure_debian_packages PKG...: installs only the packages not yet installed; no apt work when all are there.
ensure_debian_packages() {
  local missing=()
  local pkg
  for pkg in "$@"; do
    if [ "$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null)" != "install ok installed" ]; then
      missing+=("$pkg")
    fi
  done
  if [ "${#missing[@]}" -eq 0 ]; then
    log "Debian packages already installed: $*"
    return 0
  fi
  log "installing Debian packages: ${missing[*]}"
  # The lock timeout lets a concurrent apt run finish instead of failing at once.
  as_root env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq \
    --no-install-recommends "${missing[@]}" >/dev/null
}

# Debian packages by purpose (bookworm).
DEBIAN_PYTORCH_PACKAGES=(python3-torch python3-torchvision python3-onnx)
DEBIAN_E2E_PACKAGES=(chromium ripgrep libkrb5-dev libx11-dev libxkbfile-dev libsecret-1-dev pkg-config build-essential)
