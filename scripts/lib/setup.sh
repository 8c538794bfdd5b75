# Set-up shared by scripts/demo.sh and scripts/test.sh: brings in what they
# need when it is missing or out of date, says what each step does and how
# long it took, and installs nothing twice. Sourced from the repository root.
#
#   setup_for_demo            what demo.sh needs: the toolchains, the Go
#                             modules, the npm packages
#   setup_for_tests           what test.sh needs: the same and the browsers
#
# and the steps they are made of, for a caller that needs more:
#   setup_toolchains          Go as new as go.mod asks, Node 20 or newer, npm:
#                             one line for each that is missing or too old,
#                             then exit, before anything else runs
#   setup_go_modules          go mod download, when a module is not in the cache
#   setup_npm_packages        npm ci, when node_modules is missing or was
#                             installed from another package-lock.json
#   setup_debian_packages COMMAND=PACKAGE...
#                             installs with apt, as root, the packages whose
#                             command (a name on PATH, or an absolute path) is
#                             missing; otherwise one line naming the command
#   setup_test_debian_packages   what the browser tests need
#
# Messages go to stderr, prefixed with the calling script's name.

setup_prog="$(basename "$0" .sh)"
setup_say() { echo "$setup_prog: $*" >&2; }

# setup_seconds_since START: seconds since START (an $EPOCHREALTIME), to a tenth.
setup_seconds_since() {
  local start=${1//[.,]/} now=${EPOCHREALTIME//[.,]/}
  local tenths=$(((now - start) / 100000))
  echo "$((tenths / 10)).$((tenths % 10))"
}

# setup_timed WHAT COMMAND...: says WHAT, runs COMMAND, says how long it took.
setup_timed() {
  local what=$1 start=$EPOCHREALTIME
  shift
  setup_say "$what…"
  if ! "$@"; then
    setup_say "$what failed after $(setup_seconds_since "$start") s"
    return 1
  fi
  setup_say "$what: done in $(setup_seconds_since "$start") s"
}

# setup_version_at_least HAVE WANT: whether dotted version HAVE >= WANT
# (missing parts count as 0; anything after the numbers, as in 1.27rc1, is
# ignored).
setup_version_at_least() {
  local -a have want
  IFS=. read -ra have <<<"${1%%[!0-9.]*}"
  IFS=. read -ra want <<<"${2%%[!0-9.]*}"
  local i
  for ((i = 0; i < ${#want[@]} || i < ${#have[@]}; i++)); do
    ((10#${have[i]:-0} > 10#${want[i]:-0})) && return 0
    ((10#${have[i]:-0} < 10#${want[i]:-0})) && return 1
  done
  return 0
}

setup_toolchains() {
  local problems=0 go_want="" key value _
  while read -r key value _; do
    if [[ "$key" == go ]]; then go_want=$value; break; fi
  done <go.mod
  if ! command -v go >/dev/null 2>&1; then
    setup_say "Go is not installed: install Go $go_want or newer (https://go.dev/dl/)"
    problems=1
  else
    # In the module, so that a Go which switches toolchains (GOTOOLCHAIN=auto)
    # reports the one it will use; a Go that will not fails here.
    local go_have
    go_have="$(go env GOVERSION 2>/dev/null)" || go_have=""
    if ! setup_version_at_least "${go_have#go}" "$go_want"; then
      go_have="$(cd / && GOTOOLCHAIN=local go env GOVERSION 2>/dev/null)"
      setup_say "Go ${go_have:-(unknown version)} is older than the Go $go_want that go.mod asks for: install Go $go_want or newer (https://go.dev/dl/)"
      problems=1
    fi
  fi
  if ! command -v node >/dev/null 2>&1; then
    setup_say "Node is not installed: install Node 20 or newer (https://nodejs.org/)"
    problems=1
  else
    local node_have
    node_have="$(node --version 2>/dev/null)"
    if ! setup_version_at_least "${node_have#v}" 20; then
      setup_say "Node ${node_have:-(unknown version)} is older than the Node 20 the widget build and the tests need: install Node 20 or newer (https://nodejs.org/)"
      problems=1
    elif ! command -v npm >/dev/null 2>&1; then
      setup_say "npm is not installed: install the npm that goes with Node $node_have (on Debian: apt-get install npm)"
      problems=1
    fi
  fi
  ((problems == 0)) || exit 1
}

setup_go_modules() {
  # With the proxy off, go mod download succeeds only when every module is
  # already in the cache: a check that costs no network.
  if GOPROXY=off go mod download >/dev/null 2>&1; then
    setup_say "Go modules: all in the module cache"
  else
    setup_timed "downloading the Go modules (go mod download)" go mod download
  fi
}

setup_npm_packages() {
  # The hash of the package-lock.json that node_modules was installed from.
  local stamp=node_modules/.cvmtrust-package-lock.sha256 want reason=""
  want="$(sha256sum package-lock.json | cut -d' ' -f1)"
  if [[ ! -d node_modules ]]; then
    reason="node_modules is missing"
  elif [[ -f "$stamp" ]]; then
    if [[ "$(<"$stamp")" != "$want" ]]; then reason="package-lock.json changed since the last npm ci"; fi
  elif [[ node_modules/.package-lock.json -nt package-lock.json ]]; then
    # Installed before these scripts kept a stamp, after the lock's last
    # change: npm's own record of the install is the newer one.
    echo "$want" >"$stamp"
  else
    reason="node_modules is older than package-lock.json"
  fi
  if [[ -z "$reason" ]]; then
    setup_say "npm packages: node_modules matches package-lock.json"
    return
  fi
  setup_timed "installing the npm packages (npm ci: $reason)" npm ci --no-audit --no-fund
  echo "$want" >"$stamp"
}

# The packages this process has asked apt for, and whether it has updated
# apt's lists: apt runs at most once for a package and updates at most once.
declare -gA setup_apt_asked=()
setup_apt_updated=

# setup_debian_packages COMMAND=PACKAGE...: makes sure each COMMAND (a name
# looked up on PATH, or an absolute path to an executable) exists, installing
# its PACKAGE with apt when running as root. A caller that needs more (a guest
# image build: qemu-system-x86_64=qemu-system-x86, mmdebstrap=mmdebstrap)
# passes more pairs.
setup_debian_packages() {
  local need command package
  local -a missing=()
  for need in "$@"; do
    command=${need%%=*} package=${need#*=}
    setup_command_exists "$command" && continue
    [[ " ${missing[*]} " == *" $package "* ]] || missing+=("$package")
  done
  if ((${#missing[@]} == 0)); then
    setup_say "Debian packages: what is needed is installed"
    return
  fi
  local install=(apt-get install -y --no-install-recommends "${missing[@]}")
  if [[ "$(id -u)" != 0 ]]; then
    setup_say "missing Debian packages: ${missing[*]}; as root, run: apt-get update && ${install[*]}"
    return 1
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    setup_say "missing packages: ${missing[*]}, and this system has no apt-get: install them with its package manager"
    return 1
  fi
  for package in "${missing[@]}"; do
    if [[ -n "${setup_apt_asked[$package]:-}" ]]; then
      setup_say "apt already installed $package, yet what it should provide is missing"
      return 1
    fi
    setup_apt_asked[$package]=1
  done
  export DEBIAN_FRONTEND=noninteractive
  if [[ -z "$setup_apt_updated" ]]; then
    setup_timed "updating apt's package lists (apt-get update)" apt-get update || return 1
    setup_apt_updated=1
  fi
  setup_timed "installing ${missing[*]} (apt-get install)" "${install[@]}" || return 1
  local still=()
  for need in "$@"; do
    command=${need%%=*}
    setup_command_exists "$command" || still+=("$command (${need#*=})")
  done
  if ((${#still[@]})); then
    setup_say "installed, yet still missing: ${still[*]}"
    return 1
  fi
}

setup_command_exists() {
  if [[ "$1" == /* ]]; then
    [[ -x "$1" && -f "$1" ]]
  else
    command -v "$1" >/dev/null 2>&1
  fi
}

# What the browser tests start (test/lib/browser.mjs, with the same
# environment overrides and defaults): Chromium always, Firefox ESR and
# WebKitGTK (its WebDriver, MiniBrowser and Xvfb) when CVMTRUST_BROWSERS,
# unset meaning all three, names them.
setup_test_debian_packages() {
  local needs=("${CHROMIUM:-/usr/bin/chromium}=chromium")
  local engines=",${CVMTRUST_BROWSERS-chromium,firefox,webkit},"
  engines=${engines// /}
  if [[ "$engines" == *,firefox,* ]]; then
    needs+=("${FIREFOX:-/usr/bin/firefox-esr}=firefox-esr")
  fi
  if [[ "$engines" == *,webkit,* ]]; then
    needs+=(
      "${WEBKIT_WEBDRIVER:-/usr/bin/WebKitWebDriver}=webkit2gtk-driver"
      "${WEBKIT_MINIBROWSER:-/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser}=libwebkit2gtk-4.1-0"
      "xvfb-run=xvfb"
    )
  fi
  setup_debian_packages "${needs[@]}"
}

setup_for_demo() {
  setup_toolchains
  setup_go_modules
  setup_npm_packages
}

# The browsers come before the rest, so that one that cannot be installed
# stops the run at once rather than after the Go tests.
setup_for_tests() {
  setup_toolchains
  setup_test_debian_packages
  setup_go_modules
  setup_npm_packages
}
