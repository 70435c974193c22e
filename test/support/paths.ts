import * as path from "node:path";

/** The clone's root: every suite finds the program, scripts and ../shared from here. */
export const projectRoot = path.join(__dirname, "..", "..");
