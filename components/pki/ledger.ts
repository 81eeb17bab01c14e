// The stack's IKEv2 certificate authority as one piece of state (pure given that state and the
// request): a CA, the gateway's server certificate, a certificate per user, and what was revoked.
// `pulumi up` keeps the state in a dynamic resource, `npm run render` in a file; both call
// reconcilePki, which changes only what the request asks to change. Keys are random, everything
// else follows from the state: RSA PKCS#1 v1.5 signatures are deterministic, so the same state
// always gives the same certificates and CRL (crl.ts), byte for byte.
import { KeyObject, createHash, createPrivateKey, createPublicKey, generateKeyPair, randomBytes, webcrypto } from "crypto";
import * as x509 from "@peculiar/x509";
import { parseIpv4 } from "../config/ipv4";

/**
 * @peculiar/x509 signs with Node's WebCrypto. Set where it is used, not when this module loads:
 * the dynamic provider (aws/pki.ts) runs a serialized copy of these functions, without this
 * module's top-level statements.
 */
export function useNodeCrypto(): void {
    x509.cryptoProvider.set(webcrypto as unknown as Crypto);
}

/** The version of PkiState's layout; a state of another format is refused, not guessed at. */
export const PKI_FORMAT = 1;

export interface PkiUserRequest {
    name: string;
    /** 0 or more; raising it re-issues the user's certificate (new key) and revokes the old one. */
    reissue: number;
    /** A revoked user keeps no certificate; its serials stay on the CRL. */
    revoked: boolean;
}

export interface PkiRequest {
    /** The CA's common name, e.g. "vpn-gateway dev CA". Names a new CA only: an existing one is kept. */
    caName: string;
    /** The IPv4 address clients dial (the Elastic IP): the server certificate's CN and SANs. */
    address: string;
    /** Every user that has IKEv2, revoked ones included (marked). */
    users: PkiUserRequest[];
    /** The clock, injected so that tests (and re-runs) control every date. */
    now: Date;
}

export interface PkiUser {
    /** PKCS#8 PEM. */
    keyPem: string;
    certPem: string;
    /** The certificate's serial, lowercase hex (16 bytes, positive). */
    serial: string;
    reissue: number;
    /** Protects the user's PKCS#12 (profiles.ts): Apple refuses one without a password. */
    p12Password: string;
    issuedAt: string;
}

export type PkiRevocationReason = "superseded" | "cessationOfOperation" | "unspecified";

export interface PkiRevoked {
    serial: string;
    name: string;
    /** ISO time, whole seconds (what a CRL entry holds). */
    revokedAt: string;
    reason: PkiRevocationReason;
}

export interface PkiState {
    format: 1;
    ca: { keyPem: string; certPem: string };
    server: { address: string; keyPem: string; certPem: string };
    /** Only users currently valid (not revoked), keyed by name, in name order. */
    users: Record<string, PkiUser>;
    /** Sorted by revokedAt then serial; never shrinks. */
    revoked: PkiRevoked[];
    /** The CRL's number: +1 on every change of revoked. */
    crlNumber: number;
    /** ISO time of the last change of revoked (the CRL's thisUpdate). */
    updatedAt: string;
}

/** sha256WithRSAEncryption: PKCS#1 v1.5 signatures are deterministic, PSS ones are not. */
export const SIGNING_ALGORITHM = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" } as const;
export const CA_KEY_BITS = 3072;
export const LEAF_KEY_BITS = 2048;
export const VALIDITY_YEARS = 10;
/** Certificates start an hour early so that a client whose clock runs behind accepts them. */
export const CLOCK_SKEW_MS = 60 * 60 * 1000;
/** X.520's upper bound for a common name (ub-common-name). */
export const COMMON_NAME_MAX_LENGTH = 64;
export const P12_PASSWORD_LENGTH = 24;
const SERIAL_BYTES = 16;
const EKU_IKE_INTERMEDIATE = "1.3.6.1.5.5.8.2.2";
const OID_COMMON_NAME = "2.5.4.3";

