/**
 * Import-layer and determinism checks over source files (pure: no file system access here
 * except in `readSourceFiles`). Used by test/layers.test.ts.
 *
 * Paths are repository-relative with forward slashes, e.g. "src/kernel/proc.ts".
 */
import { readdirSync, readFileSync } from "node:fs";
import { builtinModules } from "node:module";
import path from "node:path";
import ts from "typescript";

export interface SourceFile {
  readonly path: string;
  readonly text: string;
}

export interface Violation {
  readonly file: string;
  readonly line: number;
  readonly message: string;
}

export function formatViolation(v: Violation): string {
  return `${v.file}:${v.line}: ${v.message}`;
}

// ---------------------------------------------------------------------------------------------
// Layers

interface Layer {
  /** Human-readable name used in messages, e.g. "src/servers/pm". */
  readonly name: string;
  /** Path prefixes (ending in "/") that files of this layer may import. */
  readonly allowed: readonly string[];
  /** If true, no Node built-in modules (node:* or bare "fs" etc.): this code must run in a browser. */
  readonly browserOnly: boolean;
}

/** Decides the layer of a file, or returns an error message if it lies outside every layer. */
export function layerOf(file: string): Layer | string {
  const parts = file.split("/");
  const top = parts[0];
  if (top === "web") return { name: "web", allowed: ["src/boot/", "web/"], browserOnly: false };
  if (top !== "src") return "not under src/ or web/";
  const area = parts.length > 2 ? parts[1] : undefined;
  switch (area) {
    case "hw":
      return { name: "src/hw", allowed: ["src/hw/", "src/include/"], browserOnly: true };
    case "include":
      return { name: "src/include", allowed: ["src/include/"], browserOnly: true };
    case "kernel":
      return {
        name: "src/kernel",
        allowed: ["src/hw/", "src/include/", "src/kernel/"],
        browserOnly: true,
      };
    case "lib":
      return { name: "src/lib", allowed: ["src/include/", "src/lib/"], browserOnly: true };
    case "servers":
    case "drivers": {
      if (parts.length < 4) {
        return `files under src/${area} must live in a src/${area}/<name>/ folder`;
      }
      const own = `src/${area}/${parts[2]}/`;
      return {
        name: own.slice(0, -1),
        allowed: ["src/include/", "src/lib/", own],
        browserOnly: true,
      };
    }
    case "commands":
      return {
        name: "src/commands",
        allowed: ["src/include/", "src/lib/", "src/commands/"],
        browserOnly: true,
      };
    case "boot":
      return { name: "src/boot", allowed: ["src/"], browserOnly: false };
    case "bench":
      return { name: "src/bench", allowed: ["src/"], browserOnly: false };
    case "cli":
      return {
        name: "src/cli",
        allowed: ["src/boot/", "src/cli/", "src/include/"],
        browserOnly: false,
      };
    case undefined:
    default:
      return `"${file}" is in no known layer (add it to test/layers.ts)`;
  }
}

export interface ImportRef {
  readonly specifier: string | undefined; // undefined: dynamic import with a non-literal argument
  readonly line: number;
}

