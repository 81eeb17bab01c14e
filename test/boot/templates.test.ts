// templates/<part>/<the gateway file's name>.mustache: every template is used, every one a part
// names exists, and each is named after the file it becomes, in the folder of the part that uses it.
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { BootComponent, TEMPLATE_DIR } from "../../components/boot/bootFile";
import { BOOT_ORDER, firstBootParts } from "../../components/boot/cloudConfig";
import { PROGRAM_TEMPLATE, SYNC_PROGRAM } from "../../components/boot/sync";
import { bootInput, templateFiles } from "../helpers";

/** Each part by its name (the folder of its templates), with every optional section switched on. */
function parts(): Array<[string, BootComponent]> {
    const rendered = firstBootParts(bootInput({ adminCidr: "198.51.100.7/32", sshKeyName: "me", allowClientToClient: "true" }));
    return BOOT_ORDER.map((part) => [part, rendered[part]]);
}

describe("templates", () => {
    const onDisk = templateFiles();
    const uses = [
        ...parts().flatMap(([part, component]) => component.files.filter((f) => f.template).map((f) => ({ part, file: f.path, template: f.template! }))),
        // Too large for the user-data: the Sync part keeps it in its parameters, and the first boot installs it.
        { part: "sync", file: SYNC_PROGRAM, template: PROGRAM_TEMPLATE },
    ];

    it("are all .mustache files, found where renderTemplate looks", () => {
        expect(onDisk.length).to.be.at.least(17);
        for (const t of onDisk) expect(t, t).to.match(/\.mustache$/);
    });

    it("are each used by some part", () => {
        const used = new Set(uses.map((u) => u.template));
        const unused = onDisk.filter((t) => !used.has(t));
        expect(unused, "templates no part renders").to.deep.equal([]);
    });

    it("exist for every path a part renders", () => {
        for (const u of uses) expect(fs.existsSync(path.join(TEMPLATE_DIR, u.template)), `${u.part}: ${u.template}`).to.equal(true);
    });

    it("sit in the folder of the part that renders them", () => {
        for (const u of uses) expect(u.template.split("/")[0], u.template).to.equal(u.part);
    });

    it("are named after the gateway file they become (basename, and the gateway's directory where a subfolder names one)", () => {
        for (const u of uses) {
            const name = u.template.slice(0, -".mustache".length);
            expect(path.basename(name), `${u.template} -> ${u.file}`).to.equal(path.basename(u.file));
            // ipsec/ipsec.service.d/vpn-gateway.conf -> /etc/systemd/system/ipsec.service.d/vpn-gateway.conf
            const inPart = name.split("/").slice(1).join("/");
            expect(u.file.endsWith(`/${inPart}`), `${u.template} -> ${u.file}`).to.equal(true);
        }
    });

    it("keep the gateway's directory where two templates would share a name", () => {
        const names = onDisk.map((t) => path.basename(t));
        const shared = names.filter((n, i) => names.indexOf(n) !== i);
        expect(shared).to.include("vpn-gateway.conf.mustache");
        for (const t of onDisk.filter((t) => shared.includes(path.basename(t)))) expect(t.split("/"), t).to.have.length.greaterThan(2);
    });
});
