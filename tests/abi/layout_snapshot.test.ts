/**
 * The layout snapshot: every struct of src/abi pinned to the size and field offsets of the
 * fact sheets (shared/abi/*.md, measured with gcc -m32 against Xen's real headers). A change
 * to a descriptor that moves any byte fails here; a new struct must be added here.
 *
 * Pinned paths are the top-level fields and the members of inline anonymous structs/unions
 * (named nested structs have their own row); fields whose name starts with '_' are padding.
 */
import { describe, expect, it } from 'vitest';
import { HEADERS, NOT_ABI, TS_ONLY } from '../../tools/abi/headers.ts';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { StructDef } from '../../src/abi/layout.ts';

const ABI = fileURLToPath(new URL('../../src/abi/', import.meta.url));

/** [module:export, size, "path offset path offset ..."] */
const SNAPSHOT: ReadonlyArray<readonly [string, number, string]> = [
  // arch_x86_32.ts: hypercalls-x86_32.md §3.1, §7, §10 (arch_shared_info_xen3: the 3.4 layout, 268)
  ['arch_x86_32.ts:arch_shared_info', 28, 'max_pfn 0 pfn_to_mfn_frame_list_list 4 nmi_reason 8 p2m_cr3 12 p2m_vaddr 16 p2m_generation 20 wc_sec_hi 24'],
  ['arch_x86_32.ts:arch_shared_info_xen3', 268, 'max_pfn 0 pfn_to_mfn_frame_list_list 4 nmi_reason 8 pad 12'],
  ['arch_x86_32.ts:arch_vcpu_info', 24, 'cr2 0 pad 4'],
  ['arch_x86_32.ts:cpu_user_regs', 68, 'ebx 0 ecx 4 edx 8 esi 12 edi 16 ebp 20 eax 24 error_code 28 entry_vector 30 eip 32 cs 36 saved_upcall_mask 38 eflags 40 esp 44 ss 48 es 52 ds 56 fs 60 gs 64'],
  ['arch_x86_32.ts:iret_frame_x86_32', 24, 'eax 0 eip 4 cs 8 eflags 12 esp 16 ss 20'],
  ['arch_x86_32.ts:trap_info', 8, 'vector 0 flags 1 cs 2 address 4'],
  ['arch_x86_32.ts:vcpu_guest_context', 2800, 'fpu_ctxt 0 fpu_ctxt.x 0 flags 512 user_regs 516 trap_ctxt 584 ldt_base 2632 ldt_ents 2636 gdt_frames 2640 gdt_ents 2704 kernel_ss 2708 kernel_sp 2712 ctrlreg 2716 debugreg 2748 event_callback_cs 2780 event_callback_eip 2784 failsafe_callback_cs 2788 failsafe_callback_eip 2792 vm_assist 2796'],
  ['arch_x86_32.ts:xen_callback', 8, 'cs 0 eip 4'],
  // xen.ts: hypercalls-x86_32.md §3.2-3.3, §8.1, §9.2, §10.1
  ['xen.ts:mmu_update', 16, 'ptr 0 val 8'],
  ['xen.ts:mmuext_op', 12, 'cmd 0 arg1 4 arg1.mfn 4 arg1.linear_addr 4 arg2 8 arg2.nr_ents 8 arg2.vcpumask 8 arg2.src_mfn 8'],
  ['xen.ts:multicall_entry', 32, 'op 0 result 4 args 8'],
  ['xen.ts:shared_info', 2344, 'vcpu_info 0 evtchn_pending 2048 evtchn_mask 2176 wc_version 2304 wc_sec 2308 wc_nsec 2312 arch 2316'],
  ['xen.ts:shared_info_xen3', 2584, 'vcpu_info 0 evtchn_pending 2048 evtchn_mask 2176 wc_version 2304 wc_sec 2308 wc_nsec 2312 arch 2316'],
  ['xen.ts:start_info', 1112, 'magic 0 nr_pages 32 shared_info 36 flags 40 store_mfn 44 store_evtchn 48 console 52 console.domU 52 console.domU.mfn 52 console.domU.evtchn 56 console.dom0 52 console.dom0.info_off 52 console.dom0.info_size 56 pt_base 60 nr_pt_frames 64 mfn_list 68 mod_start 72 mod_len 76 cmd_line 80 first_p2m_pfn 1104 nr_p2m_frames 1108'],
  ['xen.ts:vcpu_info', 64, 'evtchn_upcall_pending 0 evtchn_upcall_mask 1 evtchn_pending_sel 4 arch 8 time 32'],
  ['xen.ts:vcpu_time_info', 32, 'version 0 pad0 4 tsc_timestamp 8 system_time 16 tsc_to_system_mul 24 tsc_shift 28 flags 29 pad1 30'],
  // version.ts: hypercalls-x86_32.md §5.5
  ['version.ts:xen_compile_info', 144, 'compiler 0 compile_by 64 compile_domain 80 compile_date 112'],
  ['version.ts:xen_feature_info', 8, 'submap_idx 0 submap 4'],
  ['version.ts:xen_platform_parameters', 4, 'virt_start 0'],
  ['version.ts:xen_varbuf', 4, 'len 0 buf 4'],
  // event_channel.ts: event-channels.md §3, §7, §9
  ['event_channel.ts:evtchn_alloc_unbound', 8, 'dom 0 remote_dom 2 port 4'],
  ['event_channel.ts:evtchn_bind_interdomain', 12, 'remote_dom 0 remote_port 4 local_port 8'],
  ['event_channel.ts:evtchn_bind_ipi', 8, 'vcpu 0 port 4'],
  ['event_channel.ts:evtchn_bind_pirq', 12, 'pirq 0 flags 4 port 8'],
  ['event_channel.ts:evtchn_bind_vcpu', 8, 'port 0 vcpu 4'],
  ['event_channel.ts:evtchn_bind_virq', 12, 'virq 0 vcpu 4 port 8'],
  ['event_channel.ts:evtchn_close', 4, 'port 0'],
  ['event_channel.ts:evtchn_expand_array', 8, 'array_gfn 0'],
  ['event_channel.ts:evtchn_fifo_control_block', 72, 'ready 0 head 8'],
  ['event_channel.ts:evtchn_init_control', 24, 'control_gfn 0 offset 8 vcpu 12 link_bits 16'],
  ['event_channel.ts:evtchn_op', 28, 'cmd 0 u 4 u.alloc_unbound 4 u.bind_interdomain 4 u.bind_virq 4 u.bind_pirq 4 u.bind_ipi 4 u.close 4 u.send 4 u.status 4 u.bind_vcpu 4 u.unmask 4'],
  ['event_channel.ts:evtchn_reset', 2, 'dom 0'],
  ['event_channel.ts:evtchn_send', 4, 'port 0'],
  ['event_channel.ts:evtchn_set_priority', 8, 'port 0 priority 4'],
  ['event_channel.ts:evtchn_status', 24, 'dom 0 port 4 status 8 vcpu 12 u 16 u.unbound 16 u.unbound.dom 16 u.interdomain 16 u.interdomain.dom 16 u.interdomain.port 20 u.pirq 16 u.virq 16'],
  ['event_channel.ts:evtchn_unmask', 4, 'port 0'],
  // grant_table.ts: grant-tables.md §4, §7, §12
  ['grant_table.ts:gnttab_cache_flush', 16, 'a 0 a.dev_bus_addr 0 a.ref 0 offset 8 length 10 op 12'],
  ['grant_table.ts:gnttab_copy', 24, 'source 0 source.u 0 source.u.ref 0 source.u.gmfn 0 source.domid 4 source.offset 6 dest 8 dest.u 8 dest.u.ref 8 dest.u.gmfn 8 dest.domid 12 dest.offset 14 len 16 flags 18 status 20'],
  ['grant_table.ts:gnttab_dump_table', 4, 'dom 0 status 2'],
  ['grant_table.ts:gnttab_get_status_frames', 12, 'nr_frames 0 dom 4 status 6 frame_list 8'],
  ['grant_table.ts:gnttab_get_version', 8, 'dom 0 pad 2 version 4'],
  ['grant_table.ts:gnttab_map_grant_ref', 32, 'host_addr 0 flags 8 ref 12 dom 16 status 18 handle 20 dev_bus_addr 24'],
  ['grant_table.ts:gnttab_query_size', 16, 'dom 0 nr_frames 4 max_nr_frames 8 status 12'],
  ['grant_table.ts:gnttab_set_version', 4, 'version 0'],
  ['grant_table.ts:gnttab_setup_table', 16, 'dom 0 nr_frames 4 status 8 frame_list 12'],
  ['grant_table.ts:gnttab_swap_grant_ref', 12, 'ref_a 0 ref_b 4 status 8'],
  ['grant_table.ts:gnttab_transfer', 16, 'mfn 0 domid 4 ref 8 status 12'],
  ['grant_table.ts:gnttab_unmap_and_replace', 24, 'host_addr 0 new_addr 8 handle 16 status 20'],
  ['grant_table.ts:gnttab_unmap_grant_ref', 24, 'host_addr 0 dev_bus_addr 8 handle 16 status 20'],
  ['grant_table.ts:grant_entry_header', 4, 'flags 0 domid 2'],
  ['grant_table.ts:grant_entry_v1', 8, 'flags 0 domid 2 frame 4'],
  ['grant_table.ts:grant_entry_v2', 16, 'hdr 0 full_page 0 full_page.hdr 0 full_page.pad0 4 full_page.frame 8 sub_page 0 sub_page.hdr 0 sub_page.page_off 4 sub_page.length 6 sub_page.frame 8 transitive 0 transitive.hdr 0 transitive.trans_domid 4 transitive.pad0 6 transitive.gref 8'],
  // memory.ts: hypercalls-x86_32.md §6
  ['memory.ts:xen_add_to_physmap', 16, 'domid 0 size 2 space 4 idx 8 gpfn 12'],
  ['memory.ts:xen_foreign_memory_map', 12, 'domid 0 map 4'],
  ['memory.ts:xen_machphys_mapping', 12, 'v_start 0 v_end 4 max_mfn 8'],
  ['memory.ts:xen_machphys_mfn_list', 12, 'max_extents 0 extent_start 4 nr_extents 8'],
  ['memory.ts:xen_memory_exchange', 44, 'in 0 out 20 nr_exchanged 40'],
  ['memory.ts:xen_memory_map', 8, 'nr_entries 0 buffer 4'],
  ['memory.ts:xen_memory_reservation', 20, 'extent_start 0 nr_extents 4 extent_order 8 mem_flags 12 domid 16'],
  ['memory.ts:xen_remove_from_physmap', 8, 'domid 0 gpfn 4'],
  // sched.ts: hypercalls-x86_32.md §5.3
  ['sched.ts:sched_poll', 16, 'ports 0 nr_ports 4 timeout 8'],
  ['sched.ts:sched_remote_shutdown', 8, 'domain_id 0 reason 4'],
  ['sched.ts:sched_shutdown', 4, 'reason 0'],
  ['sched.ts:sched_watchdog', 8, 'id 0 timeout 4'],
  // vcpu.ts: hypercalls-x86_32.md §7
  ['vcpu.ts:vcpu_get_physid', 8, 'phys_id 0'],
  ['vcpu.ts:vcpu_register_runstate_memory_area', 8, 'addr 0 addr.h 0 addr.v 0 addr.p 0'],
  ['vcpu.ts:vcpu_register_time_memory_area', 8, 'addr 0 addr.h 0 addr.v 0 addr.p 0'],
  ['vcpu.ts:vcpu_register_vcpu_info', 16, 'mfn 0 offset 8 rsvd 12'],
  ['vcpu.ts:vcpu_runstate_info', 44, 'state 0 state_entry_time 4 time 12'],
  ['vcpu.ts:vcpu_set_periodic_timer', 8, 'period_ns 0'],
  ['vcpu.ts:vcpu_set_singleshot_timer', 12, 'timeout_abs_ns 0 flags 8'],
  // callback.ts: hypercalls-x86_32.md §4.2
  ['callback.ts:callback_register', 12, 'type 0 flags 2 address 4'],
  ['callback.ts:callback_unregister', 4, 'type 0'],
  // nmi.ts: hypercalls-x86_32.md §4.2
  ['nmi.ts:xennmi_callback', 8, 'handler_address 0 pad 4'],
  // physdev.ts: hypercalls-x86_32.md §8.2 for irq_status_query, set_iopl, set_iobitmap, eoi and the 16-byte compat op; the rest is not in the fact sheets (Xen physdev.h layouts, i386 rules)
  ['physdev.ts:physdev_apic', 12, 'apic_physbase 0 reg 4 value 8'],
  ['physdev.ts:physdev_eoi', 4, 'irq 0'],
  ['physdev.ts:physdev_get_free_pirq', 8, 'type 0 pirq 4'],
  ['physdev.ts:physdev_irq', 8, 'irq 0 vector 4'],
  ['physdev.ts:physdev_irq_status_query', 8, 'irq 0 flags 4'],
  ['physdev.ts:physdev_manage_pci', 2, 'bus 0 devfn 1'],
  ['physdev.ts:physdev_manage_pci_ext', 16, 'bus 0 devfn 1 is_extfn 4 is_virtfn 8 physfn 12 physfn.bus 12 physfn.devfn 13'],
  ['physdev.ts:physdev_map_pirq', 36, 'domid 0 type 4 index 8 pirq 12 bus 16 devfn 20 entry_nr 24 table_base 28'],
  ['physdev.ts:physdev_nr_pirqs', 4, 'nr_pirqs 0'],
  ['physdev.ts:physdev_op', 16, 'cmd 0 u 4 u.irq_status_query 4 u.set_iopl 4 u.set_iobitmap 4 u.apic_op 4 u.irq_op 4'],
  ['physdev.ts:physdev_pci_device', 4, 'seg 0 bus 2 devfn 3'],
  ['physdev.ts:physdev_pci_device_add', 12, 'seg 0 bus 2 devfn 3 flags 4 physfn 8 physfn.bus 8 physfn.devfn 9 optarr 12'],
  ['physdev.ts:physdev_pci_mmcfg_reserved', 16, 'address 0 segment 8 start_bus 10 end_bus 11 flags 12'],
  ['physdev.ts:physdev_pirq_eoi_gmfn', 4, 'gmfn 0'],
  ['physdev.ts:physdev_restore_msi', 2, 'bus 0 devfn 1'],
  ['physdev.ts:physdev_set_iobitmap', 8, 'bitmap 0 nr_ports 4'],
  ['physdev.ts:physdev_set_iopl', 4, 'iopl 0'],
  ['physdev.ts:physdev_setup_gsi', 8, 'gsi 0 triggering 4 polarity 5'],
  ['physdev.ts:physdev_unmap_pirq', 8, 'domid 0 pirq 4'],
  // hvm/start_info.ts: hypercalls-x86_32.md §12.5 (PVH)
  ['hvm/start_info.ts:hvm_memmap_table_entry', 24, 'addr 0 size 8 type 16 reserved 20'],
  ['hvm/start_info.ts:hvm_modlist_entry', 32, 'paddr 0 size 8 cmdline_paddr 16 reserved 24'],
  ['hvm/start_info.ts:hvm_start_info', 56, 'magic 0 version 4 flags 8 nr_modules 12 modlist_paddr 16 cmdline_paddr 24 rsdp_paddr 32 memmap_paddr 40 memmap_entries 48 reserved 52'],
  // hvm/hvm_op.ts: hypercalls-x86_32.md §12.1
  ['hvm/hvm_op.ts:xen_hvm_evtchn_upcall_vector', 8, 'vcpu 0 vector 4'],
  ['hvm/hvm_op.ts:xen_hvm_get_time', 8, 'now 0'],
  ['hvm/hvm_op.ts:xen_hvm_pagetable_dying', 16, 'domid 0 pad 2 gpa 8'],
  ['hvm/hvm_op.ts:xen_hvm_param', 16, 'domid 0 pad 2 index 4 value 8'],
  // hvm/e820.ts: hypercalls-x86_32.md §6 (e820 entry, packed)
  ['hvm/e820.ts:e820entry', 20, 'addr 0 size 8 type 16'],
  // hvm/hvm_info_table.ts: hypercalls-x86_32.md §12.5 (HEAD layout)
  ['hvm/hvm_info_table.ts:hvm_info_table', 48, 'signature 0 length 8 checksum 12 apic_mode 13 nr_vcpus 16 low_mem_pgend 20 reserved_mem_pgstart 24 high_mem_pgend 28 vcpu_online 32'],
  // io/ring.ts: pv-devices.md §1.1
  ['io/ring.ts:sring_header', 64, 'req_prod 0 req_event 4 rsp_prod 8 rsp_event 12'],
  // io/console.ts: pv-devices.md §2.1 (with the 4.21 connection field)
  ['io/console.ts:xencons_interface', 3092, 'in 0 out 1024 in_cons 3072 in_prod 3076 out_cons 3080 out_prod 3084 connection 3088'],
  // io/blkif.ts: pv-devices.md §3.2
  ['io/blkif.ts:blkif_request', 108, 'operation 0 nr_segments 1 handle 2 id 4 sector_number 12 seg 20'],
  ['io/blkif.ts:blkif_request_discard', 28, 'operation 0 flag 1 handle 2 id 4 sector_number 12 nr_sectors 20'],
  ['io/blkif.ts:blkif_request_indirect', 64, 'operation 0 indirect_op 1 nr_segments 2 id 4 sector_number 12 handle 20 indirect_grefs 24'],
  ['io/blkif.ts:blkif_request_segment', 8, 'gref 0 first_sect 4 last_sect 5'],
  ['io/blkif.ts:blkif_response', 12, 'id 0 operation 8 status 10'],
  ['io/blkif.ts:blkif_x86_64_request', 112, 'operation 0 nr_segments 1 handle 2 id 8 sector_number 16 seg 24'],
  ['io/blkif.ts:blkif_x86_64_request_discard', 32, 'operation 0 flag 1 handle 2 id 8 sector_number 16 nr_sectors 24'],
  ['io/blkif.ts:blkif_x86_64_request_indirect', 64, 'operation 0 indirect_op 1 nr_segments 2 id 8 sector_number 16 handle 24 indirect_grefs 28'],
  ['io/blkif.ts:blkif_x86_64_response', 16, 'id 0 operation 8 status 10'],
  // io/netif.ts: pv-devices.md §4.1
  ['io/netif.ts:netif_extra_info', 8, 'type 0 flags 1 u 2 u.gso 2 u.gso.size 2 u.gso.type 4 u.gso.pad 5 u.gso.features 6 u.mcast 2 u.mcast.addr 2 u.hash 2 u.hash.type 2 u.hash.algorithm 3 u.hash.value 4 u.pad 2'],
  ['io/netif.ts:netif_rx_request', 8, 'id 0 pad 2 gref 4'],
  ['io/netif.ts:netif_rx_response', 8, 'id 0 offset 2 flags 4 status 6'],
  ['io/netif.ts:netif_tx_request', 12, 'gref 0 offset 4 flags 6 id 8 size 10'],
  ['io/netif.ts:netif_tx_response', 4, 'id 0 status 2'],
  // io/xs_wire.ts: xenstore.md §1.2, §2
  ['io/xs_wire.ts:xenstore_domain_interface', 2080, 'req 0 rsp 1024 req_cons 2048 req_prod 2052 rsp_cons 2056 rsp_prod 2060 server_features 2064 connection 2068 error 2072 evtchn_port 2076'],
  ['io/xs_wire.ts:xsd_sockmsg', 16, 'type 0 req_id 4 tx_id 8 len 12'],
];

