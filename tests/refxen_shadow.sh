# Sourced by the refxen runners (tests/devchan/refxen/run.sh, tests/minios/refxen/run.sh).
#
# make_refxen_shadow SHADOW REFXEN WORK DOM0_RUNNER
#   A shadow of shared/refxen in SHADOW: links to refxen's scripts, our own dom0 runner as
#   dom0/run-tests.sh, and a private work/ whose big images are links into WORK. boot.sh
#   then writes its logs and test image under SHADOW, never into REFXEN or WORK.
make_refxen_shadow() {
  local shadow=$1 refxen=$2 work=$3 runner=$4 f b
  rm -rf "$shadow"; mkdir -p "$shadow/dom0" "$shadow/work"
  for f in "$refxen"/*; do
    b=$(basename "$f")
    case "$b" in dom0|work) continue;; esac
    ln -s "$f" "$shadow/$b"
  done
  install -m 755 "$runner" "$shadow/dom0/run-tests.sh"
  for f in dom0.img vmlinuz initrd.img xen-pv32-tcgfix xen-pv32 xen-stock; do
    [ -e "$work/$f" ] && ln -s "$work/$f" "$shadow/work/$f"
  done
  return 0
}
