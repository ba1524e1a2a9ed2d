#!/usr/bin/env node
// Runs the TypeScript CLI (src/cli/main.ts) through tsx. process.argv is passed through
// unchanged, so main.ts sees the user's arguments at process.argv.slice(2).
import { register } from "tsx/esm/api";

register();
await import(new URL("../src/cli/main.ts", import.meta.url).href);
