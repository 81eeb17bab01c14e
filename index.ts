// `pulumi up` entry point: an IPsec/L2TP VPN gateway on EC2 from this stack's config.
import * as pulumi from "@pulumi/pulumi";
import { deploy, rawConfigFromPulumi, secretsStoredInPlain } from "./components/aws/deploy";

const raw = rawConfigFromPulumi();
export = deploy(raw, pulumi.getStack(), secretsStoredInPlain(raw));
