#!/bin/bash
# Run minios scenarios on the real Xen 4.17 of /work/shared/refxen under QEMU.
#
#   tests/minios/refxen/run.sh [scenario-substring...]
#
# Scenarios are tests/minios/refxen/scenarios/NAME.cfg (format: dom0-run.sh, scenario.ts).
# Needs the refxen images built once (see /work/shared/refxen/README.md) in REFXEN_WORK
# (default ${TMPDIR:-/tmp}/tsxen-refxen). They are only read: this script boots them from
# its own shadow directory (MINIOS_REFXEN, default ${TMPDIR:-/tmp}/tsxen-minios-refxen)
# with its own dom0 test runner, so it never writes into refxen's or another user's work
# directory and can run beside them. Root is needed (mkfs, QEMU).
# Output: the RESULT lines; the full serial log is $MINIOS_REFXEN/work/serial-*.log and
# a copy of the console excerpts goes to $MINIOS_REFXEN/last-run.txt.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
REFXEN=${REFXEN:-/work/shared/refxen}
WORK=${REFXEN_WORK:-${TMPDIR:-/tmp}/tsxen-refxen}
MINE=${MINIOS_REFXEN:-${TMPDIR:-/tmp}/tsxen-minios-refxen}
XEN=${XEN:-pv32-tcgfix}
[ -f "$WORK/dom0.img" ] || { echo "no refxen images in $WORK (set REFXEN_WORK; build per $REFXEN/README.md)" >&2; exit 1; }

make -s -C "$ROOT/guests" minios

STAGE=$MINE/stage
rm -rf "$STAGE"; mkdir -p "$STAGE"
cp "$ROOT/guests/build/minios.elf" "$STAGE/minios"
cp -p "$HERE"/scenarios/hotplug-* "$STAGE/"
for f in "$HERE"/scenarios/*.cfg; do
  n=$(basename "$f" .cfg)
  if [ $# -gt 0 ]; then
    keep=0; for want in "$@"; do [[ "$n" == *"$want"* ]] && keep=1; done
    [ $keep = 1 ] || continue
  fi
  grep -q '^# *tsxen-only:' "$f" && continue
  cp "$f" "$STAGE/"
done

SHADOW=$MINE/shadow
. "$ROOT/tests/refxen_shadow.sh"
make_refxen_shadow "$SHADOW" "$REFXEN" "$WORK" "$HERE/dom0-run.sh"

"$SHADOW/boot.sh" run "$STAGE" "$XEN" > "$MINE/boot-output.txt" 2>&1 || true
LOG=$SHADOW/work/serial-$XEN.log
grep -a -E '^=== (BEGIN|END)|^  (con|err|host):|^RESULT' "$LOG" | sed 's/\r$//' > "$MINE/last-run.txt" || true
cat "$MINE/boot-output.txt"
