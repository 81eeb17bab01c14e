// `pulumi up` entry point: an IPsec/L2TP VPN gateway on EC2 from this stack's config.
import * as pulumi from "@pulumi/pulumi";
import { deploy, rawConfigFromPulumi } from "./components/deploy";

export = deploy(rawConfigFromPulumi(), pulumi.getStack());
