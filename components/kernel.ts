// Kernel: the modules L2TP/IPsec needs, loaded at boot and checked on first boot.
import { BootComponent, bootFile, renderTemplate } from "./bootFile";

/** What a tunnel was seen to use: kernel L2TP for xl2tpd, PPP, ESP and the XFRM interface. */
export const KERNEL_MODULES = ["ppp_generic", "pppox", "l2tp_core", "l2tp_netlink", "l2tp_ppp", "esp4", "xfrm_user"];

export const CHECK_KERNEL = "/usr/local/sbin/vpn-gateway-check-kernel";

export function kernel(): BootComponent {
    return {
        packages: [],
        files: [
            bootFile("/etc/modules-load.d/vpn-gateway.conf", "0644", renderTemplate("vpn-gateway.conf", { modules: KERNEL_MODULES })),
            bootFile(CHECK_KERNEL, "0755", renderTemplate("vpn-gateway-check-kernel", { modules: KERNEL_MODULES })),
        ],
        commands: [[CHECK_KERNEL]],
        services: [],
    };
}
