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
# toolchain's sources in it): the build root (by the hash of its pins), the firmware
# (by the hash of its inputs) and Go's build cache. With an empty cache
# everything is rebuilt from the pinned sources. SOURCE_DATE_EPOCH defaults
# to the commit's time, which makes the release build. Needs root (the build
# root is made with mmdebstrap --mode=root), mmdebstrap, bwrap, curl, Go and
# npm; docs/guest-image.md says more.
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$PWD"

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

check=0 update_pins=0 matcher= out=
while (($#)); do
  case "$1" in
    --check) check=1 ;;
    --update-pins) update_pins=1 ;;
    --matcher) matcher="$(realpath "${2:?--matcher needs a file}")"; shift ;;
    -h | --help) sed -n '2,22p' "$0"; exit 0 ;;
    -*) die "unknown flag $1 (see --help)" ;;
    *) [[ -z "$out" ]] || die "one output directory only"; out="$1" ;;
  esac
  shift
done
((update_pins)) || [[ -n "$out" ]] || die "usage: scripts/build-guest.sh [--check] [--matcher FILE] OUT | --update-pins"
[[ -z "$matcher" || -f "$matcher" ]] || die "--matcher: $matcher is not a file"

[[ $(id -u) == 0 ]] || die "needs root: the build root is made with mmdebstrap --mode=root (try: sudo -E $0 $*)"
for tool in mmdebstrap bwrap curl go npm sha256sum; do
  command -v "$tool" > /dev/null || die "$tool is missing (Debian/Ubuntu: apt-get install mmdebstrap bubblewrap curl; Go and Node as the README says)"
done

lock="$repo/guest/pins.lock"
cache="$(realpath -m "${CVMTRUST_CACHE:-$repo/build/.guest-cache}")"
mkdir -p "$cache"
export SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-$(git -C "$repo" log -1 --format=%ct)}"

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

# fetch SHA256 SIZE PATH NAME VERSION: the pinned file at PATH below the
# mirror into $cache/downloads, checked; prints its local path.
fetch() {
  local sha=$1 size=$2 path=$3 name=$4 version=$5
  local dest="$cache/downloads/${path##*/}"
  if [[ -f "$dest" ]] && echo "$sha  $dest" | sha256sum --check --status; then
    echo "$dest"
    return
  fi
  mkdir -p "$cache/downloads"
  local code
  code="$(curl -sS -L -o "$dest.part" -w '%{http_code}' "$mirror/$path" || true)"
  if [[ "$code" != 200 ]]; then
    rm -f "$dest.part"
    die "the pinned $name $version is not served by $mirror (HTTP $code for $path): take it from a snapshot archive (CVMTRUST_DEBIAN_MIRROR=https://snapshot.debian.org/archive/debian/<time>) or update the pins (scripts/build-guest.sh --update-pins)"
  fi
  if ! echo "$sha  $dest.part" | sha256sum --check --status; then
    rm -f "$dest.part"
    die "$path from $mirror is not the pinned $name $version (its SHA-256 differs): refusing it"
  fi
  mv "$dest.part" "$dest"
  echo "$dest"
}

# The packages of the build root, and the tools that resolve them.
root_packages=gcc,g++,make,python3,nasm,acpica-tools,uuid-dev,patch,xz-utils,nodejs,ca-certificates
# The toolchain module of the Go version go.mod names.
go_version="$(sed -n 's/^go \([0-9.]*\)$/\1/p' go.mod)"
go_module="golang.org/toolchain@v0.0.1-go${go_version}.linux-amd64"

if ((update_pins)); then
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
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

if ((check)); then
  # Two builds, each from an empty cache of its own, compared byte for byte.
  mkdir -p "$out"
  for i in 1 2; do
    rm -rf "$cache/check-$i"
    say "check: build $i of 2, from an empty cache"
    CVMTRUST_CACHE="$cache/check-$i" "$0" ${matcher:+--matcher "$matcher"} "$cache/check-$i/out"
  done
  for f in OVMF.fd vmlinuz initrd.img cmdline; do
    cmp "$cache/check-1/out/$f" "$cache/check-2/out/$f" || die "check: $f differs between the two builds"
  done
  cp "$cache/check-1/out/"* "$out/"
  say "check: the two builds are byte-identical"
  (cd "$out" && sha256sum OVMF.fd vmlinuz initrd.img cmdline)
  exit 0
