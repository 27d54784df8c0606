// One stockrace order against Medusa's inventory module: `node order.js PATH`.
//
// Boots a MedusaApp (no migrations), warms up, prints `stockrace: ready`, runs
// PATH for quantity 1 of the one item at the one location that setup.sql
// creates, prints exactly one outcome line (`stockrace: sold 1`,
// `stockrace: out-of-stock` or `stockrace: failed REASON`) and exits, or,
// told `stockrace: next` on stdin (app files with `reuse = true`), runs again.
// Every statement after the ready line comes from installed Medusa code
// (module service or core-flows workflow), one at a time, on one knex pool.
//
// PATHs:
//   update-levels         read the level, then core-flows'
//                         updateInventoryLevelsWorkflow with the absolute
//                         stocked_quantity = read - 1 (the team's
//                         atomicDecrementInventory()).
//   update-levels-service the same read-modify-write through the module
//                         service's updateInventoryLevels (no workflow).
//   adjust                read the level, then adjustInventory(item, loc, -1).
//   reserve               createReservationItems (quantity 1); Medusa's own
//                         availability check decides out-of-stock.
//   update-levels-locked  the FIX: update-levels inside a transaction on
//                         Medusa's shared knex connection that first takes
//                         pg_advisory_xact_lock(<item key>), so the read and
//                         the workflow's write are one critical section.
"use strict";

const { bootApp, ContainerRegistrationKeys } = require("./boot");

const ITEM = "iitem_stockrace";
const LOCATION = "sloc_stockrace";
const QUANTITY = 1;

const PATHS = {
  "update-levels": { workflows: true },
  "update-levels-service": { workflows: false },
  adjust: { workflows: false },
  reserve: { workflows: false },
  "update-levels-locked": { workflows: true },
};

const path = process.argv[2];
const order = Number(process.env.STOCKRACE_ORDER || 0);

// console.log is synchronous when stdout is a file or a pipe on Linux.
function say(line) {
  console.log(`stockrace: ${line}`);
}

