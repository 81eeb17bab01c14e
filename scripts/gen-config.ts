// Writes what is generated from the config's schema (components/config/schema.ts):
//   - Pulumi.yaml's config block, with the comment before it on the keys Pulumi cannot type;
//     the rest of Pulumi.yaml is kept as it is, byte for byte;
//   - the README's configuration tables, between <!-- config-table:begin --> and <!-- config-table:end -->.
// npm run gen:config             rewrites both
// npm run gen:config -- --check  writes nothing; exits 1 naming each file that differs
// test/config/schema.test.ts runs the same check.
import * as fs from "fs";
import * as path from "path";
import { stringify } from "yaml";
import { CONFIG_KEYS, ConfigValue, Entry, Field, Item, SCHEMA } from "../components/config/schema";

export const ROOT = path.join(__dirname, "..");
export const README_BEGIN = "<!-- config-table:begin -->";
export const README_END = "<!-- config-table:end -->";
const SOURCE = "components/config/schema.ts";
const WIDTH = 100;

/** A description as plain text, for YAML: no `code` marks, links as their words. */
export function plain(text: string): string {
    return text.replace(/\[([^\]]+)\]\(#[^)]*\)/g, "$1 (README)").replace(/`/g, "");
}

/** Pulumi.yaml types a key when it is neither a secret nor an object (a map, or a list of records). */
export function typedInPulumiYaml(entry: Entry): boolean {
    if (entry.secret || entry.type === "object") return false;
    return entry.type !== "array" || entry.items?.type !== "object";
}

function typeWords(e: Entry | Field): string {
    const items = (item: Item | undefined) => (item?.type === "object" ? "records" : `${item?.type ?? "value"}s`);
    if (e.type === "array") return `list of ${items(e.items)}`;
    if (e.type === "object") return `map of ${items(e.values)}`;
    return e.type;
}

function presenceWords(e: Entry | Field): string {
    if (e.required) return "required";
    if (e.default !== undefined) return `default ${formatDefault(e.default, false)}`;
    return `unset: ${plain(e.unset!)}`;
}

function formatDefault(value: ConfigValue, markdown: boolean): string {
    const text = Array.isArray(value) ? `[${value.join(", ")}]` : String(value);
    return markdown ? `\`${text}\`` : text;
}

/** Words filled into lines of at most WIDTH characters, the first after `first`, the others after `rest`. */
function wrap(text: string, first: string, rest: string): string[] {
    const lines: string[] = [];
    let line = first;
    for (const word of text.split(/\s+/).filter(Boolean)) {
        const atStart = line === first || line === rest;
        if (!atStart && line.length + 1 + word.length > WIDTH) {
            lines.push(line);
            line = rest + word;
        } else {
            line += (atStart ? "" : " ") + word;
        }
    }
    lines.push(line);
    return lines.map((l) => l.trimEnd());
}

/** The comment before `config:` and the block itself. */
export function pulumiConfigBlock(): string {
    const indent = "#            ";
    const comment = [
        "# Typed settings with their defaults. The program applies the same defaults itself (the Pulumi CLI",
        "# alone reads this block) and validates every value before anything is created.",
        `# \`npm run gen:config\` writes this comment and block from ${SOURCE}; edit that.`,
        "#",
        "# Settings Pulumi's config schema cannot type (lists of records, maps) or that are optional secrets:",
    ];
    const config: Record<string, unknown> = {};
    for (const key of CONFIG_KEYS) {
        const entry: Entry = SCHEMA[key];
        if (!typedInPulumiYaml(entry)) {
            const head = `${typeWords(entry)}${entry.secret ? ", secret" : ""}; ${presenceWords(entry)}.`;
            comment.push(...wrap(`${head} ${plain(entry.description)}`, `#   ${key.padEnd(8)} `, indent));
            const fields: Record<string, Field> = entry.items?.type === "object" ? entry.items.fields : {};
            for (const [name, field] of Object.entries(fields)) {
                const fieldHead = `${name}: ${typeWords(field)}${field.secret ? ", secret" : ""}; ${presenceWords(field)}.`;
                comment.push(...wrap(`${fieldHead} ${plain(field.description)}`, indent, `${indent}  `));
            }
            for (const example of entry.examples ?? []) comment.push(indent + example);
            continue;
        }
        const declared: Record<string, unknown> = { type: entry.type };
        if (entry.type === "array") declared.items = { type: entry.items!.type };
        declared.description = plain(entry.description);
        if (entry.default !== undefined) declared.default = Array.isArray(entry.default) ? [...entry.default] : entry.default;
        else if (!entry.required) {
            // Pulumi requires a key without a default; an optional one is declared empty.
            if (entry.type !== "string") throw new Error(`${key}: an optional ${entry.type} without a default cannot be declared in Pulumi.yaml`);
            declared.default = "";
        }
        config[key] = declared;
    }
    return `${comment.join("\n")}\n${stringify({ config }, { lineWidth: 0 })}`;
}

/**
 * Pulumi.yaml with its config block (and the comment lines right before it) replaced; every other
 * line kept as it is.
 */
export function pulumiYaml(current: string): string {
    const lines = current.split("\n");
    const at = lines.indexOf("config:");
    if (at < 0) throw new Error("Pulumi.yaml: no top-level config: line to replace");
    let start = at;
    while (start > 0 && lines[start - 1].startsWith("#")) start--;
    let end = at + 1;
    while (end < lines.length && !/^[^\s#]/.test(lines[end])) end++;
    while (end > at + 1 && lines[end - 1].startsWith("#")) end--; // a comment of the key after the block
    const before = lines.slice(0, start).join("\n");
    const after = lines.slice(end).join("\n");
    return `${before}${before ? "\n" : ""}${pulumiConfigBlock()}${after}`;
}

function cell(text: string): string {
    return text.replace(/\|/g, "\\|").replace(/\s*\n\s*/g, " ");
}

function defaultCell(e: Entry | Field): string {
    if (e.required) return "required";
    if (e.default !== undefined) return formatDefault(e.default, true);
    return e.unset!;
}

function secretNote(e: Entry): string {
    if (e.secret) return " (secret)";
    const fields = e.items?.type === "object" ? Object.entries(e.items.fields).filter(([, f]) => (f as Field).secret) : [];
    return fields.length ? ` (${fields.map(([name]) => `\`${name}\``).join(", ")} secret)` : "";
}

/** The README's tables: every key, then the fields of a user. */
export function readmeTables(): string {
    const rows = ["| key | default | description |", "| --- | --- | --- |"];
    const fieldTables: string[] = [];
    for (const key of CONFIG_KEYS) {
        const entry: Entry = SCHEMA[key];
        rows.push(`| \`${key}\`${secretNote(entry)} | ${cell(defaultCell(entry))} | ${cell(entry.description)} |`);
        if (entry.items?.type === "object") {
            fieldTables.push("", `The fields of each of \`${key}\` (\`${key}[N].FIELD\`):`, "");
            fieldTables.push("| field | default | description |", "| --- | --- | --- |");
            for (const [name, field] of Object.entries<Field>(entry.items.fields)) {
                fieldTables.push(`| \`${name}\`${field.secret ? " (secret)" : ""} | ${cell(defaultCell(field))} | ${cell(field.description)} |`);
            }
        }
    }
    return [...rows, ...fieldTables].join("\n");
}

