// Lint rules, including the import direction between the top-level folders:
// clusters/ may import only harness/core; harness/ (except the CLI, which wires everything
// together) never imports clusters/; suites/ never imports clusters/ or another suite's cases.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

const restrict = (...patterns) => ["error", { patterns }];

export default tseslint.config(
  { ignores: ["node_modules/", "reports/", ".volcert/", "**/*.d.ts"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: "readonly", console: "readonly", URL: "readonly" } },
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/no-non-null-assertion": "off",
    },
  },
  {
    files: ["clusters/**/*.ts"],
    rules: {
      "no-restricted-imports": restrict({
        regex: "(^|/)harness/(?!core/)",
        message: "clusters/ may import only harness/core (the provider seam lives there)",
      }),
    },
  },
  {
    files: ["harness/**/*.ts"],
    ignores: ["harness/cli/**"],
    rules: {
      "no-restricted-imports": restrict({
        regex: "(^|/)clusters/",
        message: "harness/ reaches clusters only through the seams in harness/core (the CLI wires providers in)",
      }),
    },
  },
  {
    files: ["suites/*/**/*.ts"],
    ignores: ["suites/selftest/**"],
    rules: {
      "no-restricted-imports": restrict(
        { regex: "(^|/)clusters/", message: "suites/ never import cluster providers: use the case context" },
        { regex: "^\\.\\./[^./][^/]*/", message: "a suite never imports another suite's cases" },
      ),
    },
  },
  {
    // The catalog (suites/catalog.ts) is the one place that gathers every suite's cases.
    files: ["suites/*.ts"],
    rules: {
      "no-restricted-imports": restrict({
        regex: "(^|/)clusters/",
        message: "suites/ never import cluster providers: use the case context",
      }),
    },
  },
);
