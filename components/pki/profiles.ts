// What a user installs, from the PKI state alone (pure): the PKCS#12 (key, certificate, CA), an
// Apple configuration profile, and a strongSwan (Android app) profile. Nothing here is random: the
// PKCS#12's salts come from a hash of the user's key, UUIDs from a hash of the CA and the name, so
// the same state gives the same files, byte for byte, and a re-run changes nothing.
import { createHash } from "crypto";
import * as forge from "node-forge";
import { PkiState, PkiUser, caFingerprint, parseCertificate } from "./ledger";
import { PROJECT } from "../config/settings";

/**
 * The gateway's IKEv2 proposals as clients are told to offer them: AES-256-GCM, SHA2-256, DH 14
 * (MODP2048). Android's built-in client offers no ECP group, so none is used anywhere. No PFS for
 * child SAs (Apple EnablePFS 0, no DH group in the strongSwan ESP proposal).
 */
export const IKE_LIFETIME_MINUTES = 1440;
export const CHILD_LIFETIME_MINUTES = 1440;
export const STRONGSWAN_IKE_PROPOSAL = "aes256gcm16-prfsha256-modp2048";
export const STRONGSWAN_ESP_PROPOSAL = "aes256gcm16";

function userOf(state: PkiState, name: string): PkiUser {
    const user = Object.prototype.hasOwnProperty.call(state.users, name) ? state.users[name] : undefined;
    if (!user) {
        const revoked = state.revoked.some((entry) => entry.name === name);
        throw new Error(
            `PKI user ${JSON.stringify(name)}: ${revoked ? "revoked" : "not in the PKI state"}; it has no valid certificate (only current IKEv2 users have profiles)`,
        );
    }
    return user;
}

function pemToDer(pem: string): Buffer {
    return Buffer.from(parseCertificate(pem).rawData);
}

/** The user's PKCS#12 password, kept in the state. */
export function p12Password(state: PkiState, name: string): string {
    return userOf(state, name).p12Password;
}

/**
 * A stream of bytes from SHA-256(seed, counter), as node-forge's binary strings: node-forge draws
 * the PKCS#12 salts from its own generator, which is swapped for this one while the file is made.
 */
function deterministicBytes(seed: Buffer): (count: number) => string {
    let pool = Buffer.alloc(0);
    let counter = 0;
    return (count: number) => {
        while (pool.length < count) {
            const block = createHash("sha256").update(seed).update(String(counter++)).digest();
            pool = Buffer.concat([pool, block]);
        }
        const taken = pool.subarray(0, count);
        pool = pool.subarray(count);
        return taken.toString("latin1");
    };
}

/**
 * The user's PKCS#12: key, certificate and CA certificate, friendlyName = the name. The key is
 * encrypted with PBE-SHA1-3DES and the MAC is SHA-1, the legacy form every importer reads (Apple,
 * Windows and Android refuse some of OpenSSL 3's AES-256 default); the certificates are not
 * encrypted. The salts follow from the key, so the file is the same for the same state.
 */
export function userP12(state: PkiState, name: string): Buffer {
    const user = userOf(state, name);
    const key = forge.pki.privateKeyFromPem(user.keyPem);
    const chain = [forge.pki.certificateFromPem(user.certPem), forge.pki.certificateFromPem(state.ca.certPem)];
    const random = forge.random as unknown as { getBytes: (count: number) => string; getBytesSync: (count: number) => string };
    const saved = { getBytes: random.getBytes, getBytesSync: random.getBytesSync };
    const seed = createHash("sha256").update(`${PROJECT} pkcs12 salts\0`).update(user.keyPem).update("\0").update(user.certPem).digest();
    const bytes = deterministicBytes(seed);
    random.getBytes = random.getBytesSync = bytes;
    try {
        const p12 = forge.pkcs12.toPkcs12Asn1(key, chain, user.p12Password, {
            algorithm: "3des",
            friendlyName: name,
            generateLocalKeyId: true,
            count: 2048,
            saltSize: 8,
        });
        return Buffer.from(forge.asn1.toDer(p12).getBytes(), "binary");
    } finally {
        random.getBytes = saved.getBytes;
        random.getBytesSync = saved.getBytesSync;
    }
}

