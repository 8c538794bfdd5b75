#!/usr/bin/env bash
# The compiling steps of the guest image, run by scripts/build-guest.sh inside
# the Debian trixie build root made from guest/pins.lock, with no network and a
# clean environment. One step per call, named for what it produces:
#
#   ovmf     /build/out/OVMF.fd      edk2's AmdSevX64 firmware, from Debian's edk2 source package
#   kernel   /build/out/vmlinuz      the pinned cloud kernel, and its modules under /build/kernel
#   go       /build/bin/{init,cvmtrust,mkinitrd}   static, with the pinned Go toolchain
#   widget   /build/src/web/dist     the widget (Go → WebAssembly, minified modules)
#   initrd   /build/out/initrd.img   the declared list (guest/initrd.list), and cmdline
#
# Paths inside the root are fixed (/build/...), whatever the host's are: edk2
# records build paths in the firmware.
set -euo pipefail
umask 022
export LC_ALL=C.UTF-8 TZ=UTC
: "${SOURCE_DATE_EPOCH:?}"

src=/build/src
out=/build/out
inputs=/inputs
mkdir -p "$out"

step_ovmf() {
  local tree=/build/edk2
  rm -rf "$tree"
  mkdir -p "$tree"
  tar -xJf "$inputs"/edk2_*.orig.tar.xz -C "$tree" --strip-components=1
  tar -xJf "$inputs"/edk2_*.debian.tar.xz -C "$tree"
  cd "$tree"
  # Debian's patches, as dpkg-source would apply them, then ours.
  local p
  while read -r p; do
    case "$p" in '' | '#'*) continue ;; esac
    patch -p1 --quiet --no-backup-if-mismatch < "debian/patches/$p"
  done < debian/patches/series
  for p in "$src"/guest/edk2/*.patch; do
    patch -p1 --quiet --no-backup-if-mismatch < "$p"
  done
  # AmdSevX64 without GRUB, as edk2's own CI builds it: an empty
  # application where GRUB would go. The firmware boots only the kernel,
  # initrd and command line whose hashes QEMU put in the measured table.
  : > OvmfPkg/AmdSev/Grub/grub.efi
  export PYTHON3_ENABLE=TRUE
  set +u # edksetup.sh reads unset variables
  . ./edksetup.sh > /dev/null
  set -u
  make -s -C BaseTools ARCH=X64 -j"$(nproc)" > /build/basetools.log 2>&1 || { tail -40 /build/basetools.log; exit 1; }
  build -q -a X64 -t GCC5 -b RELEASE -n "$(nproc)" -p OvmfPkg/AmdSev/AmdSevX64.dsc > /build/ovmf.log 2>&1 || {
    tail -40 /build/ovmf.log
    exit 1
  }
  cp Build/AmdSev/RELEASE_GCC5/FV/OVMF.fd "$out/OVMF.fd"
}

step_kernel() {
  rm -rf /build/kernel
  dpkg-deb -x "$inputs"/linux-image-*.deb /build/kernel
  local vmlinuz=(/build/kernel/boot/vmlinuz-*)
  [[ ${#vmlinuz[@]} == 1 ]] || { echo "the kernel package holds ${#vmlinuz[@]} kernels" >&2; exit 1; }
  cp "${vmlinuz[0]}" "$out/vmlinuz"
  basename "${vmlinuz[0]}" | sed 's/^vmlinuz-//' > /build/kernel/release
}

go_env() {
  export GOROOT=/opt/go PATH=/opt/go/bin:/usr/bin:/bin GOTOOLCHAIN=local
  export GOMODCACHE=/gomod GOCACHE=/cache/go-build GOPROXY=off GOSUMDB=off GOFLAGS="-mod=readonly -buildvcs=false"
  export CGO_ENABLED=0 HOME=/build
}

step_go() {
  go_env
  cd "$src"
  local flags=(-trimpath -ldflags="-s -w -buildid=")
  mkdir -p /build/bin
  GOOS=linux GOARCH=amd64 go build "${flags[@]}" -o /build/bin/init ./guest/cmd/init
  GOOS=linux GOARCH=amd64 go build "${flags[@]}" -o /build/bin/cvmtrust ./cmd/cvmtrust
  go build "${flags[@]}" -o /build/bin/mkinitrd ./guest/cmd/mkinitrd
}

step_widget() {
  go_env
  cd "$src"
  # build-wasm.sh prints build.json; the guest build keeps its own log short.
  ./scripts/build-wasm.sh > /build/widget.log
}

step_initrd() {
  cd "$src"
  local release
  release="$(cat /build/kernel/release)"
  # The widget's files as the gateway serves them (--static): every file of
  # web/ but its sources for the build and its documentation.
  local list=/build/web.list
  {
    echo "# the widget, as built by scripts/build-wasm.sh"
    find web -type d -not -path 'web/src*' -printf 'dir /usr/share/cvmtrust/%p 0755 0 0\n'
    find web -type f -not -path 'web/src/*' -not -name '*.md' -not -name '*.d.ts' -not -name '.inputs-sha256' \
      -printf 'file /usr/share/cvmtrust/%p /build/src/%p 0644 0 0\n'
  } | LC_ALL=C sort > "$list"
  # Trusted roots for the gateway's own HTTPS client (ACME): Mozilla's list
  # as Debian ships it, concatenated in name order.
  mkdir -p /build/etc
  find /usr/share/ca-certificates/mozilla -name '*.crt' -print0 | LC_ALL=C sort -z | xargs -0 cat > /build/etc/ca-certificates.crt
  local matcher_list=()
  if [[ -f /build/matcher ]]; then
    # The image has no C library or loader: the matcher must be static.
    if readelf -l /build/matcher | grep -q 'Requesting program interpreter'; then
      echo "the matcher is a dynamic executable; the image holds no libraries: link it statically" >&2
      exit 1
    fi
    printf 'dir /usr/lib/cvmtrust 0755 0 0\nfile /usr/lib/cvmtrust/matcher /build/matcher 0755 0 0\n' > /build/matcher.list
    matcher_list=(/build/matcher.list)
  fi
  /build/bin/mkinitrd -o "$out/initrd.img" -contents "$out/initrd.contents.json" -mtime "$SOURCE_DATE_EPOCH" \
    -var KERNEL_RELEASE="$release" -var MODULES=/build/kernel/usr/lib/modules/"$release" -var BIN=/build/bin \
    -var ETC=/build/etc \
    "$src/guest/initrd.list" "$list" "${matcher_list[@]}"
  tr -d '\n' < "$src/guest/cmdline" > "$out/cmdline"
}

for step in "$@"; do
  "step_$step"
done
