// What the kernel says about a process: CPU time and resident memory, from /proc.
import fs from "node:fs";

/** Fields of /proc/PID/stat after the command name, whose parentheses may hold spaces. */
function statFields(pid: number | "self"): string[] {
  return fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
}

// Times in /proc/PID/stat are clock ticks of 10 ms; these return microseconds.
const tickUs = 10_000;

/** User + system CPU time of a process so far (stat(5) fields 14 and 15). */
export function cpuTimeUs(pid: number): number {
  const fields = statFields(pid);
  return (Number(fields[11]) + Number(fields[12])) * tickUs;
}

/** User + system CPU time of this process's children that have exited and been waited for (fields 16 and 17). */
export function exitedChildrenCpuUs(): number {
  const fields = statFields("self");
  return (Number(fields[13]) + Number(fields[14])) * tickUs;
}

/** Resident set size in MiB (VmRSS of /proc/PID/status). */
export function rssMiB(pid: number): number {
  const kib = /^VmRSS:\s+(\d+) kB$/m.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
  if (kib === undefined) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(kib) / 1024;
}
