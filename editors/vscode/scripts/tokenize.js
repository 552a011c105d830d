// Tokenize a file with the rolegraph TextMate grammar, as VS Code does (vscode-textmate
// and the Oniguruma regular expressions VS Code uses), and print each line's tokens with
// their scopes as JSON: [[{"text": "role", "scopes": ["source.rolegraph", ...]}, ...], ...].
//
//   node scripts/tokenize.js ../textmate/rolegraph.tmLanguage.json file.agent
"use strict";

const fs = require("fs");
const path = require("path");
const textmate = require("vscode-textmate");
const oniguruma = require("vscode-oniguruma");

async function registry(grammarPath) {
  const wasm = fs.readFileSync(path.join(path.dirname(require.resolve("vscode-oniguruma")), "onig.wasm"));
  await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
  return new textmate.Registry({
    onigLib: Promise.resolve({
      createOnigScanner: (patterns) => new oniguruma.OnigScanner(patterns),
      createOnigString: (text) => new oniguruma.OnigString(text),
    }),
    loadGrammar: async (scopeName) =>
      scopeName === "source.rolegraph"
        ? textmate.parseRawGrammar(fs.readFileSync(grammarPath, "utf8"), grammarPath)
        : null,
  });
}

async function tokenize(grammarPath, text) {
  const grammar = await (await registry(grammarPath)).loadGrammar("source.rolegraph");
  let state = textmate.INITIAL;
  return text.split("\n").map((line) => {
    const result = grammar.tokenizeLine(line, state);
    state = result.ruleStack;
    return result.tokens.map((t) => ({ text: line.slice(t.startIndex, t.endIndex), scopes: t.scopes }));
  });
}

module.exports = { tokenize };

if (require.main === module) {
  const [grammarPath, file] = process.argv.slice(2);
  tokenize(grammarPath, fs.readFileSync(file, "utf8")).then(
    (lines) => process.stdout.write(JSON.stringify(lines) + "\n"),
    (error) => {
      process.stderr.write(String(error.stack || error) + "\n");
      process.exit(1);
    },
  );
}
