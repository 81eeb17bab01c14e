// The gateway's kernel step (templates/kernel/vpn-gateway-kernel.mustache), run by bash against
// stand-ins for the system commands it uses: which modules load, which packages apt offers, what
// GRUB lists.
// The VM suite proves the same paths on real images (ubuntu_extra_modules,
// ubuntu_minimal_extra_modules, debian_kernel_switched, reboot_kernel_not_redone).
import { expect } from "chai";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { KERNEL_TOOL, kernel } from "../../components/boot/kernel";

interface World {
    kver: string;
    /** Modules modprobe can load now. */
    modules: string[];
    /** Packages apt offers, with the modules (or /boot files) installing them brings. */
    offered: Record<string, { modules?: string[]; files?: string[]; depends?: string }>;
    installed?: string[];
    grubCfg?: string;
    state?: string[];
}

const GENERIC = "6.1.0-50-amd64";
const CLOUD = "6.1.0-50-cloud-amd64";
const ALL = ["ppp_generic", "pppox", "ppp_async", "l2tp_core", "l2tp_netlink", "l2tp_ppp", "esp4", "xfrm_user"];
const WITHOUT_L2TP = ALL.filter((m) => !m.startsWith("l2tp"));
const WITHOUT_PPP = ["esp4", "xfrm_user"];
const GRUB_CFG = [
    "menuentry 'Debian GNU/Linux' --class debian $menuentry_id_option 'gnulinux-simple-u1' {",
    "}",
    "submenu 'Advanced options for Debian GNU/Linux' $menuentry_id_option 'gnulinux-advanced-u1' {",
    `\tmenuentry 'Debian GNU/Linux, with Linux ${CLOUD}' --class debian $menuentry_id_option 'gnulinux-${CLOUD}-advanced-u1' {`,
    "\t}",
    `\tmenuentry 'Debian GNU/Linux, with Linux ${GENERIC}' --class debian $menuentry_id_option 'gnulinux-${GENERIC}-advanced-u1' {`,
    "\t}",
    "}",
].join("\n");

// Stand-ins: each logs its call to calls.log and answers from the files of the world.
const STUBS: Record<string, string> = {
    uname: `echo "$(cat "$W/kver")"`,
    modprobe: `m="\${@: -1}"; grep -qx "$m" "$W/modules"`,
    depmod: `true`,
    "apt-cache": `[ -e "$W/offered/$2" ] && echo "  Candidate: 1.0" || echo "  Candidate: (none)"`,
    "apt-get": [
        `case "$1" in update) exit 0 ;; esac`,
        `op=""; for a in "$@"; do case "$a" in install|remove|purge) op=$a ;; -*) ;; *) [ -n "$op" ] && pkgs="$pkgs $a" ;; esac; done`,
        `for p in $pkgs; do`,
        `  if [ "$op" = install ]; then`,
        `    [ -e "$W/offered/$p" ] || { echo "E: Unable to locate package $p" >&2; exit 100; }`,
        `    cat "$W/offered/$p.modules" >> "$W/modules" 2>/dev/null; echo "$p" >> "$W/installed"`,
        `    while read -r f; do mkdir -p "$(dirname "$ROOTDIR/$f")"; touch "$ROOTDIR/$f"; done < "$W/offered/$p.files" 2>/dev/null || true`,
        `  else grep -vx "$p" "$W/installed" > "$W/installed.new"; mv "$W/installed.new" "$W/installed"; fi`,
        `done`,
    ].join("\n"),
    "dpkg-query": [
        `fmt="$2"; shift 2`,
        `case "$fmt" in`,
        `  *Depends*) cat "$W/offered/$1.depends" 2>/dev/null ;;`,
        `  *Package*) grep -x "$(echo "$1" | sed 's/\\*/.*/g')" "$W/installed" | sed 's/$/ install ok installed/' ;;`,
        `  *) grep -qx "$1" "$W/installed" && printf 'install ok installed' ;;`,
        `esac`,
    ].join("\n"),
    dpkg: `echo amd64`,
    "update-grub": `true`,
    "grub-reboot": `true`,
    systemctl: `true`,
    sleep: `true`,
    sync: `true`,
};

