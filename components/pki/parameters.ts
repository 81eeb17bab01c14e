// What the gateway needs of the stack's CA, as the parameters vpn-gateway-sync reads
// (PATH/ikev2/1..N, see boot/parameters.ts): the CA and server certificates, the server's key, the
// CRL, and which user each revoked serial was, so that the sync ends exactly the sessions of users
// newly revoked. Never the CA's key nor a user's: those stay in the stack's state.
import { SsmParameter, gzipPieces } from "../boot/parameters";
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

/** PATH/ikev2/1..N: the material's JSON, gzip+base64, in pieces (a few hundred revocations fit in one). */
export function ikev2Parameters(parameterPath: string, material: GatewayPki): SsmParameter[] {
    return gzipPieces(JSON.stringify(material)).map((value, i) => ({ name: `${parameterPath}/ikev2/${i + 1}`, type: "SecureString", value }));
}
