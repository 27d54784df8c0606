-- stockrace setup for the Medusa example: run once on the migrated template.
-- One inventory item stocked 1 (the last unit) at one location. Medusa's
-- inventory module has no stock_location table: location_id is only a string.
-- The raw_* jsonb columns hold Medusa's BigNumber form of each quantity; the
-- module reads them, so they must match the numeric columns.
INSERT INTO inventory_item (id, sku, title, requires_shipping)
VALUES ('iitem_stockrace', 'stockrace-last-unit', 'stockrace last unit', true);

INSERT INTO inventory_level (
  id, inventory_item_id, location_id,
  stocked_quantity, reserved_quantity, incoming_quantity,
  raw_stocked_quantity, raw_reserved_quantity, raw_incoming_quantity
) VALUES (
  'ilev_stockrace', 'iitem_stockrace', 'sloc_stockrace',
  1, 0, 0,
  '{"value": "1", "precision": 20}',
  '{"value": "0", "precision": 20}',
  '{"value": "0", "precision": 20}'
);
