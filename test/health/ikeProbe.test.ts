import { expect } from "chai";
import * as dgram from "dgram";
import { AddressInfo } from "net";
import { classifyAnswer, mainModeRequest, probe } from "../../components/health/ikeProbe";

const COOKIE = Buffer.from("0123456789abcdef", "hex");

/** A Main Mode reply as a responder sends it: our cookie, its own, an SA payload. */
function reply(request: Buffer, exchange = 2, next = 1): Buffer {
    const r = Buffer.from(request);
    Buffer.from("fedcba9876543210", "hex").copy(r, 8);
    r[16] = next;
    r[18] = exchange;
    return r;
}

describe("IKE readiness probe", () => {
    it("builds an IKEv1 Main Mode request with one AES-256/SHA2-256/PSK/MODP2048 proposal", () => {
        const m = mainModeRequest(COOKIE);
        expect(m.subarray(0, 8).equals(COOKIE)).to.equal(true);
        expect(m.subarray(8, 16).equals(Buffer.alloc(8))).to.equal(true);
        expect([m[16], m[17], m[18]]).to.deep.equal([1, 0x10, 2]);
        expect(m.readUInt32BE(24)).to.equal(m.length);
        // SA payload length covers the rest; DOI 1 (IPsec), situation 1.
        expect(m.readUInt16BE(28 + 2)).to.equal(m.length - 28);
        expect(m.readUInt32BE(28 + 4)).to.equal(1);
        const attributes = m.subarray(m.length - 28);
        const pairs = Array.from({ length: 7 }, (_, i) => [attributes.readUInt16BE(i * 4) & 0x7fff, attributes.readUInt16BE(i * 4 + 2)]);
        expect(pairs).to.deep.equal([
            [1, 7],
            [14, 256],
            [2, 4],
            [3, 1],
            [4, 14],
            [11, 1],
            [12, 28800],
        ]);
    });

    it("recognises a Main Mode answer and a notification, and ignores anything else", () => {
        const request = mainModeRequest(COOKIE);
        expect(classifyAnswer(reply(request), COOKIE)).to.equal("accepted");
        expect(classifyAnswer(reply(request, 5, 11), COOKIE)).to.equal("notified");
        expect(classifyAnswer(reply(request), Buffer.alloc(8, 1))).to.equal(undefined);
        expect(classifyAnswer(request, COOKIE)).to.equal(undefined); // our own request echoed: no responder cookie
        expect(classifyAnswer(Buffer.alloc(10), COOKIE)).to.equal(undefined);
    });

    it("says ready once a responder answers, with the time it took", async () => {
        const server = dgram.createSocket("udp4");
        let seen = 0;
        server.on("message", (msg, remote) => {
            seen += 1;
            // Ignore the first request, as a gateway still booting would.
            if (seen >= 2) server.send(reply(msg), remote.port, remote.address);
        });
        await new Promise<void>((r) => server.bind(0, "127.0.0.1", () => r()));
        const port = (server.address() as AddressInfo).port;
        const result = await probe({ host: "127.0.0.1", port, timeoutSeconds: 5, intervalSeconds: 0.2 });
        server.close();
        expect(result.ready).to.equal(true);
        expect(result.attempts).to.be.at.least(2);
        expect(result.detail).to.contain("accepted the IKE proposal");
        expect(result.seconds).to.be.below(5);
    });

    it("says not ready within its bound when nothing answers", async () => {
        const server = dgram.createSocket("udp4");
        await new Promise<void>((r) => server.bind(0, "127.0.0.1", () => r()));
        const port = (server.address() as AddressInfo).port;
        const started = Date.now();
        const result = await probe({ host: "127.0.0.1", port, timeoutSeconds: 1, intervalSeconds: 0.3 });
        server.close();
        expect(result.ready).to.equal(false);
        expect(Date.now() - started).to.be.below(2500);
        expect(result.detail).to.match(/no IKE answer from 127.0.0.1:\d+ in 1 s/);
    });
});
