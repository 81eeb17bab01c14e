// The composer: first-boot parts -> one #cloud-config document -> the bytes EC2 receives. Pure:
// `pulumi up` composes the parts' outputs (aws/gateway.ts), npm run render the same parts rendered
// directly (cloudConfig below); both meet in composeCloudConfig.
import * as zlib from "zlib";
import { stringify } from "yaml";
import { BootComponent, BootInput } from "./bootFile";
import { firewall } from "./firewall";
import { ipsec } from "./ipsec";
import { kernel } from "./kernel";
import { l2tp } from "./l2tp";
import { ppp } from "./ppp";
import { sysctl } from "./sysctl";
import { updates } from "./updates";

/** EC2 refuses user-data over 16 KB (counted before base64). */
export const EC2_USER_DATA_LIMIT = 16384;

/** The parts in boot order: the kernel check first, so an unfit image fails before anything else starts. */
export const BOOT_ORDER = ["kernel", "sysctl", "firewall", "ipsec", "l2tp", "ppp", "updates"] as const;
export type PartName = (typeof BOOT_ORDER)[number];

/**
 * Each part rendered from the settings it needs, as VpnGateway hands them to the parts' component
 * resources (aws/gateway.ts); a test compares the two paths' bytes.
 */
export function firstBootParts({ settings, psk, publicIp }: BootInput): Record<PartName, BootComponent> {
    const { clientPool } = settings;
    return {
        kernel: kernel(),
        sysctl: sysctl(),
        firewall: firewall({ clientPool, adminCidr: settings.adminCidr, allowClientToClient: settings.allowClientToClient }),
        ipsec: ipsec({ clientPool, os: settings.os, psk, publicIp }),
        l2tp: l2tp({ clientPool }),
        ppp: ppp({ users: settings.users, dnsServers: settings.dnsServers }),
        updates: updates(),
    };
}

/** The parts in boot order, as composeCloudConfig takes them. */
export function firstBootComponents(input: BootInput): BootComponent[] {
    const parts = firstBootParts(input);
    return BOOT_ORDER.map((name) => parts[name]);
}

function unique<T>(items: T[]): T[] {
    return [...new Set(items)];
}

/** The whole first boot as one cloud-config document, rendered without Pulumi. */
export function cloudConfig(input: BootInput): string {
    return composeCloudConfig(firstBootComponents(input));
}

/** Parts, in boot order, as one cloud-config document starting with the #cloud-config header. */
export function composeCloudConfig(components: BootComponent[]): string {
    const files = components.flatMap((c) => c.files);
    const paths = files.map((f) => f.path);
    const twice = paths.filter((p, i) => paths.indexOf(p) !== i);
    if (twice.length > 0) throw new Error(`two components write ${twice.join(", ")}`);
    const services = unique(components.flatMap((c) => c.services));
    const document = {
        // Package lists on a fresh image are stale or empty.
        package_update: true,
        packages: unique(components.flatMap((c) => c.packages)).sort(),
        // Deferred until the packages are installed, so dpkg never meets these files as conffiles
        // half-way and keeps ours.
        write_files: files.map((f) => ({ path: f.path, owner: f.owner, permissions: f.permissions, defer: true, content: f.content })),
        runcmd: [
            // runcmd is one shell script whose status is its last command's: stop at the first failure
            // so it shows in `cloud-init status`.
            "set -e",
            ...components.flatMap((c) => c.commands),
            ["systemctl", "daemon-reload"],
            ["systemctl", "enable", ...services],
            ["systemctl", "restart", ...services],
        ],
    };
    return `#cloud-config\n${stringify(document, { lineWidth: 0, blockQuote: "literal" })}`;
}

export class UserDataTooLarge extends Error {
    constructor(readonly compressedBytes: number, readonly plainBytes: number) {
        super(
            `the gateway's user-data is ${compressedBytes} bytes gzip-compressed (${plainBytes} bytes plain); ` +
                `EC2 allows ${EC2_USER_DATA_LIMIT}. Reduce the number of users (each adds a chap-secrets line) ` +
                `or shorten long passwords.`,
        );
        this.name = "UserDataTooLarge";
    }
}

/** The exact bytes handed to EC2: the document itself, or gzip of it when it is over the limit. */
export function userDataBytes(document: string): Buffer {
    const plain = Buffer.from(document, "utf8");
    if (plain.length <= EC2_USER_DATA_LIMIT) return plain;
    // Level 9 and no timestamp in the header: the same document always gives the same bytes, so an
    // unchanged config never replaces the instance.
    const compressed = zlib.gzipSync(plain, { level: 9 });
    if (compressed.length > EC2_USER_DATA_LIMIT) throw new UserDataTooLarge(compressed.length, plain.length);
    return compressed;
}

export function isGzip(bytes: Buffer): boolean {
    return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}