/** Every module reference in a file: import/export declarations (incl. type-only), import(), import types, require(). */
export function findImports(file: SourceFile): ImportRef[] {
  const sf = ts.createSourceFile(file.path, file.text, ts.ScriptTarget.Latest, true);
  const refs: ImportRef[] = [];
  const lineOf = (node: ts.Node): number =>
    sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1;
  const add = (node: ts.Node, spec: ts.Node | undefined): void => {
    const literal = spec !== undefined && ts.isStringLiteralLike(spec) ? spec.text : undefined;
    refs.push({ specifier: literal, line: lineOf(node) });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) {
      if (node.moduleSpecifier !== undefined) add(node, node.moduleSpecifier);
    } else if (
      ts.isImportEqualsDeclaration(node) &&
      ts.isExternalModuleReference(node.moduleReference)
    ) {
      add(node, node.moduleReference.expression);
    } else if (ts.isCallExpression(node)) {
      const callee = node.expression;
      const isImport = callee.kind === ts.SyntaxKind.ImportKeyword;
      const isRequire = ts.isIdentifier(callee) && callee.text === "require";
      if (isImport || isRequire) add(node, node.arguments[0]);
    } else if (ts.isImportTypeNode(node)) {
      const arg = node.argument;
      add(node, ts.isLiteralTypeNode(arg) ? arg.literal : undefined);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return refs;
}

const nodeBuiltins = new Set(builtinModules);

function isNodeBuiltin(spec: string): boolean {
  return (
    spec.startsWith("node:") || nodeBuiltins.has(spec) || nodeBuiltins.has(spec.split("/")[0]!)
  );
}

export function isTestFile(file: string): boolean {
  return /\.test\.[cm]?tsx?$/.test(file);
}

/** Checks the import rules of every file; returns the violations in file order. */
export function checkLayers(files: readonly SourceFile[]): Violation[] {
  const out: Violation[] = [];
  for (const file of files) {
    const layer = layerOf(file.path);
    if (typeof layer === "string") {
      out.push({ file: file.path, line: 1, message: layer });
      continue;
    }
    const testFile = isTestFile(file.path);
    const allowedText = layer.allowed.map((p) => p.slice(0, -1)).join(", ");
    for (const ref of findImports(file)) {
      const spec = ref.specifier;
      const report = (message: string): void => {
        out.push({ file: file.path, line: ref.line, message });
      };
      if (spec === undefined) {
        if (layer.browserOnly) {
          report(`dynamic import with a non-literal specifier cannot be checked (${layer.name})`);
        }
        continue;
      }
      if (spec.startsWith("./") || spec.startsWith("../")) {
        const target = path.posix.normalize(path.posix.join(path.posix.dirname(file.path), spec));
        const ok =
          layer.allowed.some((prefix) => target.startsWith(prefix)) ||
          (testFile && target.startsWith("test/"));
        if (!ok) {
          report(`imports '${spec}' (${target}): ${layer.name} may only import ${allowedText}`);
        }
      } else if (spec.startsWith("/") || /^[a-zA-Z]:/.test(spec) || spec.startsWith("file:")) {
        report(`imports '${spec}': use a relative path`);
      } else if (layer.browserOnly && !testFile && isNodeBuiltin(spec)) {
        report(`imports '${spec}': ${layer.name} must run in a browser, no Node built-ins`);
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Determinism

/** Files the determinism check applies to. */
export function mustBeDeterministic(file: string): boolean {
  return (
    file.startsWith("src/") &&
    !file.startsWith("src/cli/") &&
    !file.startsWith("src/bench/") &&
    !isTestFile(file)
  );
}

const forbiddenMembers = new Set([
  "Date.now",
  "performance.now",
  "Math.random",
  "process.hrtime",
  "globalThis.setTimeout",
  "globalThis.setInterval",
  "window.setTimeout",
  "window.setInterval",
]);
const forbiddenGlobals = new Set(["setTimeout", "setInterval"]);
const hint = "nondeterministic: use the simulated clock / seeded PRNG";

/** Reports wall-clock time, real timers and unseeded randomness in simulator code. */
export function checkDeterminism(files: readonly SourceFile[]): Violation[] {
  const out: Violation[] = [];
  for (const file of files) {
    if (!mustBeDeterministic(file.path)) continue;
    const sf = ts.createSourceFile(file.path, file.text, ts.ScriptTarget.Latest, true);
    const report = (node: ts.Node, what: string): void => {
      const line = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1;
      out.push({ file: file.path, line, message: `${what} (${hint})` });
    };
    const visit = (node: ts.Node): void => {
      if (
        ts.isPropertyAccessExpression(node) &&
        ts.isIdentifier(node.expression) &&
        forbiddenMembers.has(`${node.expression.text}.${node.name.text}`)
      ) {
        report(node, `${node.expression.text}.${node.name.text}`);
      } else if (
        (ts.isNewExpression(node) || ts.isCallExpression(node)) &&
        ts.isIdentifier(node.expression) &&
        node.expression.text === "Date"
      ) {
        report(node, ts.isNewExpression(node) ? "new Date(...)" : "Date()");
      } else if (
        ts.isIdentifier(node) &&
        forbiddenGlobals.has(node.text) &&
        isFreeReference(node)
      ) {
        report(node, node.text);
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }
  return out;
}

/** True if an identifier refers to a variable (not a property name or a declaration name). */
function isFreeReference(id: ts.Identifier): boolean {
  const parent = id.parent;
  if (ts.isPropertyAccessExpression(parent) && parent.name === id) return false;
  if (ts.isQualifiedName(parent) && parent.right === id) return false;
  if (ts.isPropertyAssignment(parent) && parent.name === id) return false;
  if (
    (ts.isMethodDeclaration(parent) ||
      ts.isPropertyDeclaration(parent) ||
      ts.isMethodSignature(parent) ||
      ts.isPropertySignature(parent) ||
      ts.isGetAccessor(parent) ||
      ts.isSetAccessor(parent)) &&
    parent.name === id
  ) {
    return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// File system

const sourceExt = /\.(?:[cm]?tsx?|m?js)$/;

/** Reads every source file under the given top-level folders of `root` (missing folders are skipped). */
export function readSourceFiles(root: string, dirs: readonly string[]): SourceFile[] {
  const files: SourceFile[] = [];
  for (const dir of dirs) {
    let entries: string[];
    try {
      entries = readdirSync(path.join(root, dir), { recursive: true, encoding: "utf8" });
    } catch {
      continue;
    }
    for (const entry of entries) {
      const rel = `${dir}/${entry.split(path.sep).join("/")}`;
      if (!sourceExt.test(rel)) continue;
      if (/(^|\/)(node_modules|dist|coverage)\//.test(rel)) continue;
      files.push({ path: rel, text: readFileSync(path.join(root, rel), "utf8") });
    }
  }
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
