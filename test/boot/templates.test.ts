// The files the gateway gets, from two folders: templates/<part>/<the gateway file's name>.mustache
// (rendered: each holds at least one Mustache tag) and files/<part>/<the gateway file's name> (as
// they are: none holds a tag). Every one is used, every one a part names exists, and each is named
// after the file it becomes, in the folder of the part that uses it. The agent itself is neither:
// it is built from agent/ (npm run build:agent) and reaches the gateway through its parameters.
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { BootComponent, FILES_DIR, TEMPLATE_DIR } from "../../components/boot/bootFile";
import { BOOT_ORDER, firstBootParts } from "../../components/boot/cloudConfig";
import { bootInput, plainFiles, templateFiles } from "../helpers";

/** Each part by its name (the folder of its files), with every optional section switched on. */
function parts(): Array<[string, BootComponent]> {
    const rendered = firstBootParts(bootInput({ adminCidr: "198.51.100.7/32", sshKeyName: "me", allowClientToClient: "true" }));
    return BOOT_ORDER.map((part) => [part, rendered[part]]);
}

/** A Mustache tag: {{name}}, {{{name}}}, {{#section}}, {{/section}}, {{^inverted}}, {{! comment}}, ... */
const TAG = /\{\{/;

describe("templates and plain files", () => {
    const templatesOnDisk = templateFiles();
    const plainOnDisk = plainFiles();
    const files = parts().flatMap(([part, component]) => component.files.map((f) => ({ part, file: f })));
    // both kinds as one list: the path relative to its folder, without .mustache, and where it goes
    const uses = [
        ...files
            .filter((u) => u.file.template)
            .map((u) => ({
                part: u.part,
                file: u.file.path,
                kind: "template",
                source: u.file.template!,
                name: u.file.template!.slice(0, -".mustache".length),
            })),
        ...files
            .filter((u) => u.file.source)
            .map((u) => ({ part: u.part, file: u.file.path, kind: "plain file", source: u.file.source!, name: u.file.source! })),
    ];

    it("templates are all .mustache files, found where renderTemplate looks", () => {
        expect(templatesOnDisk.length).to.be.at.least(7);
        for (const t of templatesOnDisk) expect(t, t).to.match(/\.mustache$/);
    });

    it("plain files have no .mustache suffix, and no file is both", () => {
        expect(plainOnDisk.length).to.be.at.least(12);
        for (const f of plainOnDisk) expect(f, f).not.to.match(/\.mustache$/);
        const templateNames = new Set(templatesOnDisk.map((t) => t.slice(0, -".mustache".length)));
        expect(plainOnDisk.filter((f) => templateNames.has(f))).to.deep.equal([]);
    });

    it("every template holds at least one Mustache tag, every plain file none", () => {
        for (const t of templatesOnDisk)
            expect(TAG.test(fs.readFileSync(path.join(TEMPLATE_DIR, t), "utf8")), `templates/${t} holds no tag: make it a plain file`).to.equal(true);
        for (const f of plainOnDisk)
            expect(TAG.test(fs.readFileSync(path.join(FILES_DIR, f), "utf8")), `files/${f} holds a tag: make it a template`).to.equal(false);
    });

    it("a plain file is written exactly as it is on disk", () => {
        for (const u of files.filter((u) => u.file.source)) {
            expect(u.file.content, u.file.path).to.equal(fs.readFileSync(path.join(FILES_DIR, u.file.source!), "utf8"));
            expect(u.file.template, u.file.path).to.equal(undefined);
        }
    });

    it("are each used by some part", () => {
        const usedTemplates = new Set(uses.filter((u) => u.kind === "template").map((u) => u.source));
        expect(
            templatesOnDisk.filter((t) => !usedTemplates.has(t)),
            "templates no part renders",
        ).to.deep.equal([]);
        const usedPlain = new Set(uses.filter((u) => u.kind === "plain file").map((u) => u.source));
        expect(
            plainOnDisk.filter((f) => !usedPlain.has(f)),
            "plain files no part writes",
        ).to.deep.equal([]);
    });

    it("exist for every path a part renders or copies", () => {
        for (const u of uses) {
            const dir = u.kind === "template" ? TEMPLATE_DIR : FILES_DIR;
            expect(fs.existsSync(path.join(dir, u.source)), `${u.part}: ${u.kind} ${u.source}`).to.equal(true);
        }
    });

    it("sit in the folder of the part that uses them", () => {
        for (const u of uses) expect(u.source.split("/")[0], u.source).to.equal(u.part);
    });

    it("are named after the gateway file they become (basename, and the gateway's directory where a subfolder names one)", () => {
        expect(uses.length).to.be.at.least(20);
        for (const u of uses) {
            expect(path.basename(u.name), `${u.source} -> ${u.file}`).to.equal(path.basename(u.file));
            // ipsec/ipsec.service.d/vpn-gateway.conf -> /etc/systemd/system/ipsec.service.d/vpn-gateway.conf
            const inPart = u.name.split("/").slice(1).join("/");
            expect(u.file.endsWith(`/${inPart}`), `${u.source} -> ${u.file}`).to.equal(true);
        }
    });

    it("keep the gateway's directory where two would share a name", () => {
        const all = [...templatesOnDisk.map((t) => t.slice(0, -".mustache".length)), ...plainOnDisk];
        const names = all.map((t) => path.basename(t));
        const shared = names.filter((n, i) => names.indexOf(n) !== i);
        expect(shared).to.include("vpn-gateway.conf");
        for (const t of all.filter((t) => shared.includes(path.basename(t)))) expect(t.split("/"), t).to.have.length.greaterThan(2);
    });

    it("leave the agent out: it is built from agent/, not a template or a plain file", () => {
        for (const f of [...templatesOnDisk, ...plainOnDisk]) expect(path.basename(f), f).not.to.match(/^vpn-gateway-sync(\.mustache)?$/);
        expect(fs.existsSync(path.join(TEMPLATE_DIR, "..", "agent", "vpn_gateway_agent", "__init__.py"))).to.equal(true);
    });
});