// ---------------------------------------------------------------- small helpers

/** Certificates and CRLs hold whole seconds: dates are cut to them so that the state and its certificates agree. */
function wholeSeconds(date: Date): Date {
    return new Date(Math.floor(date.getTime() / 1000) * 1000);
}

function addYears(date: Date, years: number): Date {
    const result = new Date(date.getTime());
    result.setUTCFullYear(result.getUTCFullYear() + years);
    return result;
}

/** A common name as one UTF8String attribute: built as ASN.1, never parsed from "CN=...", so ',', '=', '+' stay literal. */
function commonName(value: string): x509.Name {
    return new x509.Name([{ [OID_COMMON_NAME]: [{ utf8String: value }] }]);
}

function generateRsaKey(bits: number): Promise<string> {
    return new Promise((resolve, reject) => {
        generateKeyPair("rsa", { modulusLength: bits, publicExponent: 0x10001 }, (error, _publicKey, privateKey: KeyObject) => {
            if (error) reject(error);
            else resolve(privateKey.export({ type: "pkcs8", format: "pem" }).toString());
        });
    });
}

async function signingKey(keyPem: string): Promise<CryptoKey> {
    const der = createPrivateKey(keyPem).export({ type: "pkcs8", format: "der" });
    return (await webcrypto.subtle.importKey("pkcs8", der, SIGNING_ALGORITHM, false, ["sign"])) as unknown as CryptoKey;
}

/** The public half of a PKCS#8 key, as the DER SubjectPublicKeyInfo a certificate holds. */
function spki(keyPem: string): ArrayBuffer {
    const der = createPublicKey(keyPem).export({ type: "spki", format: "der" });
    return new Uint8Array(der).buffer;
}

/** 16 random bytes, the first bit cleared (a positive INTEGER) and the first byte non-zero (so DER keeps all 16). */
function newSerial(taken: Set<string>): string {
    for (;;) {
        const bytes = randomBytes(SERIAL_BYTES);
        bytes[0] &= 0x7f;
        const serial = bytes.toString("hex");
        if (bytes[0] !== 0 && !taken.has(serial)) return serial;
    }
}

const PASSWORD_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/** Uniform over [A-Za-z0-9]: bytes at or above the last multiple of 62 are drawn again. */
function newPassword(): string {
    const limit = 256 - (256 % PASSWORD_ALPHABET.length);
    let password = "";
    while (password.length < P12_PASSWORD_LENGTH) {
        for (const byte of randomBytes(P12_PASSWORD_LENGTH * 2)) {
            if (byte < limit && password.length < P12_PASSWORD_LENGTH) password += PASSWORD_ALPHABET[byte % PASSWORD_ALPHABET.length];
        }
    }
    return password;
}

/** PEM as files hold it: ending in a newline (@peculiar/x509 writes none). */
function certificatePem(cert: x509.X509Certificate): string {
    return `${cert.toString("pem")}\n`;
}

export function parseCertificate(pem: string): x509.X509Certificate {
    return new x509.X509Certificate(pem);
}

/** The CA's key identifier, which every certificate it issues (and its CRL) names as authority. */
export function caKeyId(ca: x509.X509Certificate): string {
    const ski = ca.getExtension(x509.SubjectKeyIdentifierExtension);
    if (!ski) throw new Error("the PKI state's CA certificate has no subjectKeyIdentifier");
    return ski.keyId;
}

// ---------------------------------------------------------------- certificates

