#!/usr/bin/env bash
# Boots a guest image that scripts/build-guest.sh wrote.
#
#   scripts/run-guest.sh OUT --snp       [--vcpus N] [--vcpu-type T] [--listen 127.0.0.1:PORT] [--config FILE]
#                                        [--listen-https 127.0.0.1:PORT] [--cbitpos N] [--reduced-phys-bits N]
#   scripts/run-guest.sh OUT --simulated [--vcpus N] [--vcpu-type T] [--listen 127.0.0.1:PORT]
#                                        [--release-bundle FILE --sigstore-root FILE]
#   scripts/run-guest.sh OUT ... --print-command     print the QEMU command line instead of running it
#
# --snp, on an AMD SEV-SNP host: QEMU (the version guest/pins.lock pins, 9.1 at
# least) launches the guest with kernel-hashes=on, so the firmware refuses any
# kernel, initrd or command line but these; the report's MEASUREMENT is the
# launch digest printed before the boot. --config hands the gateway the
# operator's settings (domains for its ACME certificate, the release bundle it
# serves) through fw_cfg, outside the measurement (docs/guest-image.md).
#
# --simulated, on any Linux host: the same kernel, initrd and command line
# under QEMU without SEV (KVM with hardware virtualization, else TCG), with SeaBIOS in place
# of the firmware (which boots nothing without SEV). The guest finds no
# SEV-SNP interface and runs its gateway SIMULATED: its reports carry the
# launch digest computed here for these artifacts, handed in by fw_cfg, and
# are signed by a fake AMD chain made in the guest. --release-bundle and
# --sigstore-root hand the guest a release signed by a SIMULATED Sigstore
# instance (cvmtrust release sign-simulated) and that instance's root, which
# its gateway serves for pages to check. Nothing this proves is about hardware.
#
# The network is QEMU's user mode; simulated with restrict=on, so that the
# guest reaches nothing. One port is forwarded from --listen (default
# 127.0.0.1:8080) to the gateway's port 80, and with --listen-https one to
# its port 443. The serial console is this command's output. The VM runs
# until the guest powers off or this command is stopped.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"

say() { echo "run-guest: $*" >&2; }
die() { say "$*"; exit 1; }

# The launch settings of a release.
# shellcheck source=../guest/launch.env
source "$repo/guest/launch.env"

out= mode= listen=127.0.0.1:8080 listen_https= config= bundle= sigstore_root= print=0 cbitpos=51 reduced_phys_bits=1
while (($#)); do
  case "$1" in
    --snp) mode=snp ;;
    --simulated) mode=simulated ;;
    --vcpus) VCPUS="${2:?}"; shift ;;
    --vcpu-type) VCPU_TYPE="${2:?}"; shift ;;
    --memory) MEMORY="${2:?}"; shift ;;
    --listen) listen="${2:?}"; shift ;;
    --listen-https) listen_https="${2:?}"; shift ;;
    --config) config="$(realpath "${2:?}")"; shift ;;
    --release-bundle) bundle="$(realpath "${2:?}")"; shift ;;
    --sigstore-root) sigstore_root="$(realpath "${2:?}")"; shift ;;
    --cbitpos) cbitpos="${2:?}"; shift ;;
    --reduced-phys-bits) reduced_phys_bits="${2:?}"; shift ;;
    --print-command) print=1 ;;
    -h | --help) sed -n '2,29p' "$0"; exit 0 ;;
    -*) die "unknown flag $1 (see --help)" ;;
    *) [[ -z "$out" ]] || die "one image directory only"; out="$(realpath "$1")" ;;
  esac
  shift
done
[[ -n "$out" && -n "$mode" ]] || die "usage: scripts/run-guest.sh OUT --snp|--simulated [flags] (see --help)"
for f in OVMF.fd vmlinuz initrd.img cmdline; do
  [[ -f "$out/$f" ]] || die "$out/$f is missing: build the image with scripts/build-guest.sh $out"
done
for l in "$listen" ${listen_https:+"$listen_https"}; do
  [[ "$l" =~ ^127\.0\.0\.1:[0-9]+$ ]] || die "--listen and --listen-https take 127.0.0.1:PORT (the VM is reached from this machine only)"
done
[[ "$mode" == simulated || -z "$bundle$sigstore_root" ]] || die "--release-bundle and --sigstore-root are for --simulated: a real guest serves the bundle given in --config"
[[ -n "$bundle" || -z "$sigstore_root" ]] || die "--sigstore-root goes with --release-bundle"
[[ "$mode" == snp || -z "$config" ]] || die "--config is for --snp (a simulated guest gets its settings from this script)"

