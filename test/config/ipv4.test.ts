import { expect } from "chai";
import { formatIpv4, overlaps, parseCidr, parseIpv4 } from "../../components/config/ipv4";

describe("ipv4", () => {
    it("parses dotted quads strictly", () => {
        expect(parseIpv4("192.168.42.1")).to.equal(0xc0a82a01);
        expect(formatIpv4(0xc0a82a01)).to.equal("192.168.42.1");
        for (const bad of ["256.1.1.1", "1.2.3", "1.2.3.4.5", "01.2.3.4", " 1.2.3.4", "1.2.3.4\n", "a.b.c.d", ""]) {
            expect(parseIpv4(bad), bad).to.equal(undefined);
        }
    });

    it("parses CIDR blocks and refuses host bits", () => {
        const ok = parseCidr("10.0.0.0/8");
        expect(ok).to.have.property("cidr");
        expect(parseCidr("192.168.42.1/24")).to.deep.equal({ error: `"192.168.42.1/24" has host bits set; the block is 192.168.42.0/24` });
        expect(parseCidr("10.0.0.0/33")).to.have.property("error");
        expect(parseCidr("10.0.0.0")).to.have.property("error");
        expect(parseCidr("10.0.0.0/08")).to.have.property("error");
    });

    it("detects overlap", () => {
        const a = (parseCidr("172.31.0.0/16") as any).cidr;
        expect(overlaps(a, (parseCidr("172.31.200.0/24") as any).cidr)).to.equal(true);
        expect(overlaps(a, (parseCidr("172.30.0.0/16") as any).cidr)).to.equal(false);
        expect(overlaps((parseCidr("0.0.0.0/0") as any).cidr, a)).to.equal(true);
    });
});
