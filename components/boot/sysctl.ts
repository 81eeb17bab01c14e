// sysctl: forwarding on, redirects off, reverse-path filtering off for decapsulated traffic.
import { BootComponent, bootFile, renderTemplate } from "./bootFile";

export const SYSCTL_FILE = "/etc/sysctl.d/60-vpn-gateway.conf";

export function sysctl(): BootComponent {
    return {
        packages: [],
        files: [bootFile(SYSCTL_FILE, "0644", renderTemplate("60-vpn-gateway.conf", {}))],
        commands: [["sysctl", "--load", SYSCTL_FILE]],
        services: [],
    };
}
