// Render a `.agent` file as VS Code would highlight it (the rolegraph grammar, through
// vscode-textmate), in an HTML page with VS Code's Dark+ colours; optionally with the
// language server's answers laid over it (a diagnostic's squiggle and message, a hover,
// a completion list), given as JSON. headless Chromium screenshots the page.
//
//   node scripts/render.js GRAMMAR FILE [OVERLAY.json] > page.html
//
// OVERLAY: {"first": the file's line number of the text's first line, less one,
//           "diagnostic": {"line", "start", "end", "message", "severity"},
//           "hover": {"line", "character", "markdown"},
//           "completion": {"line", "character", "items": [{"label", "detail", "kind"}]}}
"use strict";

const fs = require("fs");
const { tokenize } = require("./tokenize");

// Dark+ colours, by scope prefix (the longest prefix that matches wins)
const THEME = [
  ["comment", "#6A9955"],
  ["string", "#CE9178"],
  ["constant.character.escape", "#D7BA7D"],
  ["constant.numeric", "#B5CEA8"],
  ["constant.language", "#569CD6"],
  ["storage.type", "#569CD6"],
  ["keyword.control", "#C586C0"],
  ["keyword.operator.temporal", "#C586C0"],
  ["keyword.operator.logical", "#569CD6"],
  ["keyword.operator", "#D4D4D4"],
  ["keyword.other", "#569CD6"],
  ["entity.name.function", "#DCDCAA"],
  ["entity.name.type", "#4EC9B0"],
  ["entity.name.decorator", "#DCDCAA"],
  ["support.type", "#4EC9B0"],
  ["support.function", "#DCDCAA"],
  ["variable.other.definition", "#4FC1FF"],
  ["variable.other.constant", "#4FC1FF"],
  ["variable.other.property", "#9CDCFE"],
  ["variable", "#9CDCFE"],
  ["punctuation.section.embedded", "#569CD6"],
];

function colour(scopes) {
  let best = null;
  for (const scope of scopes) {
    for (const [prefix, value] of THEME) {
      if ((scope === prefix || scope.startsWith(prefix + ".")) && (!best || prefix.length >= best[0].length)) {
        best = [prefix, value];
      }
    }
  }
  return best ? best[1] : "#D4D4D4";
}

const escape = (text) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

function markdown(text) {
  // enough of Markdown for hovers: fenced code, **bold**, `code`
  return text
    .split(/```(?:rolegraph)?\n?/)
    .map((part, i) =>
      i % 2
        ? `<pre class="code">${escape(part.replace(/\n$/, ""))}</pre>`
        : escape(part)
            .replace(/\*\*([^*]+)\*\*/g, "<b>$1</b>")
            .replace(/`([^`]+)`/g, "<code>$1</code>")
            .replace(/\n\n/g, "<br>"),
    )
    .join("");
}

async function main() {
  const [grammarPath, file, overlayPath] = process.argv.slice(2);
  const text = fs.readFileSync(file, "utf8").replace(/\n$/, "");
  const overlay = overlayPath ? JSON.parse(fs.readFileSync(overlayPath, "utf8")) : {};
  const lines = await tokenize(grammarPath, text);
  const rows = lines.map((tokens, number) => {
    let column = 0;
    const cells = tokens.map((t) => {
      const start = column;
      column += t.text.length;
      const d = overlay.diagnostic;
      const squiggle = d && d.line === number && start < d.end && column > d.start;
      const cls = squiggle ? ` class="${d.severity === 1 ? "error" : "warning"}"` : "";
      return `<span style="color:${colour(t.scopes)}"${cls}>${escape(t.text)}</span>`;
    });
    const shown = number + 1 + (overlay.first || 0);
    return `<div class="line"><span class="number">${shown}</span>${cells.join("")}</div>`;
  });
  const boxes = [];
  const at = (line, character) => `top:${(line + 1) * 19 + 10}px;left:${64 + character * 8.4}px`;
  if (overlay.diagnostic) {
    const d = overlay.diagnostic;
    boxes.push(`<div class="box" style="${at(d.line, d.start)}">${escape(d.message).replace(/\n/g, "<br>")}</div>`);
  }
  if (overlay.hover) {
    const h = overlay.hover;
    boxes.push(`<div class="box" style="${at(h.line, h.character)}">${markdown(h.markdown)}</div>`);
  }
  if (overlay.completion) {
    const c = overlay.completion;
    const items = c.items
      .map((item, i) => `<div class="item${i ? "" : " chosen"}"><span class="label">${escape(item.label)}</span><span class="detail">${escape(item.detail || "")}</span></div>`)
      .join("");
    boxes.push(`<div class="box list" style="${at(c.line, c.character)}">${items}</div>`);
  }
  process.stdout.write(`<!doctype html><meta charset="utf-8"><style>
body { margin: 0; background: #1E1E1E; font: 14px/19px "DejaVu Sans Mono", monospace; color: #D4D4D4; }
.editor { padding: 10px 0; white-space: pre; position: relative; }
.number { display: inline-block; width: 48px; margin-right: 16px; text-align: right; color: #858585; }
.error { text-decoration: underline wavy #F14C4C; text-underline-offset: 3px; }
.warning { text-decoration: underline wavy #CCA700; text-underline-offset: 3px; }
.box { position: absolute; max-width: 640px; white-space: normal; background: #252526; border: 1px solid #454545;
       padding: 6px 10px; font: 13px/18px "DejaVu Sans", sans-serif; color: #CCCCCC; box-shadow: 0 2px 8px #000; }
.box code, .box .code { font-family: "DejaVu Sans Mono", monospace; color: #DCDCAA; }
.box .code { white-space: pre; margin: 4px 0; }
.list { padding: 2px 0; min-width: 280px; }
.item { padding: 1px 10px; font-family: "DejaVu Sans Mono", monospace; }
.item.chosen { background: #04395E; }
.detail { float: right; margin-left: 24px; color: #9D9D9D; }
</style><div class="editor">${rows.join("")}${boxes.join("")}</div>\n`);
}

main().catch((error) => {
  process.stderr.write(String(error.stack || error) + "\n");
  process.exit(1);
});
