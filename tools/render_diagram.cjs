// Render Graphviz DOT files to SVG and PNG with nothing but node: Graphviz compiled to wasm
// (@viz-js/viz) lays out and draws the SVG, resvg (@resvg/resvg-js, a prebuilt binary inside the npm
// package) rasterizes it. Both come from the npm registry through `npm ci`, so `make diagram` needs
// no root, no apt and no system Graphviz (Debian 12's dot is 2.42; this is 16.x).
// Usage: node tools/render_diagram.cjs FILE.dot...  -> FILE.svg and FILE.png beside each.
"use strict";
const fs = require("node:fs");
const { instance } = require("@viz-js/viz");
const { Resvg } = require("@resvg/resvg-js");

// The DOT asks for DejaVu Sans: Graphviz 16 measures its labels with that font's metrics, and resvg draws
// them with the same font, read from the npm package dejavu-fonts-ttf (pinned with the rest) rather than
// the system, so a machine without fonts draws the same picture.
const path = require("node:path");
const FONTS = path.dirname(require.resolve("dejavu-fonts-ttf/package.json")) + "/ttf";
const FONT = {
  loadSystemFonts: false,
  fontFiles: ["DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSans-Oblique.ttf"].map((f) => `${FONTS}/${f}`),
  defaultFontFamily: "DejaVu Sans",
  sansSerifFamily: "DejaVu Sans",
};

async function main(files) {
  const viz = await instance();
  for (const file of files) {
    const base = file.replace(/\.dot$/, "");
    // Browsers without DejaVu Sans fall back to Verdana (nearly the same widths), not to a serif face.
    const svg = viz
      .renderString(fs.readFileSync(file, "utf8"), { format: "svg" })
      .replaceAll('font-family="DejaVu Sans"', 'font-family="DejaVu Sans,Verdana,sans-serif"');
    fs.writeFileSync(`${base}.svg`, svg);
    const png = new Resvg(svg, { font: FONT, background: "white", fitTo: { mode: "zoom", value: 1.5 } });
    fs.writeFileSync(`${base}.png`, png.render().asPng());
    console.log(`${base}.svg ${base}.png (Graphviz ${viz.graphvizVersion})`);
  }
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error) => {
    console.error(`render_diagram: ${error.message}`);
    process.exit(1);
  },
);
