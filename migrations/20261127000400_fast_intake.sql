-- Ingest's fast path: a new order's event, order row and outbox job are written by one
-- autocommitted statement (one round trip). `b1b_require` aborts that statement — and so
-- everything it wrote — when the order turns out to exist already; intake then takes the
-- locking path in a transaction.
CREATE FUNCTION b1b_require(ok boolean, problem text) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT ok THEN
        RAISE EXCEPTION USING ERRCODE = 'B1B01', MESSAGE = problem;
    END IF;
    RETURN true;
END
$$;

-- Raw bodies, headers and canonical orders are kept for ever and read rarely: lz4 compresses
-- them several times faster than the default pglz. Servers built without lz4 keep pglz.
DO $$
BEGIN
    ALTER TABLE webhook_events ALTER COLUMN body SET COMPRESSION lz4,
                               ALTER COLUMN headers SET COMPRESSION lz4;
    ALTER TABLE orders ALTER COLUMN canonical SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported OR invalid_parameter_value THEN
    RAISE NOTICE 'lz4 not available; keeping the default TOAST compression';
END
$$;
