// What the commands under cli/ share: reading the command line, and writing files that hold secrets.
import * as fs from "fs";

/** Whether the command line asks for the usage (--help or -h anywhere): printed on stdout, exit 0. */
export function wantsHelp(argv: string[] = process.argv.slice(2)): boolean {
    return argv.includes("--help") || argv.includes("-h");
}

/**
 * The options parse() reads from the command line, or undefined once its error is printed (exit 2,
 * a usage error); "help" when --help asked for the usage, which is printed (exit 0).
 */
export function commandLine(parse: (argv: string[]) => Record<string, string>, usage: string): Record<string, string> | "help" | undefined {
    if (wantsHelp()) {
        console.log(usage);
        return "help";
    }
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
