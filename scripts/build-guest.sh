#!/usr/bin/env bash
# Builds the guest image, byte for byte the same on any Linux host:
#
#   scripts/build-guest.sh OUT                 OUT/OVMF.fd vmlinuz initrd.img cmdline inputs.json
#   scripts/build-guest.sh --matcher FILE OUT  the same with a vendor's matcher in place of the reference one
#   scripts/build-guest.sh --check OUT         builds twice, from empty caches, and compares
#   scripts/build-guest.sh --update-pins       re-resolves guest/pins.lock against the mirror
#
# Every outside input is named by version and SHA-256 in guest/pins.lock; a
# download that differs is refused. Every compile runs inside a Debian trixie
# root made from exactly the pinned packages (mmdebstrap), with no network, a
# clean environment and fixed paths (bubblewrap), so the host's distribution
# never reaches the bytes. The steps inside are guest/build-in-root.sh.
#
# Downloads and intermediate results are kept under $CVMTRUST_CACHE (default
# build/.guest-cache: a dot, so that go's ./... does not reach the Go
# toolchain's sources in it): the build root (by the hash of its packages),
# the firmware (by the hash of its inputs), the npm packages (by the lock
# file) and Go's build cache. With an empty cache everything is rebuilt from
# the pinned sources. One build at a time uses a cache. SOURCE_DATE_EPOCH defaults
# to the commit's time, which makes the release build. Needs root (the build
# root is made with mmdebstrap --mode=root), mmdebstrap, bwrap, curl, Go and
# npm; docs/guest-image.md says more.
set -euo pipefail

say() { echo "build-guest: $*" >&2; }
die() { say "$*"; exit 1; }
# step NAME: a progress line, and the time the previous step took.
step_started=
step() {
  local now=$SECONDS
  [[ -n "$step_started" ]] && say "  ($((now - step_started)) s)"
  step_started=$now
  say "$*"
}

self="$(realpath "$0")"
repo="$(dirname "$(dirname "$self")")"
# Paths on the command line are the caller's, resolved before anything moves.
check=0 update_pins=0 matcher= out=
while (($#)); do
  case "$1" in
    --check) check=1 ;;
    --update-pins) update_pins=1 ;;
    --matcher) matcher="$(realpath -m "${2:?--matcher needs a file}")"; shift ;;
    -h | --help) sed -n '2,23p' "$self"; exit 0 ;;
    -*) die "unknown flag $1 (see --help)" ;;
    *) [[ -z "$out" ]] || die "one output directory only"; out="$(realpath -m "$1")" ;;
  esac
  shift
done
((update_pins)) || [[ -n "$out" ]] || die "usage: scripts/build-guest.sh [--check] [--matcher FILE] OUT | --update-pins"
[[ -z "$matcher" || -f "$matcher" ]] || die "--matcher: $matcher is not a file"
cache="$(realpath -m "${CVMTRUST_CACHE:-$repo/build/.guest-cache}")"
for p in "$cache" "$out"; do
  [[ "$p" != *[[:space:]]* ]] || die "$p has a blank in it: the build root's mounts and mirror line cannot take one"
done
cd "$repo"

[[ $(id -u) == 0 ]] || die "needs root: the build root is made with mmdebstrap --mode=root (try: sudo -E $self ...)"
for tool in mmdebstrap bwrap curl go npm sha256sum flock; do
  command -v "$tool" > /dev/null || die "$tool is missing (Debian/Ubuntu: apt-get install mmdebstrap bubblewrap curl util-linux; Go and Node as the README says)"
done

lock="$repo/guest/pins.lock"
mkdir -p "$cache"
exec 9> "$cache/.lock"
flock -n 9 || die "another build-guest.sh is using $cache"
if [[ -z "${SOURCE_DATE_EPOCH:-}" ]]; then
  SOURCE_DATE_EPOCH="$(git log -1 --format=%ct)" || die "no SOURCE_DATE_EPOCH and no git commit to take it from"
fi
export SOURCE_DATE_EPOCH

# The host's Go builds the small helper that reads pins.lock; the image's
# own Go code is compiled inside the root with the pinned toolchain.
guestpins="$cache/bin/guestpins"
GOFLAGS=-buildvcs=false go build -o "$guestpins" ./guest/cmd/guestpins

# The mirror and suite the pins come from (written into pins.lock).
pinned_mirror=http://deb.debian.org/debian suite=trixie
if [[ -f "$lock" ]]; then
  mirror_line="$("$guestpins" get -lock "$lock" mirror)"
  pinned_mirror="${mirror_line% *}" suite="${mirror_line#* }"