function* pinned(def: StructDef, prefix = '', base = 0): Generator<[string, number]> {
  for (const f of def.fields) {
    if (f.name.startsWith('_')) continue;
    const path = prefix === '' ? f.name : `${prefix}.${f.name}`;
    yield [path, base + f.offset];
    const t = f.type;
    if (f.count === undefined && (t.kind === 'struct' || t.kind === 'union') && t.name === null && t.typedef === null) {
      yield* pinned(t, path, base + f.offset);
    }
  }
}

const isStruct = (v: unknown): v is StructDef => typeof v === 'object' && v !== null && 'fields' in v && 'kind' in v;

async function allStructs(): Promise<Map<string, StructDef>> {
  const out = new Map<string, StructDef>();
  for (const m of [...HEADERS.flatMap((h) => h.modules), ...TS_ONLY]) {
    const ns = (await import(join(ABI, m))) as Record<string, unknown>;
    for (const [k, v] of Object.entries(ns)) if (isStruct(v)) out.set(`${m}:${k}`, v);
  }
  return out;
}

function abiModules(dir = ABI): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) { if (name !== 'gen') out.push(...abiModules(p)); continue; }
    if (!name.endsWith('.ts') || name.endsWith('.test.ts')) continue;
    out.push(relative(ABI, p));
  }
  return out.sort();
}

