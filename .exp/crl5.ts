import * as fs from "fs";
import { crlDer } from "../components/pki/crl";
(async () => {
  const s = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
  const now = Date.now();
  const a = { ...s, crlNumber: 30, updatedAt: new Date(now - 5000).toISOString().replace(/\.\d+Z$/, ".000Z") };
  const b = { ...s, crlNumber: 31, revoked: [...s.revoked, { serial: "77", name: "carol", revokedAt: new Date(now).toISOString().replace(/\.\d+Z$/, ".000Z"), reason: "unspecified" }], updatedAt: new Date(now).toISOString().replace(/\.\d+Z$/, ".000Z") };
  fs.writeFileSync("/tmp/exp5/crlA.der", await crlDer(a));
  fs.writeFileSync("/tmp/exp5/crlB.der", await crlDer(b));
})();
