#!/bin/bash
# Runs inside the refxen dom0 (installed as /tests/run.sh by refxen's boot.sh, through
# run.sh's shadow directory). /tests/kernels holds the minios kernel and one scenario per
# NAME.cfg: xl.cfg lines (extra=, disk=, vif=, memory=, vcpus= ...) plus directives in
# comments, which tests/minios/scenario.ts reads the same way for the tsxen runs:
#   # disk: SIZE                       create /tmp/NAME.img (truncate -s SIZE) first
#   # after: REGEX => ACTION [ARGS]    once a console line matches, do ACTION (in file order):
#        ping IP N | udp-echo IP PORT N | save-restore | mem-set MIB | expect-mem MIB |
#        shutdown | reboot | sleep SECS | vcpu-times | ok TEXT |
#        block-detach VDEV | network-detach DEVID     (xl ...-detach: fails if libxl had to force it)
#        block-attach DISKSPEC | network-attach K=V,K=V   (xl ...-attach while the guest runs)
#   # check-disk: START COUNT SEED     afterwards the image holds that disk test pattern
#   # expect: SUCCESS|FAILURE          the verdict a correct Xen gives (default SUCCESS)
#   # tsxen-only: / refxen-only: WHY   (run.sh skips tsxen-only scenarios)
# One RESULT line per scenario: RESULT|NAME|<verdict line>|host=<ok|fail:...>|total_s=..
# The network: bridge xenbr0 with 10.0.2.2/24 in dom0 and a UDP echo server on 10.0.2.2:7.
export PATH=/usr/lib/xen-4.17/bin:$PATH
MEM=${MEM:-32}; [ -r /tests/settings ] && . /tests/settings
TIMEOUT=${TIMEOUT:-180}
K=/tests/kernels

ip link add xenbr0 type bridge 2>/dev/null
ip addr add 10.0.2.2/24 dev xenbr0 2>/dev/null
ip link set xenbr0 up
python3 - <<'EOF' &
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.0.2.2", 7))
while True:
    data, peer = s.recvfrom(65535)
    s.sendto(data, peer)
EOF
ECHO_PID=$!

stamp() { while IFS= read -r line; do printf '%s %s\n' "$EPOCHREALTIME" "${line%$'\r'}"; done; }

# ---- helpers for hook scripts ----
HOST_STATUS=ok
host_ok()   { echo "  host: OK $*"; }
host_fail() { echo "  host: FAIL $*"; HOST_STATUS="fail:$*"; }
# wait_line REGEX [SECS]: wait until the console log has a matching line.
wait_line() {
  local i=0 limit=$(( ${2:-60} * 10 ))
  while [ $i -lt $limit ]; do
    grep -aqE "$1" "$OUT" 2>/dev/null && return 0
    sleep 0.1; i=$((i+1))
  done
  host_fail "no console line matching '$1' within ${2:-60}s"; return 1
}
# console_attach: follow the console again (after xl restore), appending to $OUT. run_one
# waits for these readers before it reads $OUT: on a loaded host xl console and stamp lag
# seconds behind the guest, and reading $OUT as soon as the domain was gone lost the tail
# of a restored guest's output (11-saverestore-smp once ended "without output" that way).
CONSOLE_PIDS=
console_attach() { ( xl console "$NAME" 2>>/tmp/$NAME.err | stamp >> "$OUT" ) & CONSOLE_PIDS="$CONSOLE_PIDS $!"; }
# wait_consoles: let the console readers drain (xl console exits once the domain is gone).
wait_consoles() {
  local p i
  for p in $CONSOLE_PIDS; do
    i=0; while kill -0 "$p" 2>/dev/null && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done
    kill -0 "$p" 2>/dev/null && { host_fail "console reader still running 30 s after the domain ended"; kill "$p"; }
    wait "$p" 2>/dev/null
  done
  CONSOLE_PIDS=
}
# Reproduce the disk test pattern and CRC of `disk write/verify START COUNT SEED`.
disk_crc() {  # image start count seed -> prints crc of the image region and whether it matches the pattern
  python3 - "$@" <<'EOF'
import sys, zlib, struct
img, start, count, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
M = 0xFFFFFFFF
def xs(x):
    x ^= (x << 13) & M; x ^= x >> 17; x ^= (x << 5) & M
    return x
with open(img, 'rb') as f:
    f.seek(start * 512); data = f.read(count * 512)
good = True
for s in range(count):
    want = struct.pack('<128I', *[xs((seed ^ ((start + s) * 0x9E3779B1 & M) ^ (w * 0x85EBCA6B & M)) | 1) for w in range(128)])
    if data[s*512:(s+1)*512] != want: good = False; break
print("%08x %s" % (zlib.crc32(data) & M, "pattern-ok" if good else "pattern-bad"))
EOF
}

