/**
 * The credit scheduler's pool-wide parameters through XEN_SYSCTL_scheduler_op (cpupool 0,
 * XEN_SCHEDULER_CREDIT; docs/scheduling.md): `xl sched-credit -s [-t] [-r] [-m]`.
 */
import { SYSCTL_SCHEDULER_OP, XEN_SYSCTL_WIRE_U } from '../../abi/control_wire.ts';
import { XEN_SCHEDULER_CREDIT } from '../../abi/domctl.ts';
import { XEN_SYSCTL_scheduler_op, XEN_SYSCTL_SCHEDOP_getinfo, XEN_SYSCTL_SCHEDOP_putinfo } from '../../abi/sysctl.ts';
import type { Xc } from '../libxc/xc.ts';

export interface CreditPoolParams {
  readonly tsliceMs: number;
  readonly ratelimitUs: number;
  readonly migrationDelayUs: number;
}

export function sysctlCreditParams(xc: Xc): CreditPoolParams | number {
  const S = SYSCTL_SCHEDULER_OP, u = XEN_SYSCTL_WIRE_U;
  const { rc, out } = xc.sysctl(XEN_SYSCTL_scheduler_op, (v) => {
    v.setUint32(u + S.cpupool_id!, 0, true);
    v.setUint32(u + S.sched_id!, XEN_SCHEDULER_CREDIT, true);
    v.setUint32(u + S.cmd!, XEN_SYSCTL_SCHEDOP_getinfo, true);
  });
  if (rc < 0) return rc;
  return {
    tsliceMs: out.getUint32(u + S.tslice_ms!, true), ratelimitUs: out.getUint32(u + S.ratelimit_us!, true),
    migrationDelayUs: out.getUint32(u + S.vcpu_migr_delay_us!, true),
  };
}

export function sysctlCreditParamsSet(xc: Xc, p: CreditPoolParams): number {
  const S = SYSCTL_SCHEDULER_OP, u = XEN_SYSCTL_WIRE_U;
  return xc.sysctl(XEN_SYSCTL_scheduler_op, (v) => {
    v.setUint32(u + S.cpupool_id!, 0, true);
    v.setUint32(u + S.sched_id!, XEN_SCHEDULER_CREDIT, true);
    v.setUint32(u + S.cmd!, XEN_SYSCTL_SCHEDOP_putinfo, true);
    v.setUint32(u + S.tslice_ms!, p.tsliceMs, true);
    v.setUint32(u + S.ratelimit_us!, p.ratelimitUs, true);
    v.setUint32(u + S.vcpu_migr_delay_us!, p.migrationDelayUs, true);
  }).rc;
}
