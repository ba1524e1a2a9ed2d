/**
 * The default boot image: the whole system booting through RS (rs, vm, pm, ds, init), the
 * echo driver and its client, which makes the driver crash and finds it again in DS once RS
 * has restarted it. `ipcDemoImage` is the earlier, kernel-only demonstration (a server and a
 * client).
 */
import { echoClient } from "../drivers/echo/client.ts";
import { echoDriver } from "../drivers/echo/main.ts";
import { demoClient } from "../servers/demo/client.ts";
import { demoServer } from "../servers/demo/server.ts";
import type { BootImageEntry } from "./image.ts";
import { dsEntry, initEntry, pmEntry, rsEntry, vmEntry } from "./services.ts";

const SERVER_SLOT = 11;

export const demoImage: readonly BootImageEntry[] = [
  rsEntry,
  vmEntry,
  pmEntry,
  dsEntry,
  initEntry(),
  { name: "echo", slot: SERVER_SLOT, program: echoDriver, priority: 5 },
  {
    name: "client",
    slot: SERVER_SLOT + 1,
    program: echoClient,
    priv: "user",
    argv: ["client", "echo"],
  },
];

export const ipcDemoImage: readonly BootImageEntry[] = [
  { name: "server", slot: SERVER_SLOT, program: demoServer },
  {
    name: "client",
    slot: SERVER_SLOT + 1,
    program: demoClient,
    argv: ["client", String(SERVER_SLOT)],
  },
];
