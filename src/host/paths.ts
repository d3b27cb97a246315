/**
 * Where a host daemon lives on the machine: its run directory (socket, pid file, log, HTTP
 * token), chosen the same way by the daemon and every client.
 *
 *   $TSXEN_SOCKET                 the control socket, if set
 *   $TSXEN_RUNDIR                 the run directory, if set
 *   $XDG_RUNTIME_DIR/tsxen        otherwise, when that is set
 *   <tmpdir>/tsxen-<uid>          otherwise
 *
 * The directory is private to the user (0700): the socket is the host's whole control
 * surface.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface HostPaths {
  readonly runDir: string;
  readonly socket: string;
  readonly pidFile: string;
  readonly logFile: string;
  readonly tokenFile: string;
  readonly httpFile: string;
}

export function hostPaths(env: NodeJS.ProcessEnv = process.env): HostPaths {
  const uid = typeof process.getuid === 'function' ? process.getuid() : 0;
  const runDir = env.TSXEN_RUNDIR ?? (env.XDG_RUNTIME_DIR !== undefined && env.XDG_RUNTIME_DIR !== ''
    ? join(env.XDG_RUNTIME_DIR, 'tsxen') : join(tmpdir(), `tsxen-${uid}`));
  return {
    runDir,
    socket: env.TSXEN_SOCKET ?? join(runDir, 'control.sock'),
    pidFile: join(runDir, 'host.pid'),
    logFile: join(runDir, 'host.log'),
    tokenFile: join(runDir, 'http.token'),
    httpFile: join(runDir, 'http.port'),
  };
}
