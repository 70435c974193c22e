// One reading of a service's memory, from three sides: its cgroup (what the kubelet counts), the
// kernel's view of the process (RSS and which mappings it is in), and V8's heap spaces (from the
// service's own /metrics, which prom-client fills from v8.getHeapSpaceStatistics: no extra endpoint).
import fs from "node:fs";
import { memoryStat, workingSetBytes } from "../../test/support/cgroup";
import type { ServiceProcess } from "../../test/support/service-process";

export interface MemoryReading {
  workingSetMiB: number;
  rssMiB: number;
  /** One line: the working set's parts, RSS by mapping, V8's committed heap by space, threads. */
  summary: string;
}

const mib = (bytes: number) => bytes / 2 ** 20;
const f = (bytes: number) => mib(bytes).toFixed(1);

/** Resident bytes by kind of mapping, from /proc/PID/smaps (root may read any process's). */
function residentByMapping(pid: number): { anon: number; nodeBinary: number; libraries: number; stack: number } {
  const binary = fs.realpathSync(`/proc/${pid}/exe`);
  const sums = { anon: 0, nodeBinary: 0, libraries: 0, stack: 0 };
  let mapping = "";
  for (const line of fs.readFileSync(`/proc/${pid}/smaps`, "utf8").split("\n")) {
    // A mapping's header is "address perms offset dev inode [path]"; its fields follow, one a line.
    const header = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (header) {
      mapping = header[1];
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB$/.exec(line);
    if (!rss) continue;
    const bytes = Number(rss[1]) * 1024;
    if (mapping === binary) sums.nodeBinary += bytes;
    else if (mapping === "[stack]") sums.stack += bytes;
    else if (mapping.startsWith("/")) sums.libraries += bytes;
    else sums.anon += bytes;
  }
  return sums;
}

/** V8's committed bytes by heap space and external memory, from prom-client's default metrics. */
async function v8Heap(service: ServiceProcess): Promise<{ spaces: Map<string, number>; external: number }> {
  const text = await (await fetch(`${service.url}/metrics`)).text();
  const spaces = new Map<string, number>();
  for (const [, space, value] of text.matchAll(/^nodejs_heap_space_size_total_bytes\{space="([^"]+)"\} (\S+)$/gm)) {
    spaces.set(space, Number(value));
  }
  return { spaces, external: Number(/^nodejs_external_memory_bytes (\S+)$/m.exec(text)?.[1] ?? 0) };
}

export async function readMemory(service: ServiceProcess, group: string): Promise<MemoryReading> {
  const heap = await v8Heap(service);
  const stat = memoryStat(group);
  const workingSet = workingSetBytes(group);
  const status = fs.readFileSync(`/proc/${service.pid}/status`, "utf8");
  const statusKiB = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+)`, "m").exec(status)?.[1] ?? 0) * 1024;
  const rss = statusKiB("VmRSS");
  const maps = residentByMapping(service.pid);
  const get = (key: string) => stat.get(key) ?? 0;
  const heapTotal = [...heap.spaces.values()].reduce((sum, n) => sum + n, 0);
  const named = ["new", "old", "code", "large_object"];
  const otherSpaces = [...heap.spaces].filter(([space]) => !named.includes(space)).reduce((sum, [, n]) => sum + n, 0);
  const summary =
    `working set ${f(workingSet)} MiB (cgroup anon ${f(get("total_rss"))}, page cache ${f(get("total_cache"))} of which inactive ${f(get("total_inactive_file"))}) | ` +
    `RSS ${f(rss)}: anon ${f(maps.anon)}, node binary ${f(maps.nodeBinary)}, other files ${f(maps.libraries)}, main stack ${f(maps.stack)} | ` +
    `V8 heap committed ${f(heapTotal)}: ${named.map((space) => `${space} ${f(heap.spaces.get(space) ?? 0)}`).join(", ")}, other spaces ${f(otherSpaces)}; external ${f(heap.external)} | ` +
    `${statusKiB("Threads") / 1024} threads`;
  return { workingSetMiB: mib(workingSet), rssMiB: mib(rss), summary };
}