// A stable advisory-lock key from the item id (FNV-1a, 31 bits), sent as a
// literal so the lock statement is the same text in every run.
function lockKey(id) {
  let h = 0x811c9dc5;
  for (const ch of Buffer.from(id, "utf8")) {
    h ^= ch;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h & 0x7fffffff;
}

async function readLevel(inventory, context) {
  const [level] = await inventory.listInventoryLevels(
    { inventory_item_id: ITEM, location_id: LOCATION },
    {},
    context
  );
  if (!level) {
    throw new Error(`no inventory level for ${ITEM} at ${LOCATION}`);
  }
  return level;
}

function available(level) {
  return Number(level.stocked_quantity) - Number(level.reserved_quantity);
}

// The team's atomicDecrementInventory(): read, compute the new absolute
// stock in JavaScript, hand it to updateInventoryLevelsWorkflow.
async function updateLevelsWorkflow(ctx) {
  const level = await readLevel(ctx.inventory);
  if (available(level) < QUANTITY) return "out-of-stock";
  const newStock = Number(level.stocked_quantity) - QUANTITY;
  await ctx.updateInventoryLevelsWorkflow(ctx.container).run({
    input: {
      updates: [
        {
          inventory_item_id: ITEM,
          location_id: LOCATION,
          stocked_quantity: newStock,
        },
      ],
    },
  });
  return "sold";
}

const RUN = {
  "update-levels": updateLevelsWorkflow,

  async "update-levels-service"(ctx) {
    const level = await readLevel(ctx.inventory);
    if (available(level) < QUANTITY) return "out-of-stock";
    await ctx.inventory.updateInventoryLevels([
      {
        inventory_item_id: ITEM,
        location_id: LOCATION,
        stocked_quantity: Number(level.stocked_quantity) - QUANTITY,
      },
    ]);
    return "sold";
  },

  async adjust(ctx) {
    const level = await readLevel(ctx.inventory);
    if (available(level) < QUANTITY) return "out-of-stock";
    await ctx.inventory.adjustInventory(ITEM, LOCATION, -QUANTITY);
    return "sold";
  },

  async reserve(ctx) {
    try {
      await ctx.inventory.createReservationItems([
        {
          inventory_item_id: ITEM,
          location_id: LOCATION,
          quantity: QUANTITY,
          line_item_id: `line_${order}`,
        },
      ]);
    } catch (err) {
      if (/not enough stock/i.test(String(err && err.message))) {
        return "out-of-stock";
      }
      throw err;
    }
    return "sold";
  },

  // The fix. BEGIN; select pg_advisory_xact_lock(K) on one pooled connection
  // of Medusa's shared knex (the PG_CONNECTION every Medusa container
  // exposes); the read and the workflow run on the pool's other connection
  // while it is held; COMMIT releases the lock (ROLLBACK too, and a crash
  // closes the connection). Orders for the same item queue on the lock, so
  // each one reads the stock the previous one wrote.
  async "update-levels-locked"(ctx) {
    return await ctx.pg.transaction(async (trx) => {
      await trx.raw(`select pg_advisory_xact_lock(${lockKey(ITEM)})`);
      return await updateLevelsWorkflow(ctx);
    });
  },
};

// Everything a path touches lazily, done before the ready line so that no
// connection is opened and no module is loaded after it: the inventory read,
// the workflow machinery (an empty update runs the step with no rows), and
// for the locked path a second pooled connection (a transaction held open
// while the module reads).
async function warmUp(ctx) {
  // A pooled connection the proxy closed since the last run fails once
  // before the pool replaces it.
  await readLevel(ctx.inventory).catch(() => readLevel(ctx.inventory));
  if (PATHS[path].workflows) {
    await ctx.updateInventoryLevelsWorkflow(ctx.container).run({
      input: { updates: [] },
    });
  }
  if (path === "update-levels-locked") {
    await ctx.pg.transaction(async (trx) => {
      await trx.raw("select 1");
      await readLevel(ctx.inventory);
    });
  }
}

async function main() {
  if (!PATHS[path]) {
    throw new Error(
      `usage: node order.js PATH (one of ${Object.keys(PATHS).join(", ")})`
    );
  }
  const app = await bootApp({ workflows: PATHS[path].workflows });
  await app.onApplicationStart();
  const ctx = {
    app,
    inventory: app.modules.inventory,
    container: app.sharedContainer,
    pg: app.sharedContainer.resolve(ContainerRegistrationKeys.PG_CONNECTION),
  };
  if (PATHS[path].workflows) {
    ({ updateInventoryLevelsWorkflow: ctx.updateInventoryLevelsWorkflow } =
      require("@medusajs/core-flows"));
  }
  // Without `reuse` in the app file stdin is empty and the order runs once.
  // With it, stockrace writes `stockrace: next` when the order should run
  // again (on a fresh database: the proxy has closed the pool's connections,
  // and the warm-up reconnects them before the ready line).
  const stdin = require("readline")
    .createInterface({ input: process.stdin })
    [Symbol.asyncIterator]();
  for (;;) {
    await warmUp(ctx);
    say("ready");
    await runOnce(ctx);
    const next = await stdin.next();
    if (next.done || next.value.trim() !== "stockrace: next") {
      return app;
    }
  }
}

async function runOnce(ctx) {
  let outcome;
  try {
    outcome = await RUN[path](ctx);
  } catch (err) {
    const reason = String((err && err.message) || err).replace(/\s+/g, " ");
    say(`failed ${reason}`);
    process.stderr.write(`order ${order}: ${(err && err.stack) || err}\n`);
    return;
  }
  say(outcome === "sold" ? `sold ${QUANTITY}` : "out-of-stock");
}

// Shut down best-effort but never wait on it for long: the outcome line is
// already written and nothing after it is part of the order.
async function finish(app) {
  const timer = setTimeout(() => process.exit(0), 1000);
  timer.unref();
  try {
    if (app) {
      await app.onApplicationPrepareShutdown();
      await app.onApplicationShutdown();
    }
  } catch (_) {
    // ignored: the process exits anyway
  }
  process.exit(0);
}

main().then(finish, (err) => {
  // Failed before the order ran (boot, warm-up, usage): no outcome line.
  process.stderr.write(`order.js: ${(err && err.stack) || err}\n`);
  process.exit(1);
});
