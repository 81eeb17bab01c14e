// Shared fixtures: a valid raw config, and a way to vary one key of it.
import * as fs from "fs";
import * as path from "path";
import { RawConfig, Settings, parseSettings } from "../components/config/settings";
import { BootInput, TEMPLATE_DIR } from "../components/boot/bootFile";
import { IpsecInput } from "../components/boot/ipsec";

export const PSK = "test-psk-0123456789abcdef";

export const USERS = [
    { name: "alice", password: "alice-Passw0rd!" },
    { name: "bob", password: "bob-s3cret-pass", ip: "192.168.42.5" },
];

export function rawConfig(overrides: Record<string, unknown> = {}): RawConfig {
    const base: Record<string, unknown> = { psk: PSK, users: USERS };
    const merged = { ...base, ...overrides };
    const raw: RawConfig = {};
    for (const [k, v] of Object.entries(merged)) {
        if (v === undefined) continue;
        raw[k] = typeof v === "string" ? v : JSON.stringify(v);
    }
    return raw;
}

export function settings(overrides: Record<string, unknown> = {}): Settings {
    return parseSettings(rawConfig(overrides));
}

export function bootInput(overrides: Record<string, unknown> = {}, publicIp: string | null = "203.0.113.10"): BootInput {
    // null: the program does not know the public address (render without --public-ip).
    const s = settings(overrides);
    return { settings: s, psk: s.psk!, ...(publicIp !== null ? { publicIp } : {}) };
}

/** The IPsec part's input: its settings from a raw config, the PSK, and the public IP unless null. */
export function ipsecInput(overrides: Record<string, unknown> = {}, publicIp: string | null = "203.0.113.10"): IpsecInput {
    const s = settings(overrides);
    return { clientPool: s.clientPool, os: s.os, psk: s.psk!, ...(publicIp !== null ? { publicIp } : {}) };
}

/** Every template file, at any depth, by its path relative to templates/ (as renderTemplate takes it). */
export function templateFiles(): string[] {
    return (fs.readdirSync(TEMPLATE_DIR, { recursive: true }) as string[])
        .filter((f) => fs.statSync(path.join(TEMPLATE_DIR, f)).isFile())
        .map((f) => f.split(path.sep).join("/"))
        .sort();
}
