-- One inventory level with the last unit in stock.
CREATE TABLE inventory_level (
    id text PRIMARY KEY,
    stocked_quantity integer NOT NULL
);
INSERT INTO inventory_level VALUES ('ilev_1', 1);
