// What "pinned" means, written once: for the stack's config checks and for the policy pack that
// checks the resources themselves.

/** An exact release version x.y.z, as a Helm chart's `version` must be to be reproducible. */
export const exactVersion = /^\d+\.\d+\.\d+$/;

/** An image by digest, or by a tag naming a full x.y.z release: never :latest or a floating major/minor tag. */
export const pinnedImage = /^[^\s@]+(@sha256:[0-9a-f]{64}|:[^\s@/]*\d+\.\d+\.\d+[^\s@/]*)$/;
