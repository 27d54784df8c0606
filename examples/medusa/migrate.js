// stockrace "prepare" command: runs the Medusa inventory module's migrations
// once against the template database named by DATABASE_URL (or PG*): the
// inventory module's tables and the in-memory workflow engine's
// workflow_execution table (the engine reads it when a workflow runs).
"use strict";

const { bootApp } = require("./boot");

async function main() {
  const app = await bootApp({ workflows: true });
  await app.runMigrations();
  await app.onApplicationPrepareShutdown().catch(() => {});
  await app.onApplicationShutdown().catch(() => {});
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`migrate.js: ${(err && err.stack) || err}\n`);
    process.exit(1);
  }
);
