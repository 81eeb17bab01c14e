// sysctl: forwarding on, redirects off, reverse-path filtering off for decapsulated traffic.
import { BootComponent, templateFile } from "./bootFile";

export const SYSCTL_FILE = "/etc/sysctl.d/60-vpn-gateway.conf";

export function sysctl(): BootComponent {
    return {
        packages: [],
        files: [templateFile(SYSCTL_FILE, "0644", "sysctl/60-vpn-gateway.conf.mustache")],
        commands: [["sysctl", "--load", SYSCTL_FILE]],
        services: [],
    };
}
