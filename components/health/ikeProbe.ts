// A minimal IKEv1 Main Mode initiator: sends the first message with one current proposal and
// recognises the gateway's answer. Only a running pluto with its port reachable answers, so an
// answer is the gateway's readiness seen from outside, without SSH and without credentials.
import * as crypto from "crypto";
import * as dgram from "dgram";

const ISAKMP_HEADER = 28;
const PAYLOAD_SA = 1;
const PAYLOAD_NOTIFY = 11;
const EXCHANGE_MAIN_MODE = 2;
const EXCHANGE_INFORMATIONAL = 5;

/** SA attribute in TV form (attribute format bit set). */
function tv(type: number, value: number): Buffer {
    const b = Buffer.alloc(4);
    b.writeUInt16BE(0x8000 | type, 0);
    b.writeUInt16BE(value, 2);
    return b;
}

/** Main Mode message 1 offering AES-256-CBC, SHA2-256, PSK, MODP2048: what the gateway accepts. */
export function mainModeRequest(initiatorCookie: Buffer): Buffer {
    if (initiatorCookie.length !== 8) throw new Error("the initiator cookie is 8 bytes");
    const attributes = Buffer.concat([
        tv(1, 7), // encryption: AES-CBC
        tv(14, 256), // key length
        tv(2, 4), // hash: SHA2-256
        tv(3, 1), // authentication: pre-shared key
        tv(4, 14), // group: MODP2048
        tv(11, 1), // life type: seconds
        tv(12, 28800), // life duration
    ]);
    const transform = Buffer.concat([Buffer.from([0, 0, 0, 0, 1, 1, 0, 0]), attributes]); // #1, KEY_IKE
    transform.writeUInt16BE(transform.length, 2);
    const proposal = Buffer.concat([Buffer.from([0, 0, 0, 0, 1, 1, 0, 1]), transform]); // #1, PROTO_ISAKMP, no SPI, 1 transform
    proposal.writeUInt16BE(proposal.length, 2);
    const sa = Buffer.concat([Buffer.from([0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1]), proposal]); // DOI IPsec, SIT_IDENTITY_ONLY
    sa.writeUInt16BE(sa.length, 2);
    const header = Buffer.alloc(ISAKMP_HEADER);
    initiatorCookie.copy(header, 0);
    header[16] = PAYLOAD_SA;
    header[17] = 0x10; // IKEv1
    header[18] = EXCHANGE_MAIN_MODE;
    header.writeUInt32BE(ISAKMP_HEADER + sa.length, 24);
    return Buffer.concat([header, sa]);
}

export type ProbeAnswer = "accepted" | "notified" | undefined;

/**
 * What a datagram says about our request: "accepted" (Main Mode reply choosing a proposal),
 * "notified" (an informational reply, e.g. NO-PROPOSAL-CHOSEN: pluto is up but refused the offer),
 * or undefined when it is not an answer to this request.
 */
export function classifyAnswer(datagram: Buffer, initiatorCookie: Buffer): ProbeAnswer {
    if (datagram.length < ISAKMP_HEADER || !datagram.subarray(0, 8).equals(initiatorCookie)) return undefined;
    if (datagram[17] >> 4 !== 1) return undefined;
    if (datagram[18] === EXCHANGE_MAIN_MODE && datagram[16] === PAYLOAD_SA && !datagram.subarray(8, 16).equals(Buffer.alloc(8))) return "accepted";
    if (datagram[18] === EXCHANGE_INFORMATIONAL || datagram[16] === PAYLOAD_NOTIFY) return "notified";
    return undefined;
}

export interface ProbeResult {
    ready: boolean;
    /** Seconds from the first request to the answer, or to giving up. */
    seconds: number;
    attempts: number;
    detail: string;
}

export interface ProbeOptions {
    host: string;
    port?: number;
    /** Give up after this many seconds. */
    timeoutSeconds: number;
    /** Seconds between requests. */
    intervalSeconds?: number;
    onAttempt?: (attempt: number, elapsed: number) => void;
}

/** Sends a fresh request every interval until the gateway answers or the timeout passes. */
export function probe(options: ProbeOptions): Promise<ProbeResult> {
    const port = options.port ?? 500;
    const interval = (options.intervalSeconds ?? 5) * 1000;
    const started = Date.now();
    const elapsed = () => Math.round((Date.now() - started) / 100) / 10;
    const cookies: Buffer[] = [];
    let lastError = "";
    return new Promise((resolve) => {
        const socket = dgram.createSocket("udp4");
        let timer: NodeJS.Timeout | undefined;
        const finish = (result: ProbeResult) => {
            if (timer) clearInterval(timer);
            clearTimeout(deadline);
            socket.close();
            resolve(result);
        };
        const send = () => {
            const cookie = crypto.randomBytes(8);
            cookies.push(cookie);
            options.onAttempt?.(cookies.length, elapsed());
            socket.send(mainModeRequest(cookie), port, options.host, (error) => {
                if (error) lastError = error.message;
            });
        };
        socket.on("message", (datagram, remote) => {
            for (const cookie of cookies) {
                const answer = classifyAnswer(datagram, cookie);
                if (answer) {
                    const what = answer === "accepted" ? "accepted the IKE proposal" : "answered IKE (and refused the probe's offer)";
                    finish({ ready: true, seconds: elapsed(), attempts: cookies.length, detail: `${remote.address}:${remote.port} ${what}` });
                    return;
                }
            }
        });
        socket.on("error", (error) => {
            lastError = error.message; // e.g. ICMP port unreachable surfaces as ECONNREFUSED on some systems
        });
        const deadline = setTimeout(() => {
            const seen = lastError ? `; last error: ${lastError}` : "";
            finish({
                ready: false,
                seconds: elapsed(),
                attempts: cookies.length,
                detail:
                    `no IKE answer from ${options.host}:${port} in ${options.timeoutSeconds} s (${cookies.length} requests)${seen}: ` +
                    `pluto is not running, the instance is still configuring itself, or the security group does not allow this machine`,
            });
        }, options.timeoutSeconds * 1000);
        socket.bind(0, () => {
            send();
            timer = setInterval(send, interval);
        });
    });
}