describe('ABI layout snapshot (fact sheets)', () => {
  it('every src/abi module is generated into a C header or listed as TypeScript-only', () => {
    const listed = new Set([...HEADERS.flatMap((h) => h.modules), ...TS_ONLY, ...NOT_ABI]);
    const missing = abiModules().filter((m) => !listed.has(m));
    expect(missing, 'add these to tools/abi/headers.ts').toEqual([]);
  });

  it('every struct has a snapshot row, and every row names a struct', async () => {
    const structs = await allStructs();
    const rows = new Set(SNAPSHOT.map(([k]) => k));
    expect([...structs.keys()].filter((k) => !rows.has(k)), 'structs without a snapshot row').toEqual([]);
    expect([...rows].filter((k) => !structs.has(k)), 'rows without a struct').toEqual([]);
  });

  for (const [key, size, layout] of SNAPSHOT) {
    it(`${key}: ${size} bytes`, async () => {
      const def = (await allStructs()).get(key);
      expect(def, key).toBeDefined();
      if (def === undefined) return;
      expect(def.size).toBe(size);
      const toks = layout.split(' ');
      const want = new Map<string, number>();
      for (let i = 0; i < toks.length; i += 2) want.set(toks[i], Number(toks[i + 1]));
      const got = new Map(pinned(def));
      expect(Object.fromEntries(got)).toEqual(Object.fromEntries(want));
    });
  }
});
