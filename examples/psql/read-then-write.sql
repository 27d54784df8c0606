-- The race: read the level, decide in the client, write back an absolute value.
BEGIN;
SELECT stocked_quantity >= 1 AS available, stocked_quantity - 1 AS remaining
  FROM inventory_level WHERE id = 'ilev_1' \gset
\if :available
  UPDATE inventory_level SET stocked_quantity = :remaining WHERE id = 'ilev_1';
  COMMIT;
  \echo stockrace: sold 1
\else
  ROLLBACK;
  \echo stockrace: out-of-stock
\endif
