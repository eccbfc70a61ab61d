// Builds the console into one folder of static files: node console/build.mjs [outdir] (default console/dist).
// hls.js and @noble/hashes are bundled from node_modules: nothing is fetched from a CDN at run time.
import { copyFileSync, mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const outdir = resolve(process.argv[2] || join(here, "dist"));
mkdirSync(outdir, { recursive: true });
await build({
  entryPoints: [join(here, "src", "main.js")],
  outfile: join(outdir, "console.js"),
  bundle: true,
  format: "esm",
  minify: true,
  target: ["es2020"],
  legalComments: "linked",
  logLevel: "warning",
});
copyFileSync(join(here, "src", "index.html"), join(outdir, "index.html"));
copyFileSync(join(here, "src", "console.css"), join(outdir, "console.css"));
console.log(`console built into ${outdir}`);
