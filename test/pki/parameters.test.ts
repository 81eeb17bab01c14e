// PATH/ikev2/1..N: a count known from the users alone (so preview lists every parameter), and the
// material cut into exactly that many pieces, each within SSM's limit.
import { expect } from "chai";
import { randomBytes } from "crypto";
import * as zlib from "zlib";
import { PARAMETER_VALUE_LIMIT } from "../../components/boot/parameters";
import { ConfigError, Ikev2User } from "../../components/config/settings";
import { PkiState } from "../../components/pki/ledger";
import { gatewayPki, ikev2EntryBound, ikev2Parameters, ikev2PieceCount, ikev2Pieces } from "../../components/pki/parameters";
import { baseState } from "./fixtures";

const user = (name: string, extra: Partial<Ikev2User> = {}): Ikev2User => ({ name, reissue: 0, revoked: false, ...extra }) as Ikev2User;
const named = (n: number) => Array.from({ length: n }, (_, i) => user(`user-${String(i).padStart(5, "0")}`));

/** The base state with `count` more revoked certificates, named as long as a device certificate may be (64 + 1 + 32). */
function withRevoked(state: PkiState, count: number): PkiState {
    const revoked = Array.from({ length: count }, (_, i) => ({
        // 16 random bytes, the first below 0x80: a positive serial as the ledger makes them
        serial: (randomBytes(16)[0] & 0x7f).toString(16).padStart(2, "0") + randomBytes(15).toString("hex"),
        // random letters: what gzip cannot shrink (a real CRL's names are less random than these)
        name: `${randomBytes(48).toString("base64url").slice(0, 64)}.${randomBytes(24).toString("base64url").slice(0, 32)}`,
        revokedAt: new Date(Date.parse(state.updatedAt) + i * 1000).toISOString().replace(/\.\d{3}Z$/, "Z"),
        reason: "superseded" as const,
    }));
    return { ...state, revoked: [...state.revoked, ...revoked], crlNumber: state.crlNumber + 1 };
}

const joined = (pieces: string[]) => JSON.parse(zlib.gunzipSync(Buffer.from(pieces.join(""), "base64")).toString("utf8"));

describe("IKEv2 material parameters (PATH/ikev2/1..N)", () => {
    it("counts the pieces from the users alone, growing with them and with re-issues and devices", () => {
        const small = ikev2PieceCount(named(2));
        expect(small).to.be.at.least(2);
        expect(ikev2PieceCount(named(1000))).to.be.above(small);
        expect(ikev2PieceCount(named(5000))).to.be.above(ikev2PieceCount(named(1000)));
        const users = named(200);
        expect(ikev2EntryBound(users.map((u) => ({ ...u, reissue: 3 })))).to.equal(ikev2EntryBound(users) + 600);
        const devices = users.flatMap((u) => ["phone", "laptop"].map((d) => user(`${u.name}.${d}`, { user: u.name, device: d })));
        // two certificates per user, and each user's former single certificate on the CRL
        expect(ikev2EntryBound(devices)).to.equal(400 + 200 + 400);
    });

    it("cuts the material into exactly N near-equal pieces within SSM's limit that join back to it", async () => {
        const material = await gatewayPki(await baseState());
        for (const n of [2, 3, 7]) {
            const pieces = ikev2Pieces(material, n);
            expect(pieces).to.have.length(n);
            const lengths = pieces.map((p) => p.length);
            expect(Math.max(...lengths) - Math.min(...lengths)).to.be.at.most(1);
            for (const p of pieces) expect(p.length).to.be.within(1, PARAMETER_VALUE_LIMIT);
            expect(joined(pieces)).to.deep.equal(material);
        }
        // the same material, the same text: an unchanged CA changes no parameter
        expect(ikev2Pieces(material, 3)).to.deep.equal(ikev2Pieces(await gatewayPki(await baseState()), 3));
        const parameters = ikev2Parameters("/vpn-gateway/x/eng", material, 3);
        expect(parameters.map((p) => p.name)).to.deep.equal(["/vpn-gateway/x/eng/ikev2/1", "/vpn-gateway/x/eng/ikev2/2", "/vpn-gateway/x/eng/ikev2/3"]);
        expect(parameters.every((p) => p.type === "SecureString")).to.equal(true);
    });

    it("holds a CRL of as many entries as the users bound, each with the longest name", async function () {
        this.timeout(60000);
        // users whose every certificate name is the longest (random letters): the bound counts
        // known names as they are, so only names as long as the test's CRL entries make it a worst case
        const longest = (n: number) =>
            Array.from({ length: n }, () => randomBytes(48).toString("base64url").slice(0, 64)).flatMap((name) =>
                ["a", "b"].map((d) => user(`${name}.${d.repeat(32)}`, { user: name, device: d.repeat(32) })),
            );
        for (const users of [longest(1), longest(150)]) {
            const material = await gatewayPki(withRevoked(await baseState(), ikev2EntryBound(users)));
            const pieces = ikev2Pieces(material, ikev2PieceCount(users));
            expect(joined(pieces).revoked).to.have.length(material.revoked.length);
        }
    });

    it("refuses material larger than the pieces hold, saying what to do", async () => {
        const material = await gatewayPki(withRevoked(await baseState(), 200));
        let error: unknown;
        try {
            ikev2Pieces(material, 1);
        } catch (e) {
            error = e;
        }
        expect(error).to.be.instanceOf(ConfigError);
        expect((error as Error).message).to.match(/users: the IKEv2 material .* CRL of \d+ revoked certificates.*list them again with revoked: true/);
    });
});
