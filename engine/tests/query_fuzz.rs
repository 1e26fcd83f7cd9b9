//! Properties of the query language under hostile and random input:
//! - random token streams and random nesting never panic or overflow the stack (these run on
//!   the test harness's 2 MiB threads, like the server's), and nesting past the limit is refused
//!   by name;
//! - a query paged with tiny pages returns exactly what one evaluation over all rows returns;
//! - random patch operation lists never panic and never produce an item the store would refuse
//!   to read back.

#![allow(clippy::unwrap_used, clippy::panic)] // a failed unwrap is a failed test

use std::cmp::Ordering;
use std::sync::Arc;

use engine::limits::MAX_QUERY_NESTING;
use engine::query::exec::{PageLimits, Position, Progress, Row, Run, Shape};
use engine::query::{Cx, parse};
use proptest::prelude::*;
use serde_json::{Value, json};

const VOCABULARY: &[&str] = &[
    "SELECT",
    "VALUE",
    "DISTINCT",
    "TOP",
    "FROM",
    "WHERE",
    "ORDER",
    "BY",
    "ASC",
    "DESC",
    "OFFSET",
    "LIMIT",
    "AND",
    "OR",
    "NOT",
    "IN",
    "BETWEEN",
    "AS",
    "c",
    "c.a",
    "c.b",
    "c.tags",
    "c[\"a\"]",
    "c.tags[0]",
    "@p",
    "1",
    "2.5",
    "-",
    "+",
    "*",
    "/",
    "%",
    "||",
    "=",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ",",
    ":",
    "?",
    "'x'",
    "\"y\"",
    "true",
    "false",
    "null",
    "undefined",
    "COUNT",
    "SUM",
    "MIN",
    "MAX",
    "AVG",
    "ABS",
    "CONTAINS",
    "IS_DEFINED",
    "LOWER",
    "ARRAY_CONTAINS",
    "SUBSTRING",
    "CONCAT",
    "*",
    ".",
    "--",
    "\n",
];

