// What the commands under cli/ share: reading the command line, and writing files that hold secrets.
import * as fs from "fs";

/** The options parse() reads from the command line, or undefined once its error is printed (exit 2, a usage error). */
export function commandLine(parse: (argv: string[]) => Record<string, string>): Record<string, string> | undefined {
    try {
        return parse(process.argv.slice(2));
    } catch (error) {
        console.error((error as Error).message);
        return undefined;
    }
}

/** Written mode 0600, an existing regular file's mode too: keys, passwords and parameters. */
export function writePrivate(file: string, content: string | Buffer): void {
    fs.writeFileSync(file, content, { mode: 0o600 });
    if (fs.statSync(file).isFile()) fs.chmodSync(file, 0o600);
}
