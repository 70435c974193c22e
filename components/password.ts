import * as pulumi from "@pulumi/pulumi";

// A generated password without @pulumi/random (each provider is one more plugin to ship offline).
// Pulumi serialises a dynamic provider's code into the state, so this object must be
// self-contained: it captures nothing from the module and loads node:crypto inside its methods.
const passwordProvider: pulumi.dynamic.ResourceProvider = {
  async create(inputs: { length: number }) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- see the comment above
    const crypto = require("node:crypto") as typeof import("node:crypto");
    // base64url: letters, digits, '-' and '_', safe in URLs, env vars and redis.conf alike.
    const value = crypto.randomBytes(inputs.length).toString("base64url").slice(0, inputs.length);
    return { id: crypto.randomUUID(), outs: { length: inputs.length, value } };
  },
  // Only a new length makes a new password; otherwise it stays what create made.
  async diff(_id: string, olds: { length: number }, news: { length: number }) {
    const changed = olds.length !== news.length;
    return { changes: changed, replaces: changed ? ["length"] : [] };
  },
};

class PasswordResource extends pulumi.dynamic.Resource {
  // `declare`: a class field would overwrite the output that super() assigns.
  declare public readonly value: pulumi.Output<string>;

  constructor(name: string, length: number, opts: pulumi.CustomResourceOptions) {
    super(passwordProvider, name, { length, value: undefined }, { ...opts, additionalSecretOutputs: ["value"] }, "hitcounter", "Password");
  }
}

export interface GeneratedPasswordArgs {
  /** Characters of the password; changing it generates a new one. */
  length?: number;
}

/** A random password made once on create and kept stable across updates; secret everywhere. */
export class GeneratedPassword extends pulumi.ComponentResource {
  public readonly value: pulumi.Output<string>;

  constructor(name: string, args: GeneratedPasswordArgs = {}, opts?: pulumi.ComponentResourceOptions) {
    super("hitcounter:index:GeneratedPassword", name, {}, opts);
    const resource = new PasswordResource(name, args.length ?? 32, { parent: this });
    // additionalSecretOutputs keeps it secret in state; pulumi.secret keeps it secret in every Output made from it.
    this.value = pulumi.secret(resource.value);
    this.registerOutputs({ value: this.value });
  }
}