do_action() {  # ACTION ARGS...
  local a=$1; shift
  case "$a" in
  ping)
    if busybox ping -c "$2" -W 2 "$1" > /tmp/$NAME.ping 2>&1; then host_ok "dom0 ping $1: $(grep -a 'packets' /tmp/$NAME.ping)"
    else host_fail "dom0 ping $1: $(tr '\n' ' ' < /tmp/$NAME.ping)"; fi ;;
  udp-echo)
    local r; r=$(python3 - "$@" <<'PY'
import socket, sys
ip, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(2)
ok = 0
for i in range(n):
    msg = bytes((i * 7 + k) & 255 for k in range(100 + i * 50))
    s.sendto(msg, (ip, port))
    try:
        data, _ = s.recvfrom(4096)
        ok += data == msg
    except socket.timeout:
        pass
print(ok)
PY
)
    [ "$r" = "$3" ] && host_ok "dom0 UDP echo via $1:$2: $r/$3" || host_fail "dom0 UDP echo via $1:$2: $r/$3" ;;
  save-restore)
    if xl save "$NAME" /tmp/$NAME.save >>/tmp/$NAME.err 2>&1; then
      host_ok "xl save: $(stat -c %s /tmp/$NAME.save) bytes"
      if xl restore -p /tmp/$NAME.save >>/tmp/$NAME.err 2>&1; then
        console_attach; sleep 1; xl unpause "$NAME"; host_ok "xl restore"
      else host_fail "xl restore failed"; fi
    else host_fail "xl save failed"; fi ;;
  mem-set) xl mem-set "$NAME" "${1}m" ;;
  expect-mem)
    local m; m=$(xl list "$NAME" 2>/dev/null | awk 'NR==2 {print $3}')
    if [ -n "$m" ] && [ "$m" -le $(( $1 + 1 )) ] && [ "$m" -ge $(( $1 - 1 )) ]; then host_ok "xl list: $m MiB"
    else host_fail "xl list shows '$m' MiB, want $1"; fi ;;
  shutdown) xl shutdown "$NAME" ;;
  reboot) xl reboot "$NAME" ;;
  sleep) sleep "$1" ;;
  vcpu-times) host_ok "vcpu times: $(xl vcpu-list "$NAME" | awk 'NR>1 {printf "%s ", $6}')" ;;
  block-detach|network-detach)
    # libxl waits up to 10 s (LIBXL_DESTROY_TIMEOUT) for the frontend to close, then forces.
    local t0=$EPOCHREALTIME rc=0
    xl $a "$NAME" "$1" > /tmp/$NAME.detach 2>&1 || rc=$?
    local dt; dt=$(awk -v a=$t0 -v b=$EPOCHREALTIME 'BEGIN{printf "%.2f", b-a}')
    cat /tmp/$NAME.detach >> /tmp/$NAME.err
    if [ $rc = 0 ] && awk -v d=$dt 'BEGIN{exit !(d < 9.5)}' && ! grep -aqiE 'timed? ?out|forc' /tmp/$NAME.detach; then
      host_ok "xl $a $1: ${dt}s, the frontend closed"
    else host_fail "xl $a $1: rc=$rc after ${dt}s: $(tr '\n' ' ' < /tmp/$NAME.detach)"; fi ;;
  block-attach)
    if xl block-attach "$NAME" "$1" >>/tmp/$NAME.err 2>&1; then host_ok "xl block-attach $1"
    else host_fail "xl block-attach $1 failed"; fi ;;
  network-attach)
    if xl network-attach "$NAME" $(echo "$1" | tr ',' ' ') >>/tmp/$NAME.err 2>&1; then host_ok "xl network-attach $1"
    else host_fail "xl network-attach $1 failed"; fi ;;
  ok) host_ok "$*" ;;
  *) host_fail "unknown action $a" ;;
  esac
}

