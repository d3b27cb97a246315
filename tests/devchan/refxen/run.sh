#!/bin/bash
# Run the devchan scenarios (tests/devchan/scenarios.ts) on the real Xen 4.17 of
# /work/shared/refxen under QEMU, and record each domain's verdict and console in
# tests/devchan/refxen/refxen-results.json.
#
#   tests/devchan/refxen/run.sh [scenario-substring...]
#
# Needs refxen's images (see /work/shared/refxen/README.md) in REFXEN_WORK (default
# ${TMPDIR:-/tmp}/tsxen-refxen). They are only read: the run boots from its own shadow
# directory (DEVCHAN_REFXEN, default ${TMPDIR:-/tmp}/tsxen-devchan-refxen) with our dom0
# runner (dom0-devchan.sh), so it never writes into refxen's or another user's work
# directory. Root is needed (mkfs, QEMU).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
REFXEN=${REFXEN:-/work/shared/refxen}
WORK=${REFXEN_WORK:-${TMPDIR:-/tmp}/tsxen-refxen}
MINE=${DEVCHAN_REFXEN:-${TMPDIR:-/tmp}/tsxen-devchan-refxen}
XEN=${XEN:-pv32-tcgfix}
[ -f "$WORK/dom0.img" ] || { echo "no refxen images in $WORK (set REFXEN_WORK; build per $REFXEN/README.md)" >&2; exit 1; }

make -s -C "$ROOT/guests" devchan-tests
mkdir -p "$MINE"
(cd "$ROOT" && npx tsx tests/devchan/refxen/stage.ts guests/build "$MINE/stage" "$@")

SHADOW=$MINE/shadow
. "$ROOT/tests/refxen_shadow.sh"
make_refxen_shadow "$SHADOW" "$REFXEN" "$WORK" "$HERE/dom0-devchan.sh"

START=$(date -u +%Y-%m-%dT%H:%M:%SZ)
"$SHADOW/boot.sh" run "$MINE/stage" "$XEN" > "$MINE/boot-output.txt" 2>&1 || true
LOG=$SHADOW/work/serial-$XEN.log
cp "$LOG" "$MINE/serial.log"
cat "$MINE/boot-output.txt"
(cd "$ROOT" && npx tsx tests/devchan/refxen/collect.ts "$MINE/serial.log" tests/devchan/refxen/refxen-results.json "$START" "$XEN")