function runTool(world: World, mode = "prepare") {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kernel-tool-"));
    const w = path.join(dir, "world");
    const bin = path.join(dir, "bin");
    const root = path.join(dir, "root");
    for (const d of [w, bin, root, path.join(w, "offered")]) fs.mkdirSync(d, { recursive: true });
    fs.writeFileSync(path.join(w, "kver"), world.kver);
    fs.writeFileSync(path.join(w, "modules"), world.modules.map((m) => `${m}\n`).join(""));
    fs.writeFileSync(path.join(w, "installed"), (world.installed ?? []).map((p) => `${p}\n`).join(""));
    for (const [pkg, what] of Object.entries(world.offered)) {
        fs.writeFileSync(path.join(w, "offered", pkg), "");
        if (what.modules) fs.writeFileSync(path.join(w, "offered", `${pkg}.modules`), what.modules.map((m) => `${m}\n`).join(""));
        if (what.files) fs.writeFileSync(path.join(w, "offered", `${pkg}.files`), what.files.map((f) => `${f}\n`).join(""));
        if (what.depends) fs.writeFileSync(path.join(w, "offered", `${pkg}.depends`), what.depends);
    }
    if (world.grubCfg) {
        fs.mkdirSync(path.join(root, "boot", "grub"), { recursive: true });
        fs.writeFileSync(path.join(root, "boot", "grub", "grub.cfg"), world.grubCfg);
    }
    for (const s of world.state ?? []) {
        fs.mkdirSync(path.join(root, "var/lib/vpn-gateway/kernel"), { recursive: true });
        fs.writeFileSync(path.join(root, "var/lib/vpn-gateway/kernel", s), "earlier boot\n");
    }
    for (const [name, body] of Object.entries(STUBS)) {
        fs.writeFileSync(path.join(bin, name), `#!/bin/bash\necho "${name} $*" >> "$W/calls.log"\n${body}\n`, { mode: 0o755 });
    }
    const tool = kernel().files.find((f) => f.path === KERNEL_TOOL)!.content;
    fs.writeFileSync(path.join(dir, "tool"), tool, { mode: 0o755 });
    const r = spawnSync("bash", [path.join(dir, "tool"), mode], {
        env: { PATH: `${bin}:/usr/bin:/bin`, W: w, ROOTDIR: root, VPN_GATEWAY_KERNEL_ROOT: root },
        encoding: "utf8",
    });
    const calls = fs.existsSync(path.join(w, "calls.log")) ? fs.readFileSync(path.join(w, "calls.log"), "utf8").split("\n") : [];
    const installed = fs.readFileSync(path.join(w, "installed"), "utf8").split("\n").filter(Boolean);
    const stateDir = path.join(root, "var/lib/vpn-gateway/kernel");
    const state = fs.existsSync(stateDir) ? fs.readdirSync(stateDir) : [];
    return { status: r.status, out: r.stdout + r.stderr, calls, installed, state };
}

const aptCalls = (calls: string[], op: string) => calls.filter((c) => c.startsWith(`apt-get `) && c.split(" ").includes(op));