async function issueCa(caName: string, now: Date): Promise<{ keyPem: string; certPem: string }> {
    const keyPem = await generateRsaKey(CA_KEY_BITS);
    const publicKey = spki(keyPem);
    const notBefore = new Date(now.getTime() - CLOCK_SKEW_MS);
    const cert = await x509.X509CertificateGenerator.create({
        serialNumber: newSerial(new Set()),
        subject: commonName(caName),
        issuer: commonName(caName),
        notBefore,
        notAfter: addYears(now, VALIDITY_YEARS),
        publicKey,
        signingKey: await signingKey(keyPem),
        signingAlgorithm: SIGNING_ALGORITHM,
        extensions: [
            new x509.BasicConstraintsExtension(true, undefined, true),
            new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
            await x509.SubjectKeyIdentifierExtension.create(publicKey),
        ],
    });
    return { keyPem, certPem: certificatePem(cert) };
}

interface Leaf {
    subject: string;
    serial: string;
    sans: x509.JsonGeneralName[];
    ekus: string[];
    /** A CRL distribution point, for the gateway's pluto (users' certificates only). */
    crlUrl?: string;
}

/**
 * Where the gateway keeps the CA's CRL (vpn-gateway-sync writes it, crl_file there). A user's
 * certificate names it as its CRL distribution point: a CRL pluto fetches itself has NSS drop its
 * cached one at once (seen in a held VM), which a CRL imported by another process (crlutil) does
 * not get: NSS re-reads that only after tens of seconds. In the VM checks' runs pluto did not
 * fetch it; the sync's watch covers that (README, "Revoking"). Only pluto reads it; the server's
 * certificate has none (a client such as Windows would try to fetch it).
 */
export const CRL_URL = "file:///var/lib/vpn-gateway/ikev2-crl.der";

/** A certificate signed by the CA: 10 years from an hour ago, never past the CA's own notAfter. */
async function issueLeaf(ca: { keyPem: string; certPem: string }, leaf: Leaf, now: Date): Promise<{ keyPem: string; certPem: string }> {
    const caCert = parseCertificate(ca.certPem);
    const keyPem = await generateRsaKey(LEAF_KEY_BITS);
    const publicKey = spki(keyPem);
    const notAfter = addYears(now, VALIDITY_YEARS);
    const cert = await x509.X509CertificateGenerator.create({
        serialNumber: leaf.serial,
        subject: commonName(leaf.subject),
        // The CA's subject as it is encoded in its certificate: chain building compares the bytes.
        issuer: caCert.subjectName,
        notBefore: new Date(now.getTime() - CLOCK_SKEW_MS),
        notAfter: notAfter > caCert.notAfter ? caCert.notAfter : notAfter,
        publicKey,
        signingKey: await signingKey(ca.keyPem),
        signingAlgorithm: SIGNING_ALGORITHM,
        extensions: [
            new x509.BasicConstraintsExtension(false, undefined, false),
            new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
            new x509.ExtendedKeyUsageExtension(leaf.ekus, false),
            new x509.SubjectAlternativeNameExtension(leaf.sans, false),
            await x509.SubjectKeyIdentifierExtension.create(publicKey),
            new x509.AuthorityKeyIdentifierExtension(caKeyId(caCert), false),
            ...(leaf.crlUrl ? [new x509.CRLDistributionPointsExtension([leaf.crlUrl], false)] : []),
        ],
    });
    return { keyPem, certPem: certificatePem(cert) };
}

/**
 * The gateway's certificate. Its SANs hold the address twice: Android matches an IP it dialled
 * against an iPAddress SAN, Windows wants a dNSName SAN even for an IP (else error 13801).
 * ikeIntermediate is the EKU older Apple and Windows clients look for on an IKE server.
 */
async function issueServer(ca: { keyPem: string; certPem: string }, address: string, serial: string, now: Date) {
    const issued = await issueLeaf(
        ca,
        {
            subject: address,
            serial,
            sans: [
                { type: "ip", value: address },
                { type: "dns", value: address },
            ],
            ekus: [x509.ExtendedKeyUsage.serverAuth, EKU_IKE_INTERMEDIATE],
        },
        now,
    );
    return { address, ...issued };
}

