// eslint over the project's TypeScript (npm run lint, which npm test runs): typescript-eslint's
// recommended rules, and @pulumi/eslint-plugin's (an Output in a plain template literal renders as
// a warning text, not its value: pulumi.interpolate is needed). The Pulumi rules read types, so
// every file is parsed with tsconfig.eslint.json: the project's tsconfig.json plus examples/ and
// e2e/lib/*.ts, with the examples' `import ... from "vpn-gateway"` mapped to components/index.ts
// (the package's entry point, as built to dist/), so they are checked against the library's types.
// A finding fails the suite; one that is intended is silenced where it occurs, with
// `// eslint-disable-next-line RULE -- why`.
import eslint from "@eslint/js";
import pulumi from "@pulumi/eslint-plugin";
import { defineConfig } from "eslint/config";
import tseslint from "typescript-eslint";

export default defineConfig(
    {
        ignores: ["dist/", "node_modules/", ".tools/", ".e2e/", "e2e/.work/", "examples/*/bin/", "examples/*/node_modules/"],
    },
    {
        // a disable comment that silences nothing is stale: it fails too
        linterOptions: { reportUnusedDisableDirectives: "error" },
    },
    {
        files: ["**/*.ts"],
        extends: [eslint.configs.recommended, tseslint.configs.recommended],
        plugins: { "@pulumi": pulumi },
        languageOptions: {
            parserOptions: {
                project: "./tsconfig.eslint.json",
                tsconfigRootDir: import.meta.dirname,
            },
        },
        rules: {
            "@pulumi/no-output-in-template-literal": "error",
            "@pulumi/no-output-instance-in-template-literal": "error",
            // as tsc's noUnusedParameters: a parameter a signature needs but the body does not use is named _name
            "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_" }],
        },
    },
    {
        // The tests read Pulumi's mock payloads (resource inputs, outputs, call arguments), which the
        // SDK types as any: typing each one would only restate the assertion that follows it.
        files: ["test/**/*.ts"],
        rules: { "@typescript-eslint/no-explicit-any": "off" },
    },
);
