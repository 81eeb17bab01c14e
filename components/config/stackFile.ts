// Reads a stack config file in the Pulumi.<stack>.yaml shape, for rendering without the Pulumi CLI.
import { parse } from "yaml";
import { ConfigError, PROJECT, RawConfig } from "./settings";

/**
 * Turns the file's `config:` block into the raw form the Pulumi runtime hands the program: one
 * string per vpn-gateway key, structured values as JSON. Keys of other namespaces (aws:region) are
 * not ours and are skipped.
 */
export function rawConfigFromStackFile(text: string, fileName: string): RawConfig {
    let document: unknown;
    try {
        document = parse(text);
    } catch (error) {
        throw new ConfigError([`${fileName}: not valid YAML: ${(error as Error).message.split("\n")[0]}`]);
    }
    const config = (document as { config?: unknown } | null)?.config;
    if (config === null || typeof config !== "object" || Array.isArray(config)) {
        throw new ConfigError([`${fileName}: expected a top-level "config:" map like a Pulumi.<stack>.yaml file`]);
    }
    const raw: RawConfig = {};
    const problems: string[] = [];
    for (const [fullKey, value] of Object.entries(config as Record<string, unknown>)) {
        const [namespace, name] = fullKey.includes(":") ? fullKey.split(/:(.*)/s, 2) : [PROJECT, fullKey];
        if (namespace !== PROJECT) continue;
        if (value !== null && typeof value === "object" && "secure" in (value as object)) {
            problems.push(`${PROJECT}:${name}: is encrypted (secure:); this command needs the value written in plain`);
        } else if (typeof value === "string") {
            raw[name] = value;
        } else if (value !== null && typeof value === "object") {
            raw[name] = JSON.stringify(value);
        } else if (value !== null && value !== undefined) {
            raw[name] = String(value);
        }
    }
    if (problems.length > 0) throw new ConfigError(problems);
    return raw;
}

/** The file's aws:region, the region its stack deploys to; undefined when it sets none. */
export function awsRegionFromStackFile(text: string): string | undefined {
    let document: unknown;
    try {
        document = parse(text);
    } catch {
        return undefined; // rawConfigFromStackFile reports the file itself
    }
    const value = (document as { config?: Record<string, unknown> } | null)?.config?.["aws:region"];
    return typeof value === "string" && value !== "" ? value : undefined;
}
