// What the kernel says about a process: CPU time and resident memory, from /proc.
import fs from "node:fs";

/**
 * User + system CPU time of a process so far, in microseconds (/proc/PID/stat, in clock ticks of
 * 10 ms); `fallback` when the process is already gone.
 */
export function cpuTimeUs(pid: number, fallback?: number): number {
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch (error) {
    if (fallback !== undefined) return fallback;
    throw error;
  }
  // utime and stime are fields 14 and 15 of stat(5); after the ") " split, fields 12 and 13 here.
  const fields = stat.split(") ")[1].split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

/** Resident set size in MiB (VmRSS of /proc/PID/status). */
export function rssMiB(pid: number): number {
  const kib = /^VmRSS:\s+(\d+) kB$/m.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
  if (kib === undefined) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(kib) / 1024;
}
