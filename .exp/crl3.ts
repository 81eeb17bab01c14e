import * as fs from "fs";
import { crlDer } from "../components/pki/crl";
(async () => {
  const s = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
  for (const [n, revoked] of [[3, []], [4, s.revoked]] as const) {
    const t = { ...s, revoked, crlNumber: n + 10, updatedAt: new Date(Date.now() + n * 1000).toISOString().replace(/\.\d+Z$/, ".000Z") };
    fs.writeFileSync(`/tmp/exp4/crl${n}.der`, await crlDer(t));
  }
})();
