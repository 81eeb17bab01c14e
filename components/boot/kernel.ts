// Kernel: the modules L2TP/IPsec needs, made available on every boot and checked on first boot.
import { BootComponent, bootFile, templateFile } from "./bootFile";

/** Needed: pppd cannot run without ppp_generic; Libreswan's SAs need ESP and the XFRM netlink interface. */
export const REQUIRED_MODULES = ["ppp_generic", "esp4", "xfrm_user"];
/** The kernel L2TP data path xl2tpd prefers (l2tp_ppp pulls pppox); without it xl2tpd runs L2TP in user space. */
export const KERNEL_L2TP_MODULES = ["l2tp_core", "l2tp_netlink", "l2tp_ppp"];
/** What user-space L2TP needs instead: pppd on a pty uses the async PPP line discipline. */
export const USERSPACE_L2TP_MODULES = ["ppp_async"];
/** Loaded at every boot (systemd-modules-load): what a tunnel was seen to use. */
export const KERNEL_MODULES = ["ppp_generic", "pppox", ...KERNEL_L2TP_MODULES, "esp4", "xfrm_user"];

export const KERNEL_TOOL = "/usr/local/sbin/vpn-gateway-kernel";
/**
 * cloud-init runs its per-boot scripts before runcmd on every boot, and on first boot after the
 * packages and deferred files are in place. A reboot there leaves runcmd (scripts_user) for the
 * next boot, which is how the Debian kernel switch finishes the first boot after one reboot.
 */
export const KERNEL_PER_BOOT = "/var/lib/cloud/scripts/per-boot/vpn-gateway-kernel";

export function kernel(): BootComponent {
    return {
        packages: [],
        files: [
            templateFile("/etc/modules-load.d/vpn-gateway.conf", "0644", "kernel/modules-load.d/vpn-gateway.conf.mustache", { modules: KERNEL_MODULES }),
            templateFile(KERNEL_TOOL, "0755", "kernel/vpn-gateway-kernel.mustache", {
                required: REQUIRED_MODULES.join(" "),
                kernelL2tp: KERNEL_L2TP_MODULES.join(" "),
                userspaceL2tp: USERSPACE_L2TP_MODULES.join(" "),
            }),
            bootFile(KERNEL_PER_BOOT, "0755", `#!/bin/sh\nexec ${KERNEL_TOOL} prepare\n`),
        ],
        // First in runcmd: an image that still cannot carry L2TP stops the setup there.
        commands: [[KERNEL_TOOL, "check"]],
        services: [],
    };
}
