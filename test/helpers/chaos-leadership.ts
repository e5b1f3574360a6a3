/**
 * What each control plane of an `mk up` cluster says of its leadership, read from its log as the
 * round goes: every control plane logs `leading: starting the controllers` when it wins the lease
 * and `no longer leading: ...` when it loses it, with its holder identity (`<host>_<pid>_<random>`).
 * The scanner reads only what each log gained since the last scan, so debug logs cost little.
 */
import fs from 'node:fs';
import path from 'node:path';
import { clusterPaths } from '../../embedded/paths';
import { CONTROL_PLANE_CHILDREN, childPid, holderPid } from './chaos-faults';

/** One supervised control plane as a snapshot saw it. */
export interface ControlPlaneSeen {
  /** Its supervised child name (`control-plane`, `control-plane-2`, ...). */
  child: string;
  /** Its live pid, from its pid file (undefined: not running now). */
  pid?: number;
  /** What its last leadership line says, for that pid: leading, or not (undefined: no such line yet). */
  leads?: boolean;
}

/** Reads the control planes' logs incrementally; see the module comment. */
export class LeadershipScanner {
  private readonly offsets = new Map<string, number>();
  /** The last leadership line per pid: true for leading. */
  private readonly byPid = new Map<number, boolean>();

  constructor(private readonly dataDir: string) {}

  /** Reads what the logs gained and returns each control plane with its live pid and leadership. */
  scan(): ControlPlaneSeen[] {
    const paths = clusterPaths(this.dataDir);
    const out: ControlPlaneSeen[] = [];
    for (const child of CONTROL_PLANE_CHILDREN) {
      const file = path.join(paths.logsDir, `${child}.log`);
      this.read(file);
      const pid = childPid(this.dataDir, child);
      if (pid === undefined && !fs.existsSync(file)) continue;
      out.push({ child, pid, leads: pid === undefined ? undefined : this.byPid.get(pid) });
    }
    return out;
  }

  private read(file: string): void {
    let fd: number;
    try {
      fd = fs.openSync(file, 'r');
    } catch {
      return;
    }
    try {
      const size = fs.fstatSync(fd).size;
      let from = this.offsets.get(file) ?? 0;
      if (size < from) from = 0;
      if (size === from) return;
      const buf = Buffer.alloc(size - from);
      fs.readSync(fd, buf, 0, buf.length, from);
      const text = buf.toString('utf8');
      // Only whole lines: the rest is read next time.
      const end = text.lastIndexOf('\n');
      if (end < 0) return;
      this.offsets.set(file, from + Buffer.byteLength(text.slice(0, end + 1)));
      for (const line of text.slice(0, end).split('\n')) {
        const leads = line.includes('leading: starting the controllers') ? true : line.includes('no longer leading') ? false : undefined;
        if (leads === undefined) continue;
        const m = /"identity":"([^"]+)"/.exec(line);
        const pid = holderPid(m?.[1]);
        if (pid !== undefined) this.byPid.set(pid, leads);
      }
    } finally {
      fs.closeSync(fd);
    }
  }
}
