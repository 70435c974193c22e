// A benchmark's settings from its environment and arguments, checked before anything starts.

/** A whole number from 1 to `max`, `fallback` when unset; otherwise the error names what was given and where. */
export function wholeNumber(text: string | undefined, fallback: number, name: string, max: number): number {
  if (text === undefined || text === "") return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw new Error(`${name}: "${text}" must be a whole number from 1 to ${max}`);
  }
  return value;
}