/**
 * A UUID from SHA-256 of (CA fingerprint, name, kind), version 8 (RFC 9562's custom, hash-based):
 * the same CA and user give the same UUID, so a re-installed profile replaces the old one.
 */
export function profileUuid(state: PkiState, name: string, kind: string): string {
    const hash = createHash("sha256").update(caFingerprint(state)).update("\0").update(name, "utf8").update("\0").update(kind).digest();
    const bytes = hash.subarray(0, 16);
    bytes[6] = (bytes[6] & 0x0f) | 0x80;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    const hex = bytes.toString("hex");
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function caCommonName(state: PkiState): string {
    return parseCertificate(state.ca.certPem).subjectName.getField("CN")[0];
}

// ---------------------------------------------------------------- Apple

type Plist = string | number | boolean | Buffer | Plist[] | { [key: string]: Plist };

export function xmlEscape(text: string): string {
    return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&apos;");
}

function plistValue(value: Plist, indent: string): string {
    if (typeof value === "string") return `${indent}<string>${xmlEscape(value)}</string>`;
    if (typeof value === "boolean") return `${indent}<${value}/>`;
    if (typeof value === "number") {
        if (!Number.isSafeInteger(value)) throw new Error(`plist: ${value} is not an integer`);
        return `${indent}<integer>${value}</integer>`;
    }
    if (Buffer.isBuffer(value)) {
        const lines = value.toString("base64").match(/.{1,64}/g) ?? [];
        return [`${indent}<data>`, ...lines.map((line) => `${indent}${line}`), `${indent}</data>`].join("\n");
    }
    if (Array.isArray(value)) {
        return [`${indent}<array>`, ...value.map((item) => plistValue(item, `${indent}\t`)), `${indent}</array>`].join("\n");
    }
    const entries = Object.entries(value).flatMap(([key, item]) => [`${indent}\t<key>${xmlEscape(key)}</key>`, plistValue(item, `${indent}\t`)]);
    return [`${indent}<dict>`, ...entries, `${indent}</dict>`].join("\n");
}

/**
 * A name as one reverse-DNS label: letters, digits and '-' kept, anything else '-'; a name that
 * needed changing gets 8 hex digits of its hash, so "a.b" and "a,b" stay apart.
 */
function identifierLabel(name: string): string {
    const label = name.replace(/[^A-Za-z0-9-]/g, "-");
    return label === name ? label : `${label}-${createHash("sha256").update(name, "utf8").digest("hex").slice(0, 8)}`;
}

const HOSTNAME = /^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

export interface AppleProfileOptions {
    /**
     * A DNS name for the gateway, dialled instead of the address. The server's identity stays the
     * address (RemoteIdentifier): that is what its certificate holds.
     */
    dnsName?: string;
}

/**
 * An Apple configuration profile (XML plist) for iOS and macOS: the user's PKCS#12, the CA as a
 * trusted root, and an IKEv2 VPN that authenticates both ends with certificates. MOBIKE is off
 * (Libreswan on Ubuntu kernels has none), so are PFS and redirects.
 */
export function appleMobileconfig(state: PkiState, name: string, options: AppleProfileOptions = {}): string {
    const user = userOf(state, name);
    if (options.dnsName !== undefined && !HOSTNAME.test(options.dnsName)) {
        throw new Error(`appleMobileconfig dnsName ${JSON.stringify(options.dnsName)}: must be a DNS name such as vpn.example.com`);
    }
    const address = state.server.address;
    const caName = caCommonName(state);
    const base = `${PROJECT}.${address}.${identifierLabel(name)}`;
    const uuid = (kind: string) => profileUuid(state, name, kind).toUpperCase();
    const p12Uuid = uuid("pkcs12");
    const sa = (lifetime: number) => ({
        EncryptionAlgorithm: "AES-256-GCM",
        IntegrityAlgorithm: "SHA2-256",
        DiffieHellmanGroup: 14,
        LifeTimeInMinutes: lifetime,
    });
    const profile: Plist = {
        PayloadContent: [
            {
                PayloadType: "com.apple.security.pkcs12",
                PayloadVersion: 1,
                PayloadIdentifier: `${base}.pkcs12`,
                PayloadUUID: p12Uuid,
                PayloadDisplayName: `${name} (VPN certificate)`,
                PayloadCertificateFileName: `${identifierLabel(name)}.p12`,
                Password: user.p12Password,
                PayloadContent: userP12(state, name),
            },
            {
                PayloadType: "com.apple.security.root",
                PayloadVersion: 1,
                PayloadIdentifier: `${base}.ca`,
                PayloadUUID: uuid("root"),
                PayloadDisplayName: caName,
                PayloadCertificateFileName: "ca.cer",
                PayloadContent: pemToDer(state.ca.certPem),
            },
            {
                PayloadType: "com.apple.vpn.managed",
                PayloadVersion: 1,
                PayloadIdentifier: `${base}.vpn`,
                PayloadUUID: uuid("vpn"),
                PayloadDisplayName: `VPN ${address}`,
                UserDefinedName: `${name} @ ${address}`,
                VPNType: "IKEv2",
                IKEv2: {
                    RemoteAddress: options.dnsName ?? address,
                    RemoteIdentifier: address,
                    LocalIdentifier: name,
                    AuthenticationMethod: "Certificate",
                    PayloadCertificateUUID: p12Uuid,
                    ServerCertificateIssuerCommonName: caName,
                    ServerCertificateCommonName: address,
                    ExtendedAuthEnabled: 0,
                    EnablePFS: 0,
                    IKESecurityAssociationParameters: sa(IKE_LIFETIME_MINUTES),
                    ChildSecurityAssociationParameters: sa(CHILD_LIFETIME_MINUTES),
                    DeadPeerDetectionRate: "Medium",
                    DisableMOBIKE: 1,
                    DisableRedirect: 1,
                },
            },
        ],
        PayloadType: "Configuration",
        PayloadVersion: 1,
        PayloadIdentifier: base,
        PayloadUUID: uuid("configuration"),
        PayloadDisplayName: `VPN ${address} (${name})`,
        PayloadDescription: `IKEv2 VPN to ${address} for ${name}, signed by ${caName}`,
        PayloadRemovalDisallowed: false,
    };
    return [
        `<?xml version="1.0" encoding="UTF-8"?>`,
        `<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">`,
        `<plist version="1.0">`,
        plistValue(profile, ""),
        `</plist>`,
        ``,
    ].join("\n");
}

// ---------------------------------------------------------------- strongSwan (Android)

/**
 * A `.sswan` profile for strongSwan's Android app (its documented import format: uuid, name, type,
 * remote.addr/id/cert, local.id/p12, ike-proposal, esp-proposal). remote.cert is the CA, so the
 * app trusts it for this profile alone; the same UUID on a re-import replaces the profile.
 */
export function strongswanProfile(state: PkiState, name: string): string {
    userOf(state, name);
    const address = state.server.address;
    const profile = {
        uuid: profileUuid(state, name, "sswan"),
        name: `${name} @ ${address}`,
        type: "ikev2-cert",
        remote: {
            addr: address,
            id: address,
            cert: pemToDer(state.ca.certPem).toString("base64"),
        },
        local: {
            id: name,
            p12: userP12(state, name).toString("base64"),
        },
        "ike-proposal": STRONGSWAN_IKE_PROPOSAL,
        "esp-proposal": STRONGSWAN_ESP_PROPOSAL,
    };
    return `${JSON.stringify(profile, null, 2)}\n`;
}
