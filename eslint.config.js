// @ts-check
import js from "@eslint/js";
import { defineConfig, globalIgnores } from "eslint/config";
import tseslint from "typescript-eslint";

/** Node globals for the few plain .js files (config, bin); kept by hand to avoid a dependency. */
const nodeGlobals = {
  process: "readonly",
  console: "readonly",
  URL: "readonly",
  globalThis: "readonly",
};

export default defineConfig(
  globalIgnores(["**/node_modules/", "dist/", "coverage/", "web/dist/"]),
  js.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      "@typescript-eslint/switch-exhaustiveness-check": "error",
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/consistent-type-imports": "error",
      "no-unused-vars": "off",
      "@typescript-eslint/no-unused-vars": [
        "error",
        {
          args: "all",
          argsIgnorePattern: "^_",
          varsIgnorePattern: "^_",
          caughtErrorsIgnorePattern: "^_",
          destructuredArrayIgnorePattern: "^_",
        },
      ],
      "no-restricted-syntax": [
        "error",
        {
          selector: "TSEnumDeclaration",
          message: "No enums: use a union of literal types or an `as const` object instead.",
        },
        {
          selector: "TSModuleDeclaration[kind!='global'][id.type='Identifier']",
          message: "No namespaces: use ES modules (one file, named exports) instead.",
        },
        {
          selector: "TSParameterProperty",
          message:
            "No constructor parameter properties: declare the field and assign it in the constructor.",
        },
      ],
    },
  },
  {
    files: ["**/*.test.ts", "test/**"],
    rules: {
      "@typescript-eslint/no-non-null-assertion": "off",
      "@typescript-eslint/unbound-method": "off",
    },
  },
  {
    files: ["**/*.js", "**/*.mjs", "**/*.cjs"],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { globals: nodeGlobals },
  },
);
