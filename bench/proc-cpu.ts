import { readFileSync, readdirSync } from 'node:fs';

/**
 * CPU seconds spent by the processes of a benchmark, read from Linux /proc,
 * so a figure on a shared 2-core machine can be split into who used the
 * cores: the bench itself, a child, the broker, the database server (with
 * every backend, live or already reaped) and everything else on the machine.
 * Elsewhere than Linux every reading is NaN.
 */

/** Clock ticks per second of /proc/<pid>/stat (USER_HZ; 100 on every Linux this runs on). */
const TICKS = 100;

interface ProcStat {
  readonly pid: number;
  readonly ppid: number;
  /** utime + stime (own) and cutime + cstime (children it has waited for), seconds. */
  readonly own: number;
  readonly reaped: number;
}

function readStat(pid: number | 'self'): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) is in parentheses and may hold blanks: split after its closing one.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const at = (field: number): number => Number(fields[field - 3] ?? Number.NaN);
  return { pid: Number(text.slice(0, text.indexOf(' '))), ppid: at(4), own: (at(14) + at(15)) / TICKS, reaped: (at(16) + at(17)) / TICKS };
}

/** CPU seconds of a process and its waited-for children; NaN when it is gone or unknown. */
export function processCpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  const stat = readStat(pid);
  return stat ? stat.own + stat.reaped : Number.NaN;
}

/** CPU seconds of a process tree: the root (with what it reaped) and every live descendant. */
export function treeCpuSeconds(rootPid: number | undefined): number {
  if (rootPid === undefined) return Number.NaN;
  const root = readStat(rootPid);
  if (!root) return Number.NaN;
  let entries: string[];
  try {
    entries = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return Number.NaN;
  }
  const children = new Map<number, ProcStat[]>();
  for (const name of entries) {
    const stat = readStat(Number(name));
    if (!stat) continue;
    const siblings = children.get(stat.ppid) ?? [];
    siblings.push(stat);
    children.set(stat.ppid, siblings);
  }
  let total = 0;
  const visit = (stat: ProcStat): void => {
    total += stat.own + stat.reaped;
    for (const child of children.get(stat.pid) ?? []) visit(child);
  };
  visit(root);
  return total;
}

/** Busy CPU seconds of the whole machine (every core, every process) since boot. */
export function machineCpuSeconds(): number {
  try {
    const [cpu] = readFileSync('/proc/stat', 'utf8').split('\n');
    const ticks = (cpu ?? '').trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal …: busy is everything but idle and iowait.
    const busy = ticks.reduce((sum, t, i) => (i === 3 || i === 4 ? sum : sum + (i < 8 ? t : 0)), 0);
    return busy / TICKS;
  } catch {
    return Number.NaN;
  }
}

export type CpuParts = Record<string, number>;

/**
 * Samples named CPU counters; `since` gives what each used since the
 * previous sample plus `other` (the machine's busy time nobody named).
 */
export class CpuMeter {
  constructor(private readonly counters: Readonly<Record<string, () => number>>) {}

  sample(): CpuParts {
    const parts: CpuParts = { machine: machineCpuSeconds() };
    for (const [name, read] of Object.entries(this.counters)) parts[name] = read();
    return parts;
  }

  since(before: CpuParts): CpuParts {
    const now = this.sample();
    const used: CpuParts = {};
    let named = 0;
    for (const name of Object.keys(this.counters)) {
      const delta = (now[name] ?? Number.NaN) - (before[name] ?? Number.NaN);
      used[name] = delta;
      if (Number.isFinite(delta)) named += delta;
    }
    used.other = (now.machine ?? Number.NaN) - (before.machine ?? Number.NaN) - named;
    return used;
  }
}
