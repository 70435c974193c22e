// A loopback TCP relay to a server, which can go silent the way a lost node, a partition or a frozen
// process does: connections stay open, writes are accepted, nothing comes back.
import net from "node:net";

export class SilenceableProxy {
  /** Connections accepted so far, relayed or not. */
  accepted = 0;
  private readonly frozen = new Set<() => void>();
  private readonly sockets = new Set<net.Socket>();
  private silentToNew = false;

  private constructor(private readonly server: net.Server) {}

  /** Relays 127.0.0.1:<port> to 127.0.0.1:targetPort. */
  static async start(targetPort: number): Promise<SilenceableProxy> {
    const proxy: SilenceableProxy = new SilenceableProxy(net.createServer((client) => proxy.accept(client, targetPort)));
    await new Promise<void>((resolve) => proxy.server.listen(0, "127.0.0.1", resolve));
    return proxy;
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  /** Every connection open now stops relaying, both ways, and stays open; new ones are relayed. */
  freezeOpenConnections(): void {
    for (const freeze of this.frozen) freeze();
  }

  /** Whether new connections are accepted and then never answered, nor passed on. */
  silenceNewConnections(silent: boolean): void {
    this.silentToNew = silent;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: net.Socket, targetPort: number): void {
    this.accepted++;
    this.track(client);
    if (this.silentToNew) return;
    const upstream = this.track(net.connect(targetPort, "127.0.0.1"));
    let relaying = true;
    client.on("data", (data) => relaying && upstream.write(data));
    upstream.on("data", (data) => relaying && client.write(data));
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
    const freeze = () => {
      relaying = false;
      client.pause();
      upstream.pause();
    };
    this.frozen.add(freeze);
    client.on("close", () => this.frozen.delete(freeze));
  }

  private track(socket: net.Socket): net.Socket {
    this.sockets.add(socket);
    socket.on("error", () => undefined);
    socket.on("close", () => this.sockets.delete(socket));
    return socket;
  }
}
