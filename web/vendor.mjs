// Copies the console's third-party files, as built by their authors and published on the npm
// registry, from node_modules into the Python package (src/deconfliction/web/static/vendor).
// Run by `make vendor` after `npm ci`; the copies are committed, so neither a build nor the
// network is needed to install or run the hub. Source-map comments are dropped (the maps are
// not shipped) and each package's licence is copied beside its files.
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const nm = join(here, "node_modules");
const out = join(here, "..", "src", "deconfliction", "web", "static", "vendor");

const files = {
  leaflet: [
    ["dist/leaflet.js", "leaflet.js"],
    ["dist/leaflet.css", "leaflet.css"],
    ["dist/images/layers.png", "images/layers.png"],
    ["dist/images/layers-2x.png", "images/layers-2x.png"],
    ["dist/images/marker-icon.png", "images/marker-icon.png"],
    ["dist/images/marker-icon-2x.png", "images/marker-icon-2x.png"],
    ["dist/images/marker-shadow.png", "images/marker-shadow.png"],
    ["LICENSE", "LICENSE"],
  ],
  "@geoman-io/leaflet-geoman-free": [
    ["dist/leaflet-geoman.min.js", "leaflet-geoman.min.js"],
    ["dist/leaflet-geoman.css", "leaflet-geoman.css"],
    ["LICENSE", "LICENSE"],
  ],
  "topojson-client": [
    ["dist/topojson-client.min.js", "topojson-client.min.js"],
    ["LICENSE", "LICENSE"],
  ],
  // Natural Earth 1:50m countries and land (public domain), as TopoJSON.
  "world-atlas": [
    ["countries-50m.json", "countries-50m.json"],
    ["LICENSE", "LICENSE"],
  ],
};

const stripMaps = (text) => text.replace(/\n?\/[/*][#@] sourceMappingURL=[^\n]*(\*\/)?\s*$/gm, "\n");

rmSync(out, { recursive: true, force: true });
const versions = {};
for (const [pkg, list] of Object.entries(files)) {
  const meta = JSON.parse(readFileSync(join(nm, pkg, "package.json"), "utf8"));
  const dest = join(out, pkg.split("/").pop());
  versions[pkg] = { version: meta.version, license: meta.license, folder: pkg.split("/").pop() };
  for (const [from, to] of list) {
    const target = join(dest, to);
    mkdirSync(dirname(target), { recursive: true });
    if (/\.(js|css)$/.test(from)) {
      writeFileSync(target, stripMaps(readFileSync(join(nm, pkg, from), "utf8")));
    } else {
      copyFileSync(join(nm, pkg, from), target);
    }
  }
}
writeFileSync(join(out, "VERSIONS.json"), JSON.stringify(versions, null, 2) + "\n");
console.log(`vendored into ${out}:`, Object.entries(versions).map(([k, v]) => `${k}@${v.version}`).join(", "));
