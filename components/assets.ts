// Where the package's own files are (templates, the gateway's agent, the IKE probe), whether this
// module runs from the source tree under ts-node (components/assets.ts) or compiled from an
// installed package (dist/components/assets.js): the package root is the nearest folder above
// holding this package's package.json.
import * as fs from "fs";
import * as path from "path";

/** The package's name in its package.json: what marks its root. */
export const PACKAGE_NAME = "vpn-gateway";

let root: string | undefined;

/** The folder holding this package's package.json. */
export function packageRoot(): string {
    if (root) return root;
    for (let dir = __dirname; ; dir = path.dirname(dir)) {
        const manifest = path.join(dir, "package.json");
        if (fs.existsSync(manifest) && JSON.parse(fs.readFileSync(manifest, "utf8")).name === PACKAGE_NAME) return (root = dir);
        if (path.dirname(dir) === dir) throw new Error(`cannot find the ${PACKAGE_NAME} package's package.json above ${__dirname}`);
    }
}

/** A file or folder of the package, by its path relative to the package root. */
export function assetPath(...parts: string[]): string {
    return path.join(packageRoot(), ...parts);
}
