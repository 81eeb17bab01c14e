// What the gateway needs of the stack's CA, as the parameters vpn-gateway-sync reads
// (PATH/ikev2/1..N, see boot/parameters.ts): the CA and server certificates, the server's key, the
// CRL, and which user each revoked serial was, so that the sync ends exactly the sessions of users
// newly revoked. Never the CA's key nor a user's: those stay in the stack's state.
import { PARAMETER_VALUE_LIMIT, SsmParameter, gzipBase64 } from "../boot/parameters";
import { ConfigError, Ikev2User } from "../config/settings";
import { crlPem } from "./crl";
import { PkiState } from "./ledger";

/** The version of the material's JSON, which vpn-gateway-sync checks (IKEV2_FORMAT). */
export const IKEV2_FORMAT = 1;

export interface GatewayPki {
    format: typeof IKEV2_FORMAT;
    caCert: string;
    serverCert: string;
    serverKey: string;
    crl: string;
    revoked: { name: string; serial: string }[];
}

/** The gateway's share of the state: deterministic for a state (the CRL is, see crl.ts). */
export async function gatewayPki(state: PkiState): Promise<GatewayPki> {
    return {
        format: IKEV2_FORMAT,
        caCert: state.ca.certPem,
        serverCert: state.server.certPem,
        serverKey: state.server.keyPem,
        crl: await crlPem(state),
        revoked: state.revoked.map((r) => ({ name: r.name, serial: r.serial })),
    };
}

/**
 * How many parameters PATH/ikev2/1..N the material gets: a count that follows from the users alone
 * (plain inputs), so that `pulumi preview` lists every one before the CA's state is known and no
 * parameter is created inside an apply. Measured once gzip+base64 (test/pki/parameters.test.ts
 * checks the bound with names of random letters, what gzip cannot shrink): the CA and server
 * certificates and the server's key under 5,300 characters; a CRL entry about 60 characters plus
 * 1.1 per character of its name. Entries: every certificate of the config (a revoked one stays on
 * the CRL), every re-issue (the old one is revoked), one per user with devices (the user's single
 * certificate is revoked), and room for as many again, at least 64, for users removed from the
 * config over the stack's life (their serials stay on the CRL), counted at the longest name.
 */
export const IKEV2_BASE_CHARACTERS = 5600;
export const IKEV2_ENTRY_CHARACTERS = 64;
export const IKEV2_REMOVED_ROOM_MIN = 64;
/** The longest certificate name: a user's (64) and a device's (32), joined by a dot. */
const LONGEST_CERTIFICATE_NAME = 64 + 1 + 32;

/** One CRL entry's share of the packed material, for a certificate of a name that long. */
const entryCharacters = (nameLength: number) => IKEV2_ENTRY_CHARACTERS + Math.ceil((nameLength * 4) / 3);

/**
 * The names of the CRL entries these users may bring (see IKEV2_BASE_CHARACTERS): each certificate
 * once and once per re-issue, and each user with devices once (the single certificate before them).
 */
function knownEntries(users: Ikev2User[]): string[] {
    const singles = [...new Set(users.filter((u) => u.device !== undefined).map((u) => u.user!))];
    return [...users.flatMap((u) => Array<string>(1 + u.reissue).fill(u.name)), ...singles];
}

/** Room for users removed from the config over the stack's life. */
const removedRoom = (users: Ikev2User[]) => Math.max(IKEV2_REMOVED_ROOM_MIN, users.length);

/** The CRL entries the material may hold for these users. */
export function ikev2EntryBound(users: Ikev2User[]): number {
    return knownEntries(users).length + removedRoom(users);
}

/** The packed material's size bound for these users, in characters. */
export function ikev2MaterialBound(users: Ikev2User[]): number {
    const known = knownEntries(users).reduce((sum, name) => sum + entryCharacters(name.length), 0);
    return IKEV2_BASE_CHARACTERS + known + removedRoom(users) * entryCharacters(LONGEST_CERTIFICATE_NAME);
}

export function ikev2PieceCount(users: Ikev2User[]): number {
    return Math.max(1, Math.ceil(ikev2MaterialBound(users) / PARAMETER_VALUE_LIMIT));
}

/**
 * The material's JSON, gzip (level 9, no name or time: the same material always gives the same
 * text) and base64, cut into exactly `pieces` pieces of near-equal length (each under SSM's 4096
 * characters): vpn-gateway-sync joins PATH/ikev2/1..N whatever their number.
 */
export function ikev2Pieces(material: GatewayPki, pieces: number): string[] {
    const packed = gzipBase64(JSON.stringify(material));
    if (packed.length > pieces * PARAMETER_VALUE_LIMIT) {
        throw new ConfigError([
            `users: the IKEv2 material (the CA, the server's certificate and key, and a CRL of ${material.revoked.length} revoked certificates) is ` +
                `${packed.length} characters, more than the ${pieces} parameters sized from the config's users hold (${pieces * PARAMETER_VALUE_LIMIT}): ` +
                `users removed from the config still count on the CRL; list them again with revoked: true (each one adds room)`,
        ]);
    }
    if (packed.length < pieces) throw new Error(`the IKEv2 material (${packed.length} characters) cannot fill ${pieces} pieces`);
    const size = Math.floor(packed.length / pieces);
    const longer = packed.length % pieces;
    const out: string[] = [];
    for (let i = 0, at = 0; i < pieces; i++) {
        const length = size + (i < longer ? 1 : 0);
        out.push(packed.slice(at, at + length));
        at += length;
    }
    return out;
}

/** PATH/ikev2/1..N for the users of the config (ikev2PieceCount): the material's pieces. */
export function ikev2Parameters(parameterPath: string, material: GatewayPki, pieces: number): SsmParameter[] {
    return ikev2Pieces(material, pieces).map((value, i) => ({ name: `${parameterPath}/ikev2/${i + 1}`, type: "SecureString", value }));
}