describe("kernel tool (vpn-gateway-kernel)", () => {
    it("changes nothing on a kernel that has every module", () => {
        const r = runTool({ kver: GENERIC, modules: ALL, offered: { [`linux-modules-extra-${GENERIC}`]: {} } });
        expect(r.status, r.out).to.equal(0);
        expect(r.out).to.contain(`kernel ${GENERIC} can carry L2TP/IPsec (kernel L2TP)`);
        expect(aptCalls(r.calls, "install")).to.deep.equal([]);
    });

    it("Ubuntu layout: installs linux-modules-extra for the running kernel and its flavour's meta package", () => {
        const kver = "6.8.0-1015-aws";
        const r = runTool({
            kver,
            modules: WITHOUT_L2TP,
            offered: { [`linux-modules-extra-${kver}`]: { modules: ["l2tp_core", "l2tp_netlink", "l2tp_ppp"] }, "linux-modules-extra-aws": {} },
        });
        expect(r.status, r.out).to.equal(0);
        expect(r.installed).to.include.members([`linux-modules-extra-${kver}`, "linux-modules-extra-aws"]);
        expect(r.out).to.contain(`kernel ${kver} can carry L2TP/IPsec (kernel L2TP)`);
    });

    it("Ubuntu layout without a meta package: installs the running kernel's extras and says so", () => {
        const kver = "6.8.0-45-generic";
        const r = runTool({
            kver,
            modules: WITHOUT_L2TP,
            offered: { [`linux-modules-extra-${kver}`]: { modules: ["l2tp_core", "l2tp_netlink", "l2tp_ppp"] } },
        });
        expect(r.status, r.out).to.equal(0);
        expect(r.installed).to.deep.equal([`linux-modules-extra-${kver}`]);
        expect(r.out).to.contain("no linux-modules-extra-generic package");
    });

    it("a minimal kernel gets PPP from the extras too", () => {
        const kver = "6.8.0-1015-aws";
        const r = runTool({
            kver,
            modules: WITHOUT_PPP,
            offered: { [`linux-modules-extra-${kver}`]: { modules: ["ppp_generic", "pppox", "ppp_async", "l2tp_ppp"] } },
        });
        expect(r.status, r.out).to.equal(0);
        expect(r.installed).to.deep.equal([`linux-modules-extra-${kver}`]);
    });

    it("no kernel L2TP and nothing to install: works with user-space L2TP, requires nothing more", () => {
        const r = runTool({ kver: GENERIC, modules: WITHOUT_L2TP, offered: {} });
        expect(r.status, r.out).to.equal(0);
        expect(r.out).to.contain("no kernel L2TP: xl2tpd uses user-space L2TP");
        expect(aptCalls(r.calls, "install")).to.deep.equal([]);
    });

    it("fails visibly, naming the modules, when PPP is missing and nothing offers it", () => {
        const r = runTool({ kver: "6.8.0-1015-aws", modules: WITHOUT_PPP, offered: {} });
        expect(r.status).to.equal(1);
        expect(r.out).to.match(/ERROR: kernel 6\.8\.0-1015-aws cannot load ppp_generic; L2TP\/IPsec needs PPP/);
        expect(runTool({ kver: "6.8.0-1015-aws", modules: WITHOUT_PPP, offered: {} }, "check").status).to.equal(1);
    });

    describe("Debian's cloud kernel", () => {
        const world = (): World => ({
            kver: CLOUD,
            modules: WITHOUT_PPP,
            installed: ["linux-image-cloud-amd64", `linux-image-${CLOUD}`],
            offered: {
                "linux-image-amd64": { depends: `linux-image-${GENERIC} (= 6.1.176-1)`, files: [`boot/vmlinuz-${GENERIC}`] },
            },
            grubCfg: GRUB_CFG,
        });

        it("installs the generic kernel, drops the cloud meta package, boots the generic entry once and reboots", () => {
            const r = runTool(world());
            expect(r.installed).to.include("linux-image-amd64");
            expect(r.installed).not.to.include("linux-image-cloud-amd64");
            // the running cloud kernel itself stays until the generic one has booted
            expect(r.installed).to.include(`linux-image-${CLOUD}`);
            expect(r.calls).to.include(`grub-reboot gnulinux-advanced-u1>gnulinux-${GENERIC}-advanced-u1`);
            expect(r.calls).to.include("systemctl reboot");
            expect(r.state).to.deep.equal(["switched"]);
            expect(r.out).to.contain(`rebooting into ${GENERIC}`);
            // the stand-in reboot returns; the real one never does, and a reboot that never comes fails
            expect(r.status).to.equal(1);
            expect(r.out).to.contain("did not happen");
        });

        it("on the generic kernel's boot: removes the cloud kernel once, then does nothing", () => {
            const w = {
                ...world(),
                kver: GENERIC,
                modules: ALL,
                installed: ["linux-image-amd64", `linux-image-${GENERIC}`, `linux-image-${CLOUD}`],
                state: ["switched"],
            };
            const r = runTool(w);
            expect(r.status, r.out).to.equal(0);
            expect(r.installed).not.to.include(`linux-image-${CLOUD}`);
            expect(r.state).to.include("cloud-kernels-removed");
            const again = runTool({ ...w, installed: ["linux-image-amd64", `linux-image-${GENERIC}`], state: ["switched", "cloud-kernels-removed"] });
            expect(again.status, again.out).to.equal(0);
            expect(aptCalls(again.calls, "install").concat(aptCalls(again.calls, "purge"))).to.deep.equal([]);
            expect(again.calls).not.to.include("systemctl reboot");
        });

        it("fails visibly instead of rebooting again when GRUB booted the cloud kernel after the switch", () => {
            const r = runTool({ ...world(), state: ["switched"] });
            expect(r.status).to.equal(1);
            expect(r.out).to.contain("GRUB did not boot it");
            expect(r.calls).not.to.include("systemctl reboot");
        });

        it("fails visibly when GRUB has no entry for the generic kernel", () => {
            const r = runTool({ ...world(), grubCfg: "menuentry 'x' $menuentry_id_option 'other' {\n}\n" });
            expect(r.status).to.equal(1);
            expect(r.out).to.contain(`no GRUB menu entry for ${GENERIC}`);
            expect(r.calls).not.to.include("systemctl reboot");
        });
    });
});
