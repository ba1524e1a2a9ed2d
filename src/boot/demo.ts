/** The default boot image: the demonstration server and client. */
import { demoClient } from "../servers/demo/client.ts";
import { demoServer } from "../servers/demo/server.ts";
import type { BootImageEntry } from "./image.ts";

const SERVER_SLOT = 11;

export const demoImage: readonly BootImageEntry[] = [
  { name: "server", slot: SERVER_SLOT, program: demoServer },
  {
    name: "client",
    slot: SERVER_SLOT + 1,
    program: demoClient,
    argv: ["client", String(SERVER_SLOT)],
  },
];