fi

[[ "$(go env GOVERSION)" == "go$go_version" ]] || say "note: the host has $(go env GOVERSION); the image is compiled with the pinned go$go_version"

# The work tree lives in the cache's file system (the firmware's build tree
# is about 1 GB); inside the root it is always /build.
work="$(mktemp -d "$cache/work.XXXXXX")"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/inputs" "$work/out"

step "downloading the pinned inputs (kept in $cache/downloads)…"
root_debs=()
while read -r name version sha size path; do
  root_debs+=("$(fetch "$sha" "$size" "$path" "$name" "$version")")
done < <("$guestpins" get -lock "$lock" root)
for kind in kernel source; do
  while read -r name version sha size path; do
    # A hard link: the build root sees $work/inputs, not the cache.
    ln "$(fetch "$sha" "$size" "$path" "$name" "$version")" "$work/inputs/"
  done < <("$guestpins" get -lock "$lock" "$kind")
done

step "the Go toolchain and modules (Go's module cache, checked against the pins and go.sum)…"
read -r _ go_zip_version go_sha _ go_path < <("$guestpins" get -lock "$lock" go)
[[ "$go_path" == "$go_module" ]] || die "guest/pins.lock pins $go_path but go.mod asks for go$go_version: run scripts/build-guest.sh --update-pins"
go_json="$(GOFLAGS= GOTOOLCHAIN=local go mod download -json "$go_module")"
go_zip="$(sed -n 's/^\t"Zip": "\(.*\)",$/\1/p' <<< "$go_json")"
echo "$go_sha  $go_zip" | sha256sum --check --status || die "the Go toolchain $go_zip_version is not the pinned one (SHA-256 differs)"
goroot="$cache/go-$go_sha"
[[ -x "$goroot/bin/go" ]] || "$guestpins" unzip-go "$go_zip" "$goroot"
gomodcache="$(go env GOMODCACHE)"
GOFLAGS=-mod=readonly go mod download
# The widget's npm packages, from package-lock.json (each checked against
# its integrity hash), installed once per lock file without running scripts.
npm_dir="$cache/npm/$(sha256sum package-lock.json | cut -c1-16)"
if [[ ! -d "$npm_dir/node_modules" ]]; then
  rm -rf "$npm_dir"
  mkdir -p "$npm_dir"
  cp package.json package-lock.json "$npm_dir/"
  (cd "$npm_dir" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error > /dev/null)
fi

root_key="$(printf '%s\n' "${root_debs[@]}" | xargs sha256sum | sha256sum | cut -c1-16)"
root="$cache/root-$root_key"
if [[ ! -f "$root/.complete" ]]; then
  step "making the build root from the ${#root_debs[@]} pinned packages (mmdebstrap)…"
  rm -rf "$root" "$root.part"
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

ovmf_key="$(cat "$work/inputs"/edk2_* guest/build-in-root.sh guest/edk2/*.patch | sha256sum | cut -c1-16)-$root_key"
if [[ -f "$cache/ovmf-$ovmf_key/OVMF.fd" ]]; then
  step "firmware up to date (cached by its inputs)"
  cp "$cache/ovmf-$ovmf_key/OVMF.fd" "$work/out/"
else
  step "building the firmware: edk2 AmdSevX64 from Debian's source package (about 3 minutes on 2 cores)…"
  inroot ovmf
  mkdir -p "$cache/ovmf-$ovmf_key"
  cp "$work/out/OVMF.fd" "$cache/ovmf-$ovmf_key/"
fi
rm -rf "$work/edk2"
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

# Only a whole build reaches OUT.
mkdir -p "$out"
for f in OVMF.fd vmlinuz initrd.img cmdline inputs.json initrd.contents.json; do
  cp "$work/out/$f" "$out/.$f.part"
done
for f in OVMF.fd vmlinuz initrd.img cmdline inputs.json initrd.contents.json; do
  mv "$out/.$f.part" "$out/$f"
done
step "done: $out"
(cd "$out" && sha256sum OVMF.fd vmlinuz initrd.img cmdline) >&2
