-- The fix: one statement that checks and decrements, so a second buyer's
-- UPDATE waits for the first and re-checks the row it then sees.
WITH sold AS (
  UPDATE inventory_level SET stocked_quantity = stocked_quantity - 1
   WHERE id = 'ilev_1' AND stocked_quantity >= 1
  RETURNING 1
)
SELECT count(*) = 1 AS sold FROM sold \gset
\if :sold
  \echo stockrace: sold 1
\else
  \echo stockrace: out-of-stock
\endif
