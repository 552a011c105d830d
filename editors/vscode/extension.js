// The rolegraph extension: starts `rolegraph lsp` (the language server of the Python
// package, installed with `pip install 'rolegraph[lsp]'`) for `.agent` files.
"use strict";

const vscode = require("vscode");
const { LanguageClient, TransportKind } = require("vscode-languageclient/node");

let client;

function activate(context) {
  const settings = vscode.workspace.getConfiguration("rolegraph");
  const command = settings.get("server.command") || "rolegraph";
  const root = settings.get("server.root") || undefined;
  const server = { command, args: ["lsp"], transport: TransportKind.stdio };
  client = new LanguageClient(
    "rolegraph",
    "rolegraph",
    { run: server, debug: server },
    {
      documentSelector: [{ scheme: "file", language: "rolegraph" }, { scheme: "untitled", language: "rolegraph" }],
      initializationOptions: root ? { root } : {},
    },
  );
  context.subscriptions.push({ dispose: () => client && client.stop() });
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
