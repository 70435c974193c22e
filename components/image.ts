import * as path from "node:path";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import type { ImageSource } from "./config";

/** The service's source, found from this file so an inline Automation API program builds it too. */
export const serviceDirectory = path.join(__dirname, "..", "service");

export interface CounterImageArgs {
  source: ImageSource;
  /** os/arch the build is for: the stack's imagePlatform, or its nodes' (components/cluster.ts). */
  platform: string;
  /** Tag the build is pushed under; pods never use it, only the digest. */
  tag: string;
}

/** The backend's image: built from service/ and pushed, or a prebuilt one; always a digest reference. */
export class CounterImage extends pulumi.ComponentResource {
  /** repository@sha256:...: a new build is a new reference, so pods roll on every code change. */
  public readonly reference: pulumi.Output<string>;

  constructor(name: string, args: CounterImageArgs, opts?: pulumi.ComponentResourceOptions) {
    super("hitcounter:index:CounterImage", name, {}, opts);
    const source = args.source;
    if (source.kind === "prebuilt") {
      this.reference = pulumi.output(source.reference);
    } else {
      const image = new docker.Image(
        name,
        {
          imageName: `${source.registryServer}/${source.repository}:${args.tag}`,
          build: {
            context: serviceDirectory,
            dockerfile: path.join(serviceDirectory, "Dockerfile"),
            platform: args.platform,
            args: source.buildArgs,
          },
          registry: source.credentials && {
            server: source.credentials.server,
            username: source.credentials.username,
            password: source.credentials.password,
          },
        },
        { parent: this },
      );
      this.reference = image.repoDigest;
    }
    this.registerOutputs({ reference: this.reference });
  }
}
