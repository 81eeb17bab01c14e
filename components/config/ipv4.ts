// IPv4 addresses and CIDR blocks as plain numbers, so pool arithmetic and overlap checks are exact.

export interface Cidr {
    /** The block as written, e.g. "192.168.42.0/24". */
    text: string;
    network: number;
    prefix: number;
    /** Last address of the block (the broadcast address for prefixes below 31). */
    last: number;
}

const OCTET = /^(0|[1-9][0-9]{0,2})$/;

/** Parses a dotted-quad IPv4 address; undefined when it is not one (no leading zeros, no spaces). */
export function parseIpv4(text: string): number | undefined {
    const parts = text.split(".");
    if (parts.length !== 4) return undefined;
    let value = 0;
    for (const part of parts) {
        if (!OCTET.test(part)) return undefined;
        const octet = Number(part);
        if (octet > 255) return undefined;
        value = value * 256 + octet;
    }
    return value;
}

export function formatIpv4(value: number): string {
    return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join(".");
}

/** The outcome of parsing a CIDR: the block, or why the text is not one. */
export type CidrResult = { cidr: Cidr } | { error: string };

/** Parses "a.b.c.d/n" and insists that the host bits are zero, so a typo is never widened silently. */
export function parseCidr(text: string): CidrResult {
    const match = /^([0-9.]+)\/(0|[1-9][0-9]?)$/.exec(text);
    const network = match ? parseIpv4(match[1]) : undefined;
    const prefix = match ? Number(match[2]) : NaN;
    if (!match || network === undefined || prefix > 32) {
        return { error: `"${text}" is not an IPv4 CIDR block like 10.0.0.0/16` };
    }
    const size = 2 ** (32 - prefix);
    if (network % size !== 0) {
        const base = network - (network % size);
        return { error: `"${text}" has host bits set; the block is ${formatIpv4(base)}/${prefix}` };
    }
    return { cidr: { text, network, prefix, last: network + size - 1 } };
}

export function contains(block: Cidr, address: number): boolean {
    return address >= block.network && address <= block.last;
}

export function overlaps(a: Cidr, b: Cidr): boolean {
    return a.network <= b.last && b.network <= a.last;
}

/** The private ranges a client pool may come from (RFC 1918 and the carrier-grade NAT range). */
export const PRIVATE_RANGES: Cidr[] = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10"].map(
    (text) => (parseCidr(text) as { cidr: Cidr }).cidr,
);