run_one() {
  local cfg=$1 NAME; NAME=$(basename "$cfg" .cfg)
  OUT=/tmp/$NAME.out; HOST_STATUS=ok
  export NAME OUT
  { echo "name=\"$NAME\""; echo 'type="pv"'; echo "kernel=\"$K/minios\""
    grep -qs '^ *memory *=' "$cfg" || echo "memory=$MEM"
    echo 'on_reboot="destroy"'; echo 'on_crash="destroy"'; echo 'on_poweroff="destroy"'
    grep -v '^ *#' "$cfg"
    grep -qs '^ *vcpus *=' "$cfg" || echo 'vcpus=1'
  } > /tmp/$NAME.cfg
  echo "=== BEGIN $NAME (cfg: $(tr '\n' ';' < /tmp/$NAME.cfg))"
  : > "$OUT"; : > /tmp/$NAME.err
  local size; size=$(sed -n 's/^# *disk: *//p' "$cfg")
  [ -n "$size" ] && { rm -f /tmp/$NAME.img; truncate -s "$size" /tmp/$NAME.img; }
  local t0=$EPOCHREALTIME
  ( timeout $TIMEOUT xl create -c /tmp/$NAME.cfg 2>>/tmp/$NAME.err | stamp >> "$OUT" ) &
  local cpid=$!
  while IFS= read -r d; do
    local pat=${d%% => *} act=${d#* => }
    wait_line "$pat" 120 && do_action $act
  done < <(sed -n 's/^# *after: *//p' "$cfg")
  # Wait for the domain to end (it powers off after its commands).
  local i=0
  sleep 1
  while xl domid "$NAME" >/dev/null 2>&1 && [ $i -lt $((TIMEOUT*2)) ]; do sleep 0.5; i=$((i+1)); done
  sleep 0.5
  xl destroy "$NAME" >/dev/null 2>&1
  wait $cpid 2>/dev/null
  wait_consoles
  local t1=$EPOCHREALTIME
  while read -r s n seed; do
    local crc ok; read crc ok < <(disk_crc /tmp/$NAME.img $s $n $seed)
    if grep -aq "OK disk write start=$s count=$n crc=$crc" "$OUT" && [ "$ok" = pattern-ok ]; then
      host_ok "image sectors $s+$n hold pattern $seed (crc=$crc)"
    else
      host_fail "image sectors $s+$n: crc=$crc $ok"
    fi
  done < <(sed -n 's/^# *check-disk: *//p' "$cfg")
  sed 's/^/  err: /' /tmp/$NAME.err | grep -v 'libxl: debug'; sed 's/^/  con: /' "$OUT" | tr -d '\000'
  local res; res=$(grep -a -o 'Test result: .*' "$OUT" | tail -n1)
  [ -z "$res" ] && res="(no Test result line; $(grep -a -m1 -iE 'TRAP|PANIC|error' "$OUT" /tmp/$NAME.err | head -c 200))"
  echo "RESULT|$NAME|$res|host=$HOST_STATUS|total_s=$(awk -v a=$t0 -v b=$t1 'BEGIN{printf "%.2f", b-a}')"
  # The end of Xen's console: guest traps (minios also writes them with console_io) and
  # Xen's own reports of a crashed domain, even when the PV console lost them.
  echo "=== xl dmesg $NAME (tail)"; xl dmesg | tail -n 20
  echo "=== END $NAME"
  rm -f /tmp/$NAME.img /tmp/$NAME.save
}

echo "=== xl info"; xl info | grep -E 'xen_(major|minor|extra)|nr_cpus|free_memory'
for cfg in "$K"/*.cfg; do
  [ -f "$cfg" ] && run_one "$cfg"
done
kill $ECHO_PID 2>/dev/null
echo "=== xl dmesg (tail)"; xl dmesg | tail -n 40
