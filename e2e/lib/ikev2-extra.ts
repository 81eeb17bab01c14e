// Test bed (not product): certificates the gateway must refuse, made with the product's own
// generator (components/pki) so that nothing but the one property differs.
//   ts-node e2e/lib/ikev2-extra.ts RENDER_DIR OUT_DIR USER
// OUT_DIR/foreign/USER/  USER's certificate from another CA (a fresh stack's), same name and address
// OUT_DIR/expired/expired-e2e/  a certificate of the stack's own CA, issued as if 11 years ago
//   (10 years' validity: expired a year ago); from a copy of RENDER_DIR/pki-state.json
// Each directory as the render writes clients: NAME.p12, NAME.p12.password, ca.pem.
import { X509Certificate } from "@peculiar/x509";
import * as fs from "fs";
import * as path from "path";
import { PkiState, reconcilePki } from "../../components/pki/ledger";
import { p12Password, userP12 } from "../../components/pki/profiles";

function write(dir: string, state: PkiState, name: string, caPem: string): void {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, `${name}.p12`), userP12(state, name));
    fs.writeFileSync(path.join(dir, `${name}.p12.password`), `${p12Password(state, name)}\n`);
    // the client trusts the stack's CA: only the gateway's verdict on the client's certificate is tested
    fs.writeFileSync(path.join(dir, "ca.pem"), caPem);
}

async function main(): Promise<void> {
    const [renderDir, outDir, user] = process.argv.slice(2);
    const stack = JSON.parse(fs.readFileSync(path.join(renderDir, "pki-state.json"), "utf8")) as PkiState;
    const address = stack.server.address;
    const foreign = await reconcilePki(undefined, { caName: "another CA", address, users: [{ name: user, reissue: 0, revoked: false }], now: new Date() });
    write(path.join(outDir, "foreign", user), foreign, user, stack.ca.certPem);
    const past = new Date(Date.now() - 11 * 365.25 * 24 * 3600 * 1000);
    const expired = await reconcilePki(stack, {
        caName: parseCaName(stack),
        address,
        users: [
            ...Object.keys(stack.users).map((name) => ({ name, reissue: stack.users[name].reissue, revoked: false })),
            { name: "expired-e2e", reissue: 0, revoked: false },
        ],
        now: past,
    });
    write(path.join(outDir, "expired", "expired-e2e"), expired, "expired-e2e", stack.ca.certPem);
}

/** The CA's CN, which reconcilePki checks a request against. */
function parseCaName(state: PkiState): string {
    return new X509Certificate(state.ca.certPem).subjectName.getField("CN")[0];
}

main().catch((error) => {
    console.error(`ikev2-extra: ${(error as Error).message}`);
    process.exit(1);
});
