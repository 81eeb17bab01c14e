// sysctl: forwarding on, redirects off, reverse-path filtering off for decapsulated traffic.
import { BootComponent, plainFile } from "./bootFile";

export const SYSCTL_FILE = "/etc/sysctl.d/60-vpn-gateway.conf";

export function sysctl(): BootComponent {
    return {
        packages: [],
        files: [plainFile(SYSCTL_FILE, "0644", "sysctl/60-vpn-gateway.conf")],
        commands: [["sysctl", "--load", SYSCTL_FILE]],
        services: [],
    };
}
