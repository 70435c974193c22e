// The SIGKILL the OOM killer or a crash delivers: no SIGTERM, no preStop, no drain.
import * as fs from "node:fs";

/** SIGKILLs every process of a pod's container, found by the cgroup the kubelet made for it; returns how many. */
export function killContainer(podUid: string, containerId: string): number {
  const id = containerId.replace(/^containerd:\/\//, "");
  const [procs] = fs.globSync(`/sys/fs/cgroup/pids/kubepods/**/pod${podUid}/${id}/cgroup.procs`);
  if (!id || !procs) throw new Error(`no cgroup for container ${containerId} of pod ${podUid} under /sys/fs/cgroup/pids/kubepods`);
  const pids = fs.readFileSync(procs, "utf8").split("\n").filter(Boolean).map(Number);
  for (const pid of pids) process.kill(pid, "SIGKILL");
  return pids.length;
}