fi
# A snapshot archive serves the same pool paths:
#   CVMTRUST_DEBIAN_MIRROR=https://snapshot.debian.org/archive/debian/20261121T000000Z
mirror="${CVMTRUST_DEBIAN_MIRROR:-$pinned_mirror}"

# pinned KIND: the pinned inputs of KIND, "NAME VERSION SHA256 SIZE PATH" a
# line, into the array inputs; none is an error.
pinned() {
  mapfile -t inputs < <("$guestpins" get -lock "$lock" "$1")
  ((${#inputs[@]})) || die "guest/pins.lock pins no $1 input"
}

# fetch SHA256 SIZE PATH NAME VERSION: the pinned file at PATH below the
# mirror into $cache/downloads, checked; sets fetched to its local path.
fetch() {
  local sha=$1 size=$2 path=$3 name=$4 version=$5
  fetched="$cache/downloads/${path##*/}"
  if [[ -f "$fetched" ]] && echo "$sha  $fetched" | sha256sum --check --status; then
    return
  fi
  mkdir -p "$cache/downloads"
  local code
  code="$(curl -sS -L -o "$fetched.part" -w '%{http_code}' "$mirror/$path" 2> "$cache/curl.err" || true)"
  if [[ "$code" == 000 ]]; then
    rm -f "$fetched.part"
    die "could not reach $mirror for the pinned $name $version ($(tail -1 "$cache/curl.err")): check the network, or set CVMTRUST_DEBIAN_MIRROR"
  fi
  if [[ "$code" != 200 ]]; then
    rm -f "$fetched.part"
    die "the pinned $name $version is not served by $mirror (HTTP $code for $path): take it from a snapshot archive (CVMTRUST_DEBIAN_MIRROR=https://snapshot.debian.org/archive/debian/<time>) or update the pins (scripts/build-guest.sh --update-pins)"
  fi
  if ! echo "$sha  $fetched.part" | sha256sum --check --status; then
    rm -f "$fetched.part"
    die "$path from $mirror is not the pinned $name $version (its SHA-256 differs): refusing it"
  fi
  mv "$fetched.part" "$fetched"
}

# The packages of the build root, and the tools that resolve them.
root_packages=gcc,g++,make,python3,nasm,acpica-tools,uuid-dev,patch,xz-utils,nodejs,ca-certificates
# The toolchain module of the Go version go.mod names.
go_version="$(sed -n 's/^go \([0-9.]*\)$/\1/p' go.mod)"
go_module="golang.org/toolchain@v0.0.1-go${go_version}.linux-amd64"

if ((update_pins)); then
  tmp="$(mktemp -d)"
  trap 'rm -rf --one-file-system "$tmp"' EXIT
  step "resolving the build root, kernel, edk2 and QEMU against $mirror $suite (apt checks the mirror's signatures)…"
  # shellcheck disable=SC2016 # the hooks are shell code mmdebstrap runs
  mmdebstrap --mode=root --variant=essential --include="$root_packages" --quiet \
    --customize-hook='chroot "$1" dpkg-query -W -f="\${Package} \${Version} \${Architecture}\n" > "'"$tmp"'/root.txt"' \
    --customize-hook='sync-out /var/lib/apt/lists "'"$tmp"'/lists"' \
    "$suite" "$tmp/root" "deb $mirror $suite main" "deb-src $mirror $suite main"
  step "the Go toolchain $go_module…"
  zip="$(GOFLAGS= GOTOOLCHAIN=local go mod download -json "$go_module" | sed -n 's/^\t"Zip": "\(.*\)",$/\1/p')"
  [[ -f "$zip" ]] || die "go mod download $go_module gave no zip"
  "$guestpins" resolve -mirror "$mirror" -suite "$suite" -lists "$tmp/lists" -root "$tmp/root.txt" \
    -kernel-meta linux-image-cloud-amd64 -source edk2 -vmm qemu-system-x86 \
    -go-zip "$zip" -go-module "$go_module" > "$tmp/pins.lock"
  mv "$tmp/pins.lock" "$lock"
  step "wrote guest/pins.lock: $(grep -c '^root ' "$lock") root packages, $(sed -n 's/^kernel *\([^ ]*\) .*/\1/p' "$lock")"
  exit 0
fi

# install_out DIR: the artifacts of a whole build in DIR into OUT, replacing
# the ones there; inputs.json, which names them, comes last.
artifacts=(OVMF.fd vmlinuz initrd.img cmdline initrd.contents.json inputs.json)
install_out() {
  mkdir -p "$out"
  local f
  for f in "${artifacts[@]}"; do cp "$1/$f" "$out/.$f.part"; done
  for f in "${artifacts[@]}"; do rm -f "$out/$f"; done
  for f in "${artifacts[@]}"; do mv "$out/.$f.part" "$out/$f"; done
}

if ((check)); then
  # Two builds, each from an empty cache of its own, the second under
  # another umask, time zone, locale, temporary directory and one CPU,
  # compared byte for byte.
  for i in 1 2; do rm -rf --one-file-system "$cache/check-$i"; done
  say "check: build 1 of 2, from an empty cache"
  CVMTRUST_CACHE="$cache/check-1" "$self" ${matcher:+--matcher "$matcher"} "$cache/check-1/out"
  say "check: build 2 of 2, from an empty cache, umask 077, TZ=Pacific/Kiritimati, LC_ALL=C, another TMPDIR, one CPU"
  mkdir -p "$cache/check-2/tmp"
  one_cpu=()
  command -v taskset > /dev/null && one_cpu=(taskset -c 0)
  (umask 077 && TZ=Pacific/Kiritimati LC_ALL=C LANG=C TMPDIR="$cache/check-2/tmp" CVMTRUST_CACHE="$cache/check-2" \
    "${one_cpu[@]}" "$self" ${matcher:+--matcher "$matcher"} "$cache/check-2/out")
  for f in OVMF.fd vmlinuz initrd.img cmdline; do
    cmp "$cache/check-1/out/$f" "$cache/check-2/out/$f" || die "check: $f differs between the two builds"
  done
  install_out "$cache/check-1/out"
  say "check: the two builds are byte-identical"
  (cd "$out" && sha256sum OVMF.fd vmlinuz initrd.img cmdline)
  exit 0
fi

[[ "$(go env GOVERSION)" == "go$go_version" ]] || say "note: the host has $(go env GOVERSION); the image is compiled with the pinned go$go_version"
if [[ -n "$matcher" ]]; then
  why="$("$guestpins" check-static "$matcher" 2>&1)" || die "--matcher: ${why#guestpins: }"
fi

# Leftovers of a build that was killed (this cache is ours: see the lock).
rm -rf --one-file-system "$cache"/work.* "$cache"/root-*.part "$cache"/ovmf-*.part "$cache"/npm/*.part

# The work tree lives in the cache's file system (the firmware's build tree
# is about 1 GB); inside the root it is always /build.
work="$(mktemp -d "$cache/work.XXXXXX")"
trap 'rm -rf --one-file-system "$work"' EXIT
mkdir -p "$work/inputs" "$work/out"

step "downloading the pinned inputs (kept in $cache/downloads)…"
# Each file is checked against its pin by fetch; the caches below are keyed
# by those pinned SHA-256s, not by hashing the files again.
root_debs=() root_shas=() source_shas=()
pinned root
for line in "${inputs[@]}"; do
  read -r name version sha size path <<< "$line"
  fetch "$sha" "$size" "$path" "$name" "$version"
  root_debs+=("$fetched") root_shas+=("$sha")
done
for kind in kernel source; do
  pinned "$kind"
  for line in "${inputs[@]}"; do
    read -r name version sha size path <<< "$line"
    fetch "$sha" "$size" "$path" "$name" "$version"
    [[ "$kind" == source ]] && source_shas+=("$sha")
    # A hard link: the build root sees $work/inputs, not the cache.
    ln "$fetched" "$work/inputs/"
  done
done

step "the Go toolchain and modules (checked against the pins and go.sum)…"
pinned go
read -r _ go_zip_version go_sha _ go_path <<< "${inputs[0]}"
[[ "$go_path" == "$go_module" ]] || die "guest/pins.lock pins $go_path but go.mod asks for go$go_version: run scripts/build-guest.sh --update-pins"
go_json="$(GOFLAGS= GOTOOLCHAIN=local go mod download -json "$go_module")"
go_zip="$(sed -n 's/^\t"Zip": "\(.*\)",$/\1/p' <<< "$go_json")"
echo "$go_sha  $go_zip" | sha256sum --check --status || die "the Go toolchain $go_zip_version is not the pinned one (SHA-256 differs)"
goroot="$cache/go-$go_sha"
[[ -x "$goroot/bin/go" ]] || "$guestpins" unzip-go "$go_zip" "$goroot"
# The modules come from Go's module cache; go mod verify re-hashes them in
# the root before anything is compiled from them.
gomodcache="$(go env GOMODCACHE)"
GOFLAGS=-mod=readonly go mod download
# The widget's npm packages, from package-lock.json (each checked against
# its integrity hash), installed once per lock file without running scripts.
npm_dir="$cache/npm/$(sha256sum package-lock.json | cut -c1-16)"
if [[ ! -d "$npm_dir/node_modules" ]]; then
  mkdir -p "$npm_dir.part"
  cp package.json package-lock.json "$npm_dir.part/"
  (cd "$npm_dir.part" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error > /dev/null)
  rm -rf --one-file-system "$npm_dir"
  mv "$npm_dir.part" "$npm_dir"
fi

# The root's key: the packages' contents and how the root is made.
root_recipe="mmdebstrap --mode=root --variant=custom; mount points build inputs opt/go gomod cache/go-build"
root_key="$(printf '%s\n' "$root_recipe" "${root_shas[@]}" | sha256sum | cut -c1-16)"
root="$cache/root-$root_key"
if [[ ! -f "$root/.complete" ]]; then
  step "making the build root from the ${#root_debs[@]} pinned packages (mmdebstrap)…"
  rm -rf --one-file-system "$root"
  mkdir -p "$cache/empty-mirror"
  : > "$cache/empty-mirror/Packages"
  include=()
  for d in "${root_debs[@]}"; do include+=("--include=$d"); done
  mmdebstrap --mode=root --variant=custom --quiet "${include[@]}" \
    --hook-dir=/usr/share/mmdebstrap/hooks/file-mirror-automount \
    "$suite" "$root.part" "deb [trusted=yes] file://$cache/empty-mirror ./" > "$cache/mmdebstrap.log" 2>&1 || {
    tail -30 "$cache/mmdebstrap.log" >&2
    die "mmdebstrap failed (its whole log: $cache/mmdebstrap.log)"
  }
  # Where the build's directories are mounted (the root itself is read-only).
  mkdir -p "$root.part"/{build,inputs,opt/go,gomod,cache/go-build}
  touch "$root.part/.complete"
  mv "$root.part" "$root"
else
  step "build root up to date ($root)"
fi

# The source tree as git knows it (tracked files, with any uncommitted
# change), copied so that nothing the build writes reaches the checkout.
mkdir -p "$work/src"
git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' f; do
  [[ -e "$f" || -L "$f" ]] && printf '%s\0' "$f"
done | tar --null --files-from=- -cf - | tar -xf - -C "$work/src"
[[ -n "$matcher" ]] && cp "$matcher" "$work/matcher"
mkdir -p "$cache/go-build"

# inroot STEP...: guest/build-in-root.sh's steps in the build root.
inroot() {
  bwrap --ro-bind "$root" / --proc /proc --dev /dev --tmpfs /tmp \
    --bind "$work" /build --ro-bind "$work/inputs" /inputs \
    --ro-bind "$goroot" /opt/go --ro-bind "$gomodcache" /gomod --bind "$cache/go-build" /cache/go-build \
    --ro-bind "$npm_dir/node_modules" /build/src/node_modules \
    --unshare-all --die-with-parent --clearenv \
    --setenv PATH /usr/bin:/bin --setenv HOME /build --setenv SOURCE_DATE_EPOCH "$SOURCE_DATE_EPOCH" \
    bash /build/src/guest/build-in-root.sh "$@"
}

ovmf_key="$({ printf '%s\n' "${source_shas[@]}" "$root_key"; cat guest/build-in-root.sh guest/edk2/*.patch; } | sha256sum | cut -c1-16)"
ovmf_cache="$cache/ovmf-$ovmf_key"
if [[ -f "$ovmf_cache/OVMF.fd" ]]; then
  step "firmware up to date (cached by its inputs)"
  cp "$ovmf_cache/OVMF.fd" "$work/out/"
else
  step "building the firmware: edk2 AmdSevX64 from Debian's source package (about 3 minutes on 2 cores)…"
  inroot ovmf
  mkdir -p "$ovmf_cache.part"
  cp "$work/out/OVMF.fd" "$ovmf_cache.part/"
  mv "$ovmf_cache.part" "$ovmf_cache"
fi
rm -rf --one-file-system "$work/edk2"
step "the kernel from its package…"
inroot kernel
step "the init, the gateway and the image tools (Go $go_version, static)…"
inroot go
step "the widget (Go to WebAssembly, minified modules)…"
inroot widget
step "the initrd (guest/initrd.list, reproducible newc, gzip)…"
inroot initrd

commit="$(git rev-parse HEAD)"
dirty=false
[[ -z "$(git status --porcelain)" ]] || dirty=true
files=(-file "go.sum=go.sum" -file "package-lock.json=package-lock.json")
[[ -n "$matcher" ]] && files+=(-file "matcher=$work/matcher")
"$guestpins" inputs -lock "$lock" -commit "$commit" -dirty="$dirty" -source-date-epoch "$SOURCE_DATE_EPOCH" \
  "${files[@]}" -output "$work/out/OVMF.fd" -output "$work/out/vmlinuz" -output "$work/out/initrd.img" \
  -output "$work/out/cmdline" > "$work/out/inputs.json"

install_out "$work/out"
step "done: $out"
(cd "$out" && sha256sum OVMF.fd vmlinuz initrd.img cmdline) >&2