/** A user's certificate: the name as CN and dNSName (the ID a client sends), and as rfc822Name when it looks like an email address (Apple sends such an ID as one). */
async function issueUser(ca: { keyPem: string; certPem: string }, name: string, reissue: number, serial: string, now: Date): Promise<PkiUser> {
    const sans: x509.JsonGeneralName[] = [{ type: "dns", value: name }];
    if (name.includes("@")) sans.push({ type: "email", value: name });
    const issued = await issueLeaf(ca, { subject: name, serial, sans, ekus: [x509.ExtendedKeyUsage.clientAuth], crlUrl: CRL_URL }, now);
    return { ...issued, serial, reissue, p12Password: newPassword(), issuedAt: now.toISOString() };
}

// ---------------------------------------------------------------- validation

/**
 * Names go into a CN (at most 64 characters), a dNSName and an IKE ID: printable ASCII only
 * (a dNSName is an IA5String), and no leading or trailing space (which IDs and DN parsers drop).
 */
function nameProblem(name: unknown): string | undefined {
    if (typeof name !== "string" || name.length === 0) return "must be a non-empty string";
    if (name.length > COMMON_NAME_MAX_LENGTH) return `is ${name.length} characters, a certificate's common name holds at most ${COMMON_NAME_MAX_LENGTH}`;
    for (const ch of name) {
        const code = ch.codePointAt(0)!;
        if (code < 0x20 || code > 0x7e) return `holds ${JSON.stringify(ch)}: only printable ASCII fits a certificate's dNSName`;
    }
    if (name.trim() !== name) return "starts or ends with a space";
    return undefined;
}

