// The CA's CRL (components/pki/crl.ts): what openssl reads in it, that openssl refuses the revoked
// and accepts the rest with it, and that the same state gives the same bytes.
import { expect } from "chai";
import * as x509 from "@peculiar/x509";
import { crlDer, crlPem } from "../../components/pki/crl";
import { PkiState, reconcilePki } from "../../components/pki/ledger";
import { T0, T1, baseState, openssl, opensslStatus, request, tmpFile, users } from "./fixtures";

describe("pki CRL", () => {
    let state: PkiState;
    /** alice superseded (reissue 1), bob revoked (unspecified), carol gone (cessationOfOperation). */
    let revoked: PkiState;
    before(async () => {
        state = await baseState();
        revoked = await reconcilePki(
            state,
            request({ now: T1, users: [{ name: "alice", reissue: 1, revoked: false }, { name: "bob", reissue: 0, revoked: true }, ...users("dave")] }),
        );
    });

    it("an empty CRL for a new state: v2, signed by the CA, number 1, thisUpdate the state's time, nextUpdate the CA's notAfter", async () => {
        const text = openssl("crl", "-noout", "-text", "-in", tmpFile("empty.crl.pem", await crlPem(state)));
        expect(text).to.include("Version 2");
        expect(text).to.include("sha256WithRSAEncryption");
        expect(text).to.match(/CRL Number: \s+1\n/);
        expect(text).to.include("Authority Key Identifier");
        expect(text).to.include("No Revoked Certificates");
        const crl = new x509.X509Crl(new Uint8Array(await crlDer(state)));
        expect(crl.thisUpdate.toISOString()).to.equal(T0.toISOString());
        expect(crl.nextUpdate!.getTime()).to.equal(new x509.X509Certificate(state.ca.certPem).notAfter.getTime());
        expect(await crl.verify({ publicKey: await new x509.X509Certificate(state.ca.certPem).publicKey.export() })).to.equal(true);
    });

    it("lists every revoked serial with its date and reason, under the next number", async () => {
        expect(revoked.crlNumber).to.equal(2);
        const text = openssl("crl", "-noout", "-text", "-in", tmpFile("revoked.crl.pem", await crlPem(revoked)));
        expect(text).to.match(/CRL Number: \s+2\n/);
        for (const entry of revoked.revoked) expect(text).to.include(`Serial Number: ${entry.serial.toUpperCase()}`);
        expect(text).to.include("Superseded");
        expect(text).to.include("Cessation Of Operation");
        const crl = new x509.X509Crl(new Uint8Array(await crlDer(revoked)));
        expect(crl.thisUpdate.toISOString()).to.equal(T1.toISOString());
        const entries = crl.entries.map((e) => ({ serial: e.serialNumber.toLowerCase(), date: e.revocationDate.toISOString(), reason: e.reason }));
        expect(entries).to.deep.equal(
            revoked.revoked.map((r) => ({
                serial: r.serial,
                date: r.revokedAt,
                // RFC 5280: "unspecified" is left out rather than written.
                reason: { superseded: 4, cessationOfOperation: 5, unspecified: undefined }[r.reason],
            })),
        );
    });

    it("is the same bytes for the same state, and another number after the next change", async () => {
        expect((await crlDer(revoked)).equals(await crlDer(revoked))).to.equal(true);
        expect((await crlDer(JSON.parse(JSON.stringify(revoked)))).equals(await crlDer(revoked))).to.equal(true);
        expect(await crlPem(revoked)).to.equal(await crlPem(revoked));
        const unchanged = await reconcilePki(
            revoked,
            request({
                now: new Date(T1.getTime() + 1000),
                users: [{ name: "alice", reissue: 1, revoked: false }, { name: "bob", reissue: 0, revoked: true }, ...users("dave")],
            }),
        );
        expect((await crlDer(unchanged)).equals(await crlDer(revoked))).to.equal(true);
        const next = await reconcilePki(revoked, request({ now: new Date(T1.getTime() + 1000), users: [{ name: "alice", reissue: 1, revoked: false }] }));
        expect(next.crlNumber).to.equal(3);
        expect(openssl("crl", "-noout", "-crlnumber", "-in", tmpFile("next.crl.pem", await crlPem(next))).trim()).to.equal("crlNumber=0x03");
    });

    it("openssl -crl_check refuses a revoked user's certificate and accepts a valid one's and the server's", async () => {
        const ca = tmpFile("ca.pem", revoked.ca.certPem);
        const crl = tmpFile("revoked.crl.pem", await crlPem(revoked));
        const check = (name: string, pem: string) => opensslStatus("verify", "-crl_check", "-CAfile", ca, "-CRLfile", crl, tmpFile(name, pem));
        for (const [name, pem] of [
            ["alice-old.pem", state.users.alice.certPem],
            ["bob.pem", state.users.bob.certPem],
            ["carol.pem", state.users.carol.certPem],
        ]) {
            const result = check(name, pem);
            expect(result.status, name).to.not.equal(0);
            expect(result.output, name).to.include("certificate revoked");
        }
        for (const [name, pem] of [
            ["alice-new.pem", revoked.users.alice.certPem],
            ["dave.pem", revoked.users.dave.certPem],
            ["server.pem", revoked.server.certPem],
        ]) {
            const result = check(name, pem);
            expect(result.status, `${name}: ${result.output}`).to.equal(0);
        }
    });
});
