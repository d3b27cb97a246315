#!/bin/bash
# Run the PV test kernels (guests/tests/pv) on the real Xen 4.17 of /work/shared/refxen
# under QEMU, and record each kernel's verdict and console in refxen-results.json.
#
#   tests/pv_refxen/run.sh [name-substring...]     # all kernels, or those matching
#
# Needs the refxen images built once (see /work/shared/refxen/README.md), in
# REFXEN_WORK (default ${TMPDIR:-/tmp}/tsxen-refxen, where refxen's scripts put them when
# their own directory is read-only). Runs as root (mkfs, QEMU). Writes:
#   $REFXEN_WORK/pv-serial.log                   the whole serial log (Xen + dom0)
#   tests/pv_refxen/refxen-results.json          verdicts (merged: a partial run only
#                                                replaces the kernels it ran)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
REFXEN=${REFXEN:-/work/shared/refxen}
WORK=${REFXEN_WORK:-${TMPDIR:-/tmp}/tsxen-refxen}
XEN=${XEN:-pv32-tcgfix}
[ -f "$WORK/dom0.img" ] || { echo "no refxen images in $WORK (set REFXEN_WORK; build per $REFXEN/README.md)" >&2; exit 1; }

make -s -C "$ROOT/guests" pv-tests
STAGE=$WORK/pv-stage
(cd "$ROOT" && npx tsx tests/pv_refxen/stage.ts guests/build "$STAGE" "$@")

# refxen's boot.sh keeps its work dir beside itself when that directory is writable (as it
# is for root even on a read-only share). Run it from a shadow directory of symlinks
# whose work/ is $WORK, so nothing is ever written into $REFXEN.
SHADOW=$WORK/refxen-shadow
rm -rf "$SHADOW"; mkdir -p "$SHADOW"
for f in "$REFXEN"/*; do ln -s "$f" "$SHADOW/$(basename "$f")"; done
ln -s "$WORK" "$SHADOW/work"

START=$(date -u +%Y-%m-%dT%H:%M:%SZ)
"$SHADOW/boot.sh" run "$STAGE" "$XEN" | tee "$WORK/pv-boot-output.txt"
cp "$WORK/serial-$XEN.log" "$WORK/pv-serial.log"
(cd "$ROOT" && npx tsx tests/pv_refxen/collect.ts "$WORK/pv-serial.log" guests/build \
    tests/pv_refxen/refxen-results.json "$START" "$XEN")
