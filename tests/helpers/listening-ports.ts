/**
 * Used by the tests and by the bench (bench/proc.ts): servers start on port 0 and are found this way, so no port is
 * chosen first and then taken by another process before the server binds it.
 */
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';

/**
 * The TCP ports a process listens on (Linux): the socket inodes among its open files, matched against the LISTEN
 * rows of /proc/<pid>/net/tcp and tcp6. Empty while it is not listening yet (or has exited).
 */
export function listeningPorts(pid: number): number[] {
  const inodes = new Set<string>();
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return [];
  }
  for (const fd of fds) {
    try {
      const socket = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (socket?.[1] !== undefined) inodes.add(socket[1]);
    } catch {
      /* closed meanwhile */
    }
  }
  const ports: number[] = [];
  for (const table of ['tcp', 'tcp6']) {
    let rows: string[];
    try {
      rows = readFileSync(`/proc/${pid}/net/${table}`, 'utf8').split('\n').slice(1);
    } catch {
      continue;
    }
    for (const row of rows) {
      // sl local_address rem_address st ... inode: st 0A is LISTEN; local_address is HEXADDR:HEXPORT
      const [, local, , state, , , , , , inode] = row.trim().split(/\s+/);
      const port = local?.split(':')[1];
      if (state === '0A' && inode !== undefined && inodes.has(inode) && port !== undefined) ports.push(parseInt(port, 16));
    }
  }
  return ports;
}