function validate(previous: PkiState | undefined, request: PkiRequest): void {
    const problems: string[] = [];
    if (previous !== undefined && previous.format !== PKI_FORMAT) {
        throw new Error(`PKI state: format ${JSON.stringify(previous.format)}, this program reads format ${PKI_FORMAT} only`);
    }
    const caProblem = nameProblem(request.caName);
    if (caProblem) problems.push(`caName ${JSON.stringify(request.caName)} ${caProblem}`);
    if (previous !== undefined && caProblem === undefined) {
        const existing = parseCertificate(previous.ca.certPem).subjectName.getField("CN")[0];
        if (existing !== request.caName) {
            problems.push(
                `caName ${JSON.stringify(request.caName)}: the state's CA is ${JSON.stringify(existing)}; a CA is kept for the stack's life ` +
                    `(every client trusts it), so its name cannot change`,
            );
        }
    }
    if (typeof request.address !== "string" || parseIpv4(request.address) === undefined) {
        problems.push(`address ${JSON.stringify(request.address)}: must be an IPv4 address such as 203.0.113.10`);
    }
    if (!(request.now instanceof Date) || Number.isNaN(request.now.getTime())) problems.push("now: must be a valid Date");
    const seen = new Set<string>();
    if (!Array.isArray(request.users)) problems.push("users: must be a list");
    (Array.isArray(request.users) ? request.users : []).forEach((user, i) => {
        const at = `users[${i}]`;
        const problem = nameProblem(user.name);
        if (problem) problems.push(`${at}.name ${JSON.stringify(user.name)} ${problem}`);
        else if (seen.has(user.name)) problems.push(`${at}.name ${JSON.stringify(user.name)}: duplicate; names must be unique`);
        seen.add(user.name);
        if (!Number.isSafeInteger(user.reissue) || user.reissue < 0) {
            problems.push(`${at}.reissue ${JSON.stringify(user.reissue)} (user ${JSON.stringify(user.name)}): must be a whole number, 0 or more`);
        } else {
            const current = previous?.users[user.name];
            if (current && !user.revoked && user.reissue < current.reissue) {
                problems.push(
                    `${at}.reissue ${user.reissue} (user ${JSON.stringify(user.name)}): lower than the issued certificate's ${current.reissue}; ` +
                        `reissue only grows (raise it to re-issue)`,
                );
            }
        }
        if (typeof user.revoked !== "boolean") problems.push(`${at}.revoked (user ${JSON.stringify(user.name)}): must be true or false`);
    });
    if (problems.length > 0) throw new Error(`invalid PKI request:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
}

// ---------------------------------------------------------------- reconcile

function byCodeUnits(a: string, b: string): number {
    return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The state the request asks for, from the previous one (undefined: a new CA). What is still
 * wanted is kept as it is, byte for byte; only these change:
 *   - the address changed: a new server key and certificate (the old one is simply dropped);
 *   - a user gone from the request: revoked, cessationOfOperation;
 *   - a user marked revoked: revoked, unspecified, and not issued again while so marked;
 *   - a user's reissue raised: the old certificate revoked as superseded, a new key and certificate;
 *   - a user new, or back after a revocation: a new key, certificate and serial.
 * Throws an Error listing every problem of the request (or a state of another format).
 */
export async function reconcilePki(previous: PkiState | undefined, request: PkiRequest): Promise<PkiState> {
    useNodeCrypto();
    validate(previous, request);
    const now = wholeSeconds(request.now);
    const stamp = now.toISOString();

    const ca = previous ? previous.ca : await issueCa(request.caName, now);
    const taken = new Set<string>([parseCertificate(ca.certPem).serialNumber.toLowerCase()]);
    if (previous) {
        taken.add(parseCertificate(previous.server.certPem).serialNumber.toLowerCase());
        for (const user of Object.values(previous.users)) taken.add(user.serial);
        for (const entry of previous.revoked) taken.add(entry.serial);
    }
    /** A fresh serial, unlike any the CA has used. */
    const serial = () => {
        const value = newSerial(taken);
        taken.add(value);
        return value;
    };
    // Keys come from libuv's thread pool: the server's and the users' are made side by side (one Promise.all,
    // so that a failure of either is handled).
    const serverPending = previous && previous.server.address === request.address ? previous.server : issueServer(ca, request.address, serial(), now);

    const wanted = new Map(request.users.map((user) => [user.name, user]));
    const revokedNow: PkiRevoked[] = [];
    const revoke = (name: string, user: PkiUser, reason: PkiRevocationReason) => revokedNow.push({ serial: user.serial, name, revokedAt: stamp, reason });

    const users = new Map<string, PkiUser>();
    for (const [name, user] of Object.entries(previous?.users ?? {})) {
        const asked = wanted.get(name);
        if (!asked) revoke(name, user, "cessationOfOperation");
        else if (asked.revoked) revoke(name, user, "unspecified");
        else if (asked.reissue > user.reissue) revoke(name, user, "superseded");
        else users.set(name, user);
    }
    const toIssue = request.users.filter((user) => !user.revoked && !users.has(user.name));
    const [server, issued] = await Promise.all([serverPending, Promise.all(toIssue.map((user) => issueUser(ca, user.name, user.reissue, serial(), now)))]);
    toIssue.forEach((user, i) => users.set(user.name, issued[i]));

    const changed = revokedNow.length > 0;
    const revoked = [...(previous?.revoked ?? []), ...revokedNow].sort((a, b) => byCodeUnits(a.revokedAt, b.revokedAt) || byCodeUnits(a.serial, b.serial));
    return {
        format: PKI_FORMAT,
        ca,
        server,
        users: Object.fromEntries([...users.entries()].sort(([a], [b]) => byCodeUnits(a, b))),
        revoked,
        crlNumber: previous ? previous.crlNumber + (changed ? 1 : 0) : 1,
        updatedAt: previous && !changed ? previous.updatedAt : stamp,
    };
}

/** SHA-256 of the CA certificate's DER: what names this CA in UUIDs and identifiers. */
export function caFingerprint(state: PkiState): Buffer {
    return createHash("sha256")
        .update(Buffer.from(parseCertificate(state.ca.certPem).rawData))
        .digest();
}
