//! Every bound the engine puts on what callers send, in one place. Each is checked where the
//! input enters and refused with a `400` (or `413` for sizes) whose message names the limit; the
//! README's Limits table lists them. Where Cosmos DB publishes a limit, Rewind takes it.

/// The largest item, in bytes of JSON (Cosmos DB: 2 MB).
pub const MAX_ITEM_BYTES: usize = 2 * 1024 * 1024;
/// How deeply objects and arrays may nest in an item, the item itself counting as one level.
/// Cosmos DB allows 128; Rewind stays below the 127 levels its JSON reader accepts, so every
/// stored item can always be read back (and restored).
pub const MAX_ITEM_DEPTH: usize = 100;
/// The longest database, container or item id, in characters (Cosmos DB: 255).
pub const MAX_ID_CHARS: usize = 255;
/// The longest partition key value, in bytes of its JSON (it is part of every index key).
pub const MAX_PARTITION_KEY_BYTES: usize = 1024;
/// Provisioned throughput of a database or container, RU/s (Cosmos DB's range).
pub const MIN_THROUGHPUT: i32 = 400;
pub const MAX_THROUGHPUT: i32 = 1_000_000;
/// Operations in one patch request (Cosmos DB: 10).
pub const MAX_PATCH_OPERATIONS: usize = 10;

/// The longest query text, in bytes (Cosmos DB: 512 KB).
pub const MAX_QUERY_BYTES: usize = 512 * 1024;
/// How deeply a query's expressions may nest: parentheses, function arguments, array and object
/// literals, `NOT` and unary minus each add a level.
pub const MAX_QUERY_NESTING: usize = 64;
/// `AND` and `OR` operators in one query (Cosmos DB's `maxLogicalAndPerSqlQuery` and
/// `maxLogicalOrPerSqlQuery`).
pub const MAX_QUERY_ANDS: usize = 500;
pub const MAX_QUERY_ORS: usize = 500;
/// Items in one `IN (…)` list (Cosmos DB's `maxInExpressionItemsCount`).
pub const MAX_IN_ITEMS: usize = 16_000;
/// Parameters of one query.
pub const MAX_QUERY_PARAMETERS: usize = 1_000;
/// Distinct values a `DISTINCT` query may have seen in one request (each is kept as a 16-byte
/// hash while the request runs).
pub const MAX_DISTINCT_VALUES: usize = 1_000_000;

/// Results in one page of a feed or query (Cosmos DB's `x-ms-max-item-count` ceiling).
pub const MAX_PAGE_ITEMS: usize = 1_000;
/// Bytes of results in one page (Cosmos DB answers at most about 4 MB per page).
pub const MAX_PAGE_BYTES: usize = 4 * 1024 * 1024;
