// The CA's certificate revocation list, from the PKI state alone (pure): every date and number comes
// from the state and the signature is PKCS#1 v1.5, so the same state gives the same bytes. The
// gateway imports it into Libreswan's NSS database (crlutil -I), which then refuses revoked users.
import * as x509 from "@peculiar/x509";
import { PkiRevocationReason, PkiState, SIGNING_ALGORITHM, caKeyId, parseCertificate, useNodeCrypto } from "./ledger";
import { createPrivateKey, webcrypto } from "crypto";

const OID_CRL_NUMBER = "2.5.29.20";

const REASONS: Record<PkiRevocationReason, x509.X509CrlReason> = {
    // RFC 5280 5.3.1: "unspecified" SHOULD be left out rather than written, which @peculiar/x509 does.
    unspecified: x509.X509CrlReason.unspecified,
    superseded: x509.X509CrlReason.superseded,
    cessationOfOperation: x509.X509CrlReason.cessationOfOperation,
};

/** A non-negative integer as a DER INTEGER (the CRL number's value). */
function derInteger(value: number): ArrayBuffer {
    if (!Number.isSafeInteger(value) || value < 0) throw new Error(`PKI state: crlNumber ${value} is not a whole number, 0 or more`);
    const bytes: number[] = [];
    let rest = value;
    do {
        bytes.unshift(rest % 256);
        rest = Math.floor(rest / 256);
    } while (rest > 0);
    if (bytes[0] & 0x80) bytes.unshift(0);
    return new Uint8Array([0x02, bytes.length, ...bytes]).buffer;
}

/**
 * The X.509 v2 CRL, DER: thisUpdate = the state's updatedAt (the last change of revoked),
 * nextUpdate = the CA's notAfter (the list only changes with the state, never by time: a shorter
 * nextUpdate would make Libreswan treat an unchanged list as stale), the CRL number, the
 * authority key identifier, and one entry per revoked serial with its date and reason.
 */
export async function crlDer(state: PkiState): Promise<Buffer> {
    useNodeCrypto();
    const ca = parseCertificate(state.ca.certPem);
    const der = createPrivateKey(state.ca.keyPem).export({ type: "pkcs8", format: "der" });
    const key = (await webcrypto.subtle.importKey("pkcs8", der, SIGNING_ALGORITHM, false, ["sign"])) as unknown as CryptoKey;
    const crl = await x509.X509CrlGenerator.create({
        issuer: ca.subjectName,
        thisUpdate: new Date(state.updatedAt),
        nextUpdate: ca.notAfter,
        signingKey: key,
        signingAlgorithm: SIGNING_ALGORITHM,
        extensions: [new x509.AuthorityKeyIdentifierExtension(caKeyId(ca), false), new x509.Extension(OID_CRL_NUMBER, false, derInteger(state.crlNumber))],
        entries: state.revoked.map((entry) => ({
            serialNumber: entry.serial,
            revocationDate: new Date(entry.revokedAt),
            reason: REASONS[entry.reason],
        })),
    });
    return Buffer.from(crl.rawData);
}

/** The same CRL as PEM ("X509 CRL"). */
export async function crlPem(state: PkiState): Promise<string> {
    const body = (await crlDer(state))
        .toString("base64")
        .replace(/(.{64})/g, "$1\n")
        .replace(/\n$/, "");
    return `-----BEGIN X509 CRL-----\n${body}\n-----END X509 CRL-----\n`;
}
