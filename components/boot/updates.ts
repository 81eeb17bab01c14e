// Updates: unattended security upgrades in a fixed maintenance window, no automatic reboot.
import { BootComponent, plainFile, templateFile } from "./bootFile";

/** When upgrades run (the instance's clock is UTC): 04:00, plus up to 30 minutes of jitter. */
export const MAINTENANCE_WINDOW = "04:00:00";

export function updates(): BootComponent {
    return {
        packages: ["unattended-upgrades"],
        files: [
            plainFile("/etc/apt/apt.conf.d/52vpn-gateway-upgrades", "0644", "updates/52vpn-gateway-upgrades"),
            templateFile(
                "/etc/systemd/system/apt-daily-upgrade.timer.d/vpn-gateway.conf",
                "0644",
                "updates/apt-daily-upgrade.timer.d/vpn-gateway.conf.mustache",
                {
                    window: MAINTENANCE_WINDOW,
                },
            ),
        ],
        commands: [],
        services: [],
    };
}