/** The README with what lies between the markers replaced. */
export function readme(current: string): string {
    const begin = current.indexOf(README_BEGIN);
    const end = current.indexOf(README_END);
    if (begin < 0 || end < begin) throw new Error(`README.md: no ${README_BEGIN} ... ${README_END} markers around the configuration table`);
    return `${current.slice(0, begin + README_BEGIN.length)}\n${readmeTables()}\n${current.slice(end)}`;
}

export interface Generated {
    /** Relative to the repository's root. */
    file: string;
    current: string;
    expected: string;
}

/** Every generated file: what it holds now, and what the schema makes of it. */
export function generated(root = ROOT): Generated[] {
    const files: [string, (text: string) => string][] = [
        ["Pulumi.yaml", pulumiYaml],
        ["README.md", readme],
    ];
    return files.map(([file, make]) => {
        const current = fs.readFileSync(path.join(root, file), "utf8");
        return { file, current, expected: make(current) };
    });
}

/** The first line where two texts differ, for messages: undefined when they are equal. */
export function firstDifference(current: string, expected: string): string | undefined {
    if (current === expected) return undefined;
    const a = current.split("\n");
    const b = expected.split("\n");
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
        if (a[i] !== b[i]) {
            const show = (line: string | undefined) => (line === undefined ? "(end of file)" : JSON.stringify(line));
            return `line ${i + 1}: is ${show(a[i])}, the schema gives ${show(b[i])}`;
        }
    }
    return "they differ in line endings";
}

function main(args: string[]): number {
    const check = args.includes("--check");
    const unknown = args.filter((a) => a !== "--check");
    if (unknown.length > 0) {
        console.error(`gen-config: unknown argument ${unknown.join(" ")}; usage: gen-config [--check]`);
        return 2;
    }
    let differing = 0;
    for (const { file, current, expected } of generated()) {
        const difference = firstDifference(current, expected);
        if (!difference) continue;
        differing++;
        if (check) {
            console.error(`${file} differs from what ${SOURCE} gives (${difference}); npm run gen:config rewrites it`);
        } else {
            fs.writeFileSync(path.join(ROOT, file), expected);
            console.log(`wrote ${file}`);
        }
    }
    if (differing === 0) console.log("Pulumi.yaml and README.md are as the schema gives them");
    return check && differing > 0 ? 1 : 0;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
