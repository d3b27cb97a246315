#!/bin/bash
# Runs inside refxen's dom0 (installed as /tests/run.sh by run.sh): every /tests/kernels/*.scn
# is a devchan scenario (format: stage.ts). For each: create its domains paused, give each
# its xenstore devchan/ directory (perms "nX rY" so its peer may read it, devchan/role,
# devchan/peer), attach the consoles, unpause all, wait for all to stop, then print one
# window per domain:
#   === BEGIN scenario/dom (cfg: ...)
#     con: <epoch> <console line>
#   RESULT|scenario/dom|<Test result line or why none>|total_s=...|rc=0
#   === END scenario/dom
export PATH=/usr/lib/xen-4.17/bin:$PATH
K=/tests/kernels

stamp() { while IFS= read -r line; do printf '%s %s\n' "$EPOCHREALTIME" "${line%$'\r'}"; done; }

run_scn() {
  local scn=$1 S timeout=300 t0 line
  S=$(basename "$scn" .scn)
  local -a names=() roles=() peers=() cpids=()
  declare -A domid=()
  while read -r line; do
    set -- $line
    case $1 in
      timeout) timeout=$2 ;;
      dom)
        local dn=$2 kern=$3 role=$4 peer=$5 mem=$6 vcpus=$7; shift 7
        local name="$S-$dn"
        { echo "name=\"$name\""; echo 'type="pv"'; echo "kernel=\"$K/$kern\""; echo "memory=$mem"
          echo "vcpus=$vcpus"; echo 'on_reboot="destroy"'; echo 'on_crash="destroy"'
          echo "$*" | tr ';' '\n' | sed '/^ *$/d'; } > /tmp/$name.cfg
        names+=("$dn"); roles+=("$role"); peers+=("$peer")
        xl create -p /tmp/$name.cfg > /tmp/$name.err 2>&1
        domid[$dn]=$(xl domid "$name" 2>/dev/null)
        ;;
    esac
  done < "$scn"
  local i
  for i in "${!names[@]}"; do
    local dn=${names[$i]} id=${domid[${names[$i]}]}
    [ -n "$id" ] || continue
    local p=/local/domain/$id/devchan
    xenstore-write $p ""
    if [ "${peers[$i]}" != - ] && [ -n "${domid[${peers[$i]}]}" ]; then
      xenstore-chmod $p n$id r${domid[${peers[$i]}]}
      xenstore-write $p/peer "${domid[${peers[$i]}]}"
    else
      xenstore-chmod $p n$id
    fi
    xenstore-write $p/role "${roles[$i]}"
  done
  for dn in "${names[@]}"; do
    : > /tmp/$S-$dn.out
    ( xl console "$S-$dn" 2>>/tmp/$S-$dn.err | stamp >> /tmp/$S-$dn.out ) & cpids+=($!)
  done
  sleep 1
  t0=$EPOCHREALTIME
  for dn in "${names[@]}"; do xl unpause "$S-$dn" 2>>/tmp/$S-$dn.err; done
  local n=0 alive
  while [ $n -lt $((timeout * 2)) ]; do
    alive=0
    for dn in "${names[@]}"; do xl domid "$S-$dn" >/dev/null 2>&1 && alive=1; done
    [ $alive = 0 ] && break
    sleep 0.5; n=$((n + 1))
  done
  local t1=$EPOCHREALTIME
  for dn in "${names[@]}"; do xl destroy "$S-$dn" >/dev/null 2>&1; done
  sleep 1
  for c in "${cpids[@]}"; do kill $c 2>/dev/null; wait $c 2>/dev/null; done
  for i in "${!names[@]}"; do
    local dn=${names[$i]} name="$S-${names[$i]}" res
    echo "=== BEGIN $S/$dn (cfg: $(tr '\n' ';' < /tmp/$name.cfg))"
    sed 's/^/  err: /' /tmp/$name.err
    sed 's/^/  con: /' /tmp/$name.out | tr -d '\000'
    res=$(grep -a -o 'Test result: .*' /tmp/$name.out | tail -n1)
    [ -z "$res" ] && res="(no Test result line; $(grep -a -m1 -iE 'error|fail' /tmp/$name.err))"
    echo "RESULT|$S/$dn|$res|total_s=$(awk -v a=$t0 -v b=$t1 'BEGIN{printf "%.2f", b-a}')|rc=0"
    echo "=== END $S/$dn"
  done
}

echo "=== xl info"; xl info | grep -E 'xen_version|nr_cpus|free_memory'
for scn in $K/*.scn; do
  [ -f "$scn" ] && run_scn "$scn"
done
echo "=== xl dmesg (tail)"; xl dmesg | tail -n 80
