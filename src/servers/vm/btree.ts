/**
 * The ordered map VM keeps its free ranges and regions in (`sorted-btree`, DESIGN §1).
 *
 * sorted-btree is CommonJS (`exports.default = BTree`, `__esModule` set). Node's ESM loader
 * (tsx, vitest's externalised deps) and TypeScript's NodeNext typing give the default import
 * as `module.exports`, so the class is `.default`; a bundler applying `__esModule` interop
 * hands over the class itself. Accept both, here only.
 */
import btreeModule from "sorted-btree";

type BTreeClass = typeof btreeModule.default;
export type BTree<K, V> = InstanceType<typeof btreeModule.default<K, V>>;

const btreeExport: unknown = btreeModule;
export const BTree: BTreeClass =
  typeof btreeExport === "function" ? (btreeExport as BTreeClass) : btreeModule.default;
