/** The demonstration protocol: a client asks the server to double a number, then says quit. */
import { defineLayout } from "../../include/message.ts";

export const DEMO_RQ_BASE = 0x7f00;
export const DEMO_DOUBLE = DEMO_RQ_BASE + 1;
export const DEMO_QUIT = DEMO_RQ_BASE + 2;
export const DEMO_LAYOUT = defineLayout({ value: "i32" });
