/** Boot image entries of the system servers that exist so far. */
import { VM_PROC_NR } from "../include/endpoint.ts";
import { vmMain } from "../servers/vm/main.ts";
import type { BootImageEntry } from "./image.ts";

/** The VM server in its fixed slot, above ordinary processes in priority. */
export const vmEntry: BootImageEntry = {
  name: "vm",
  slot: VM_PROC_NR,
  program: vmMain,
  priority: 2,
  dataPages: 16,
  vm: true,
};
