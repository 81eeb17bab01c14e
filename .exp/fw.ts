import * as fs from "fs";
import { firewall } from "../components/boot/firewall";
import { parseSettings } from "../components/config/settings";
const s = parseSettings({ psk: "x".repeat(20), users: JSON.stringify([{ name: "alice", password: "pw-alice-1" }]) });
fs.writeFileSync("/tmp/exp2/fw.sh", firewall({ clientPool: s.clientPool, ikev2: s.ikev2, allowClientToClient: false }).files[0].content);
