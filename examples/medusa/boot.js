// Boots a MedusaApp holding the inventory module (and, when asked, the
// in-memory workflow engine that a Medusa server registers by default),
// outside any Medusa server. Shared by migrate.js
// and order.js. Everything Medusa logs goes to stderr: stdout is stockrace's.
"use strict";

const { MedusaApp } = require("@medusajs/framework/modules-sdk");
const {
  Modules,
  ContainerRegistrationKeys,
} = require("@medusajs/framework/utils");

function databaseUrl() {
  if (process.env.DATABASE_URL) return process.env.DATABASE_URL;
  const e = process.env;
  const user = encodeURIComponent(e.PGUSER || "postgres");
  const pass = e.PGPASSWORD ? ":" + encodeURIComponent(e.PGPASSWORD) : "";
  return `postgres://${user}${pass}@${e.PGHOST || "localhost"}:${
    e.PGPORT || 5432
  }/${e.PGDATABASE || "postgres"}`;
}

// Medusa's Logger interface, printing to stderr. Debug output only with
// STOCKRACE_DEBUG set.
function stderrLogger() {
  const debug = !!process.env.STOCKRACE_DEBUG;
  const say = (level) => (...args) => {
    if (level === "debug" && !debug) return;
    const text = args
      .map((a) => (a instanceof Error ? a.stack : String(a)))
      .join(" ");
    process.stderr.write(`[medusa ${level}] ${text}\n`);
  };
  return {
    log: say("info"),
    info: say("info"),
    warn: say("warn"),
    error: say("error"),
    debug: say("debug"),
    http: say("debug"),
    verbose: say("debug"),
    silly: say("debug"),
    panic: say("error"),
    success: say("info"),
    failure: say("error"),
    activity: (m) => (say("info")(m), String(Date.now())),
    progress: say("info"),
    shouldLog: (l) => debug || l !== "debug",
    setLogLevel: () => {},
    unsetLogLevel: () => {},
  };
}

// MedusaApp looks for the link modules of the full @medusajs/medusa package,
// which is not installed (no links are needed for inventory alone), and
// console.warn's the whole MODULE_NOT_FOUND error. Say it in one line.
const consoleWarn = console.warn;
console.warn = (first, ...rest) => {
  if (typeof first === "string" && first.startsWith("Error initializing link modules")) {
    process.stderr.write("[medusa warn] link modules not installed (harmless here)\n");
    return;
  }
  consoleWarn(first, ...rest);
};

async function bootApp({ workflows = false } = {}) {
  const modulesConfig = {
    [Modules.INVENTORY]: { resolve: "@medusajs/inventory" },
  };
  if (workflows) {
    modulesConfig[Modules.WORKFLOW_ENGINE] = {
      resolve: "@medusajs/workflow-engine-inmemory",
    };
  }
  const app = await MedusaApp({
    // Module names resolve from here, whatever the caller's working directory.
    cwd: __dirname,
    modulesConfig,
    sharedResourcesConfig: { database: { clientUrl: databaseUrl() } },
    injectedDependencies: {
      [ContainerRegistrationKeys.LOGGER]: stderrLogger(),
    },
  });
  return app;
}

module.exports = { bootApp, databaseUrl, Modules, ContainerRegistrationKeys };