cmdline="$(cat "$out/cmdline")"
# cvmtrust itself: $CVMTRUST_BIN, the demo's build, or go run.
cvmtrust=(go run -C "$repo" ./cmd/cvmtrust)
[[ -x "$repo/build/demo/cvmtrust" ]] && cvmtrust=("$repo/build/demo/cvmtrust")
[[ -n "${CVMTRUST_BIN:-}" ]] && cvmtrust=("$CVMTRUST_BIN")
digest="$("${cvmtrust[@]}" measure --ovmf "$out/OVMF.fd" --kernel "$out/vmlinuz" --initrd "$out/initrd.img" \
  --append "$cmdline" --vcpus "$VCPUS" --vcpu-type "$VCPU_TYPE" --guest-features "$GUEST_FEATURES")"
say "launch digest of these artifacts ($VCPUS × $VCPU_TYPE, guest features $GUEST_FEATURES): $digest"

qemu=(qemu-system-x86_64 -nodefaults -display none -serial stdio -monitor none -no-reboot
  -m "$MEMORY" -smp "$VCPUS"
  -kernel "$out/vmlinuz" -initrd "$out/initrd.img" -append "$cmdline")

if [[ "$mode" == snp ]]; then
  # The pinned QEMU: the launch digest depends on how it sets up the guest.
  read -r _ pinned_qemu _ < <(awk '$1 == "vmm" { print $2, $3 }' "$repo/guest/pins.lock")
  have="$(dpkg-query -W -f='${Version}' qemu-system-x86 2> /dev/null || echo none)"
  [[ "$have" == "$pinned_qemu" ]] || die "this host has qemu-system-x86 $have; the release pins $pinned_qemu (guest/pins.lock): its launch digest is only known for that QEMU"
  if ((!print)); then
    [[ -e /dev/sev ]] || die "/dev/sev is missing: this host does not run SEV-SNP guests (docs/guest-image.md, Running on an SEV-SNP host)"
    [[ "$(cat /sys/module/kvm_amd/parameters/sev_snp 2> /dev/null)" == Y ]] || die "kvm_amd has SEV-SNP off (sev_snp=N)"
  fi
  qemu+=(-accel kvm -cpu "$VCPU_TYPE"
    -machine q35,confidential-guest-support=sev0,memory-backend=ram0,vmport=off
    -object "memory-backend-memfd,id=ram0,size=$MEMORY,share=true"
    -object "sev-snp-guest,id=sev0,cbitpos=$cbitpos,reduced-phys-bits=$reduced_phys_bits,kernel-hashes=on"
    -bios "$out/OVMF.fd"
    # Not restricted: the gateway reaches its ACME server for its certificate.
    -netdev "user,id=net0,hostfwd=tcp:$listen-:80${listen_https:+,hostfwd=tcp:$listen_https-:443}"
    -device virtio-net-pci,netdev=net0,iommu_platform=true,disable-legacy=on,romfile=)
  [[ -n "$config" ]] && qemu+=(-fw_cfg "name=opt/org.cvmtrust/config,file=$config")
  say "the report's MEASUREMENT must be $digest"
else
  cfg="$(mktemp "${TMPDIR:-/tmp}/cvmtrust-guest-config.XXXXXX")"
  trap 'rm -f "$cfg"' EXIT
  # The guest checks every field (guest/pid1/config.go) and stops on a bad one.
  {
    printf '{'
    [[ -n "$bundle" ]] && printf '"release_bundle":%s,' "$(cat "$bundle")"
    printf '"simulated":{"measurement":"%s"' "$digest"
    [[ -n "$sigstore_root" ]] && printf ',"sigstore_trusted_root":%s' "$(cat "$sigstore_root")"
    printf '}}'
  } > "$cfg"
  # KVM where the CPU has hardware virtualization, else TCG (slower, same
  # guest). A /dev/kvm without svm or vmx (a paravirtual backend such as
  # PVM) cannot boot a stock kernel. CVMTRUST_GUEST_ACCEL=tcg forces TCG.
  accel=tcg,thread=multi cpu=max
  if [[ "${CVMTRUST_GUEST_ACCEL:-}" != tcg && -w /dev/kvm ]] && grep -qwE 'svm|vmx' /proc/cpuinfo; then
    accel=kvm cpu=host
  fi
  qemu+=(-accel "$accel" -cpu "$cpu" -machine q35
    -netdev "user,id=net0,restrict=on,hostfwd=tcp:$listen-:80"
    -device virtio-net-pci,netdev=net0,romfile=
    -fw_cfg "name=opt/org.cvmtrust/config,file=$cfg")
  say "SIMULATED: no SEV, SeaBIOS in place of the firmware; the guest's gateway signs with a fake AMD chain"
fi

if ((print)); then
  # Quoted only where a word has a space (the kernel command line).
  for a in "${qemu[@]}"; do
    if [[ "$a" == *" "* ]]; then printf "'%s' " "$a"; else printf '%s ' "$a"; fi
  done
  echo
  exit 0
fi
say "the gateway will answer on http://$listen/ (the guest's port 80)"
"${qemu[@]}"
