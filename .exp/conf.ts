import * as fs from "fs";
import { ipsec } from "../components/boot/ipsec";
import { parseSettings } from "../components/config/settings";
const s = parseSettings({ psk: "x".repeat(20), users: JSON.stringify([{ name: "alice", password: "pw-alice-1" }]) });
for (const os of ["debian-13", "debian-12"] as const) {
  const c = ipsec({ clientPool: s.clientPool, ikev2: s.ikev2, dnsServers: s.dnsServers, os });
  fs.writeFileSync(`/tmp/exp/ipsec.conf.${os}`, c.files.find((f) => f.path === "/etc/ipsec.conf")!.content);
}
