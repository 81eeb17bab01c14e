// The shape every first-boot component returns: files to write and what to run, nothing else.
import * as fs from "fs";
import * as path from "path";
import Mustache from "mustache";
import { assetPath } from "../assets";

export interface BootFile {
    path: string;
    /** Octal mode as cloud-init's write_files takes it, e.g. "0600". */
    permissions: string;
    owner: string;
    content: string;
    /**
     * The template the content was rendered from, relative to templates/ (none for inline content).
     * Not part of the user-data: it lets a test tie every template to the gateway file it becomes.
     */
    template?: string;
    /**
     * The plain file the content was read from, relative to files/ (none for a template or inline
     * content). Not part of the user-data either: the same tie for the files that hold no tag.
     */
    source?: string;
}

export interface BootComponent {
    /** Debian/Ubuntu packages the component needs installed. */
    packages: string[];
    files: BootFile[];
    /** Commands run once on first boot, in order, after every file is written. */
    commands: string[][];
    /** systemd units to enable and (re)start once everything is written. */
    services: string[];
    /** systemd units to enable for later boots only: the first boot does their work in its commands. */
    enableOnly?: string[];
}

export const TEMPLATE_DIR = assetPath("templates");
/** The gateway's files that are no template (no Mustache tag): files/<part>/<the gateway file's name>. */
export const FILES_DIR = assetPath("files");

/**
 * Renders a template, given by its path relative to templates/ (templates/<part>/<the gateway
 * file's name>.mustache), with HTML escaping off: every value was validated for the file it lands
 * in, and HTML entities in a config file would silently change its meaning.
 */
export function renderTemplate(template: string, view: object): string {
    const text = fs.readFileSync(path.join(TEMPLATE_DIR, template), "utf8");
    return Mustache.render(text, view, {}, { escape: (value: string) => value });
}

export function bootFile(filePath: string, permissions: string, content: string): BootFile {
    return { path: filePath, permissions, owner: "root:root", content };
}

/** A file whose content is a template rendered with view; it remembers which template. */
export function templateFile(filePath: string, permissions: string, template: string, view: object = {}): BootFile {
    return { ...bootFile(filePath, permissions, renderTemplate(template, view)), template };
}

/** A file whose content is a plain file of the package, given by its path relative to files/, as it is. */
export function plainFile(filePath: string, permissions: string, source: string): BootFile {
    return { ...bootFile(filePath, permissions, fs.readFileSync(path.join(FILES_DIR, source), "utf8")), source };
}

/**
 * What the whole first boot renders from without Pulumi (npm run render, the size check before
 * deploy): validated settings plus the values known only at deploy time. Each part takes its own
 * slice of it (cloudConfig.ts firstBootParts); the Pulumi parts take the same slices as their Args.
 * No secret: the PSK and the passwords are in the stack's SSM parameters (parameters.ts), which
 * the gateway reads at boot, so the user-data is the same whoever the users are.
 */
export interface BootInput {
    settings: import("../config/settings").Settings;
    /** The AWS region of the stack (and of its parameters). */
    region: string;
    /** The stack's parameter path, /vpn-gateway/<stack> (parameters.ts parameterPath). */
    parameterPath: string;
    /** The Elastic IP when the program knows it; otherwise the gateway asks the metadata service at boot. */
    publicIp?: string;
}
