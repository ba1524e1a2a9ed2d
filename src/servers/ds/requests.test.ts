import fc from "fast-check";
import { expect, test } from "vitest";
import { DS_CALLS } from "../../include/ds.ts";
import { OK } from "../../include/errno.ts";
import { Message } from "../../include/message.ts";
import { numAnswer, writeNumAnswer } from "./requests.ts";

test("writeNumAnswer writes the reply m.set writes, whatever the message held", () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 64, maxLength: 64 }), fc.nat(), (old, val) => {
      numAnswer.reply.val = val >>> 0;
      const fast = new Message(old.slice());
      const slow = new Message(old.slice());
      writeNumAnswer(fast);
      slow.set(OK, DS_CALLS.DS_RETRIEVE.reply, numAnswer.reply);
      expect(fast.source).toBe(slow.source);
      expect([...fast.bytes]).toEqual([...slow.bytes]);
    }),
  );
});