fn docs() -> Vec<Value> {
    vec![
        json!({"id": "1", "a": 3, "b": "x", "tags": ["x", "y"]}),
        json!({"id": "2", "a": 1, "b": "y"}),
        json!({"id": "3", "a": 2, "tags": []}),
        json!({"id": "4", "a": null, "b": "x"}),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    #[test]
    fn random_token_streams_never_panic(tokens in prop::collection::vec(prop::sample::select(VOCABULARY), 0..60)) {
        let sql = tokens.join(" ");
        if let Ok(q) = parse(&sql, &[json!({"name": "@p", "value": 2})]) {
            let _ = engine::query::run(&q, docs());
        }
        let prefixed = format!("SELECT * FROM c WHERE {sql}");
        if let Ok(q) = parse(&prefixed, &[]) {
            let _ = engine::query::run(&q, docs());
        }
    }

    #[test]
    fn random_nesting_is_parsed_or_refused_by_name(
        // (opening, closing, nesting levels it adds)
        wrappers in prop::collection::vec(prop::sample::select(&[("(", ")", 1), ("NOT ", "", 1), ("-(", ")", 2), ("[", "]", 1), ("ABS(", ")", 1), ("{\"k\": ", "}", 1)][..]), 0..400)
    ) {
        let open: String = wrappers.iter().map(|(o, _, _)| *o).collect();
        let close: String = wrappers.iter().rev().map(|(_, c, _)| *c).collect();
        let depth = 1 + wrappers.iter().map(|(_, _, d)| d).sum::<usize>();
        let sql = format!("SELECT VALUE {open}c.a{close} FROM c");
        match parse(&sql, &[]) {
            Ok(q) => {
                prop_assert!(depth <= MAX_QUERY_NESTING, "{depth} levels parsed");
                let _ = engine::query::run(&q, docs());
            }
            Err(e) => prop_assert!(depth > MAX_QUERY_NESTING && e.to_string().contains("levels deep"), "{depth}: {e}"),
        }
    }
}

/// Where row `i` sits in scan order (partition key, id).
fn position(i: usize) -> Position {
    Position { pk: format!("[{}]", i % 3), id: format!("{i:04}") }
}

/// What a query returns, computed the simple way: every row in memory, sorted by its ORDER BY
/// keys and then by scan order.
fn reference(sql: &str, docs: &[Value]) -> Vec<Value> {
    let q = parse(sql, &[]).unwrap();
    let cx = Cx::new(&q);
    let mut rows: Vec<(Vec<Option<Value>>, Position, &Value)> = Vec::new();
    for (i, d) in docs.iter().enumerate() {
        if cx.keeps(d).unwrap() {
            rows.push((cx.sort_keys(d).unwrap(), position(i), d));
        }
    }
    rows.sort_by(|a, b| match cx.compare_keys(&a.0, &b.0) {
        Ordering::Equal => a.1.cmp(&b.1),
        o => o,
    });
    let mut out: Vec<Value> = Vec::new();
    for (_, _, d) in rows {
        if let Some(v) = cx.project(d).unwrap()
            && !(q.distinct && out.contains(&v))
        {
            out.push(v);
        }
    }
    let offset = cx.count_arg(q.offset.as_ref(), "OFFSET").unwrap().unwrap_or(0) as usize;
    let take = cx
        .count_arg(q.limit.as_ref(), "LIMIT")
        .unwrap()
        .unwrap_or(u64::MAX)
        .min(cx.count_arg(q.top.as_ref(), "TOP").unwrap().unwrap_or(u64::MAX));
    out.into_iter().skip(offset).take(usize::try_from(take).unwrap_or(usize::MAX)).collect()
}

/// The same query, page by page through continuation tokens, with tiny pages.
fn paged(sql: &str, docs: &[Value], limits: PageLimits) -> Vec<Value> {
    let q = Arc::new(parse(sql, &[]).unwrap());
    let rows: Vec<Row> =
        docs.iter().enumerate().map(|(i, d)| Row { pos: position(i), doc: d.clone(), bytes: d.to_string().len() }).collect();
    let mut sorted = rows.clone();
    sorted.sort_by(|a, b| a.pos.cmp(&b.pos));
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..10_000 {
        let mut run = Run::new(Arc::clone(&q), token.as_deref(), limits).unwrap();
        let mut exhausted;
        loop {
            let from = run.scan_from();
            let batch: Vec<Row> = sorted.iter().filter(|r| from.as_ref().is_none_or(|f| r.pos > *f)).cloned().collect();
            // Feed in batches of two rows, as a scan would.
            exhausted = true;
            for chunk in batch.chunks(2) {
                if run.feed(chunk.to_vec()).unwrap() == Progress::Stop {
                    exhausted = false;
                    break;
                }
            }
            if run.shape() != Shape::Ordered || !exhausted || run.end_round().unwrap() == Progress::Stop {
                break;
            }
        }
        let (page, next) = run.finish(exhausted);
        assert!(page.len() <= limits.max_items, "a page holds at most max_items");
        out.extend(page);
        match next {
            Some(t) => token = Some(t),
            None => return out,
        }
    }
    panic!("paging did not end: {sql}");
}

fn item() -> impl Strategy<Value = Value> {
    (0u8..5, prop::option::of(0i64..4), prop::option::of(prop::sample::select(&["x", "y", "z"][..]))).prop_map(|(t, a, b)| {
        let mut v = json!({"t": t});
        if let Some(a) = a {
            v["a"] = json!(a);
        }
        if let Some(b) = b {
            v["b"] = json!(b);
        }
        v
    })
}

const QUERIES: &[&str] = &[
    "SELECT * FROM c",
    "SELECT VALUE c.a FROM c",
    "SELECT DISTINCT VALUE c.b FROM c",
    "SELECT DISTINCT c.a, c.b FROM c WHERE c.t > 0",
    "SELECT * FROM c ORDER BY c.a",
    "SELECT * FROM c ORDER BY c.a DESC, c.b",
    "SELECT VALUE c.t FROM c ORDER BY c.b DESC OFFSET 2 LIMIT 5",
    "SELECT DISTINCT VALUE c.a FROM c ORDER BY c.a",
    "SELECT DISTINCT VALUE c.b FROM c ORDER BY c.a DESC",
    "SELECT TOP 3 * FROM c WHERE c.a >= 1",
    "SELECT * FROM c OFFSET 3 LIMIT 4",
    "SELECT VALUE c.b FROM c WHERE IS_DEFINED(c.b) OFFSET 1 LIMIT 100",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn tiny_pages_return_exactly_what_one_pass_does(
        items in prop::collection::vec(item(), 0..25),
        query in prop::sample::select(QUERIES),
        max_items in 1usize..4,
        max_bytes in prop::sample::select(&[1usize, 40, 1 << 20][..]),
    ) {
        let docs: Vec<Value> = items.into_iter().enumerate().map(|(i, mut v)| { v["id"] = json!(format!("{i}")); v }).collect();
        let expected = reference(query, &docs);
        let got = paged(query, &docs, PageLimits { max_items, max_bytes });
        prop_assert_eq!(got, expected);
    }

    #[test]
    fn aggregates_paged_equal_aggregates_in_one_pass(items in prop::collection::vec(item(), 0..25), max_items in 1usize..3) {
        let docs: Vec<Value> = items.into_iter().enumerate().map(|(i, mut v)| { v["id"] = json!(format!("{i}")); v }).collect();
        for sql in ["SELECT VALUE COUNT(1) FROM c WHERE c.a > 0", "SELECT MIN(c.a) AS lo, MAX(c.b) AS hi, SUM(c.t) AS s FROM c"] {
            let all = engine::query::run(&parse(sql, &[]).unwrap(), docs.clone()).unwrap();
            prop_assert_eq!(paged(sql, &docs, PageLimits { max_items, max_bytes: 1 }), all);
        }
    }
}

fn patch_op() -> impl Strategy<Value = Value> {
    let path = prop::sample::select(&["/a", "/a/b", "/tags/0", "/tags/-", "/n", "/x/y/z", "/id", "/", "", "/tags/9"][..]);
    let value = prop_oneof![
        Just(json!(1)),
        Just(json!("s")),
        Just(json!({"b": {"c": [1, 2]}})),
        Just(json!([[[[]]]])),
        (1usize..150).prop_map(|d| (0..d).fold(json!(0), |v, _| json!([v]))),
    ];
    (
        prop::sample::select(&["add", "set", "replace", "remove", "incr", "move", "fly"][..]),
        path.clone(),
        prop::option::of(value),
        prop::option::of(path),
    )
        .prop_map(|(op, path, value, from)| {
            let mut o = json!({"op": op, "path": path});
            if let Some(v) = value {
                o["value"] = v;
            }
            if let Some(f) = from {
                o["from"] = json!(f);
            }
            o
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn random_patches_never_panic(ops in prop::collection::vec(patch_op(), 0..14)) {
        let doc = json!({"id": "1", "tenant": "t", "a": {"b": 1}, "tags": ["x"], "n": 1});
        let _ = engine::patch::apply(&doc, &ops, &["/tenant".to_owned()]);
    }
}

/// Random patch lists through the store: whatever a patch leaves stored reads back whole, with
/// its id (so it can always be restored), however the operations nest values.
#[test]
fn stored_patches_always_read_back() {
    use engine::store::{self, ContainerSpec, WriteMode};
    use migrations::{Migrator, MigratorTrait};
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db = rt.block_on(async {
        let db = sea_orm::Database::connect(format!("sqlite://{}?mode=rwc", dir.path().join("p.db").display())).await.unwrap();
        Migrator::up(&db, None).await.unwrap();
        store::create_database(&db, "a", "db", None).await.unwrap();
        let spec = ContainerSpec::from_body(&json!({"id": "c", "partitionKey": {"paths": ["/tenant"]}})).unwrap();
        store::create_container(&db, "a", "db", spec).await.unwrap();
        store::write_item(
            &db,
            "a",
            "db",
            "c",
            None,
            json!({"id": "1", "tenant": "t", "a": {"b": 1}, "tags": ["x"], "n": 1}),
            WriteMode::Create,
        )
        .await
        .unwrap();
        db
    });
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig { cases: 300, ..ProptestConfig::default() });
    runner
        .run(&prop::collection::vec(patch_op(), 1..11), |ops| {
            rt.block_on(async {
                let _ = store::patch_item(&db, "a", "db", "c", "[\"t\"]", "1", &ops, None, None).await;
                let read = store::read_item(&db, "a", "db", "c", "[\"t\"]", "1").await.unwrap();
                let doc = read.to_json().unwrap();
                assert_eq!(doc["id"], "1");
            });
            Ok(())
        })
        .unwrap();
}
