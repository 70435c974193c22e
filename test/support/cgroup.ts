// cgroup v1 groups that the benchmarks make around one process, as a pod's container gets: a CPU
// quota, or a memory group read the way the kubelet reads it. They run as root on a cgroup v1 host.
import fs from "node:fs";
import path from "node:path";

export type Controller = "cpu" | "memory";

const mount = "/sys/fs/cgroup";

/** Whether the host mounts this cgroup v1 controller (a cgroup v2 host does not). */
export function hasController(controller: Controller): boolean {
  return fs.existsSync(path.join(mount, controller, "cgroup.procs"));
}

/** A group of its own under the controller's root, with `settings` written into it in order. */
export function createGroup(controller: Controller, name: string, settings: Record<string, string> = {}): string {
  const dir = path.join(mount, controller, name);
  fs.mkdirSync(dir);
  for (const [file, value] of Object.entries(settings)) fs.writeFileSync(path.join(dir, file), value);
  return dir;
}

/**
 * The settings of a CPU group that holds its processes to `millicores` of CPU, as the kubelet sets a
 * container's limit: a CFS quota of millicores/1000 of every 100 ms period.
 */
export function cpuLimit(millicores: number): Record<string, string> {
  const periodUs = 100_000;
  return { "cpu.cfs_period_us": String(periodUs), "cpu.cfs_quota_us": String((periodUs * millicores) / 1000) };
}

/** Moves a process into a group (it stays there until it exits or is moved again). */
export function joinGroup(dir: string, pid: number): void {
  fs.writeFileSync(path.join(dir, "cgroup.procs"), String(pid));
}

/** Moves whatever still runs in the group back to the controller's root, then removes the group. */
export function removeGroup(dir: string): void {
  if (!fs.existsSync(dir)) return;
  const root = path.dirname(dir);
  for (const pid of fs.readFileSync(path.join(dir, "cgroup.procs"), "utf8").split("\n").filter(Boolean)) {
    joinGroup(root, Number(pid));
  }
  fs.rmdirSync(dir);
}

/**
 * `command args` started inside the group: a shell joins it and then becomes the command (same pid),
 * so everything the process ever allocates is charged there, as in a container. Moving it in after
 * start would leave its start-up memory charged to the old group (cgroup v1 does not move charges).
 */
export function startInGroup(dir: string, command: string, args: string[]): { command: string; args: string[] } {
  return { command: "sh", args: ["-c", 'echo $$ > "$0" && exec "$@"', path.join(dir, "cgroup.procs"), command, ...args] };
}

/** memory.stat of a memory group, in bytes by field. */
export function memoryStat(dir: string): Map<string, number> {
  const lines = fs.readFileSync(path.join(dir, "memory.stat"), "utf8").trim().split("\n");
  return new Map(lines.map((line) => line.split(" ")).map(([key, value]) => [key, Number(value)]));
}

/**
 * The working set as the kubelet computes it (and metrics-server and the HPA show it): the group's
 * usage less its inactive file pages, which the kernel can drop at no cost to the process.
 */
export function workingSetBytes(dir: string): number {
  const usage = Number(fs.readFileSync(path.join(dir, "memory.usage_in_bytes"), "utf8"));
  const inactiveFile = memoryStat(dir).get("total_inactive_file") ?? 0;
  return Math.max(0, usage - inactiveFile);
}
