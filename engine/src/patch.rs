//! Partial document update (Cosmos DB patch): `add`, `set`, `replace`, `remove`, `incr` and
//! `move` operations on JSON paths such as `/address/city` or `/tags/0`.

use serde_json::Value;

use crate::error::EngineError;
use crate::limits::MAX_PATCH_OPERATIONS;

/// Applies `operations` (the request's `operations` array) to `doc`, all or nothing.
///
/// # Errors
/// 400 naming the operation and why it cannot apply; the document is then unchanged.
pub fn apply(doc: &Value, operations: &[Value], protected: &[String]) -> Result<Value, EngineError> {
    if operations.is_empty() || operations.len() > MAX_PATCH_OPERATIONS {
        return Err(bad(format!("a patch needs 1 to {MAX_PATCH_OPERATIONS} operations (got {})", operations.len())));
    }
    let mut out = doc.clone();
    for (i, op) in operations.iter().enumerate() {
        let kind = op.get("op").and_then(Value::as_str).ok_or_else(|| bad(format!("operation {i} needs an \"op\"")))?;
        let path = op.get("path").and_then(Value::as_str).ok_or_else(|| bad(format!("operation {i} needs a \"path\"")))?;
        let segs = split(path).ok_or_else(|| bad(format!("operation {i}: path {path:?} must start with '/'")))?;
        if segs.first().map(String::as_str) == Some("id") || protected.iter().any(|p| p == path) {
            return Err(bad(format!("operation {i}: {path} (the id or partition key) cannot be patched")));
        }
        let value = op.get("value").cloned();
        let need_value = || value.clone().ok_or_else(|| bad(format!("operation {i} ({kind}) needs a \"value\"")));
        match kind {
            "add" => insert(&mut out, &segs, need_value()?, true, i)?,
            "set" => insert(&mut out, &segs, need_value()?, false, i)?,
            "replace" => {
                let slot = get_mut(&mut out, &segs).ok_or_else(|| bad(format!("operation {i}: {path} does not exist to replace")))?;
                *slot = need_value()?;
            }
            "remove" => {
                remove(&mut out, &segs).ok_or_else(|| bad(format!("operation {i}: {path} does not exist to remove")))?;
            }
            "incr" => {
                let by = need_value()?;
                match get_mut(&mut out, &segs) {
                    Some(slot) => {
                        let next = match (slot.as_i64(), by.as_i64()) {
                            (Some(a), Some(b)) => Value::from(a + b),
                            _ => match (slot.as_f64(), by.as_f64()) {
                                (Some(a), Some(b)) => Value::from(a + b),
                                _ => return Err(bad(format!("operation {i}: incr needs numbers at {path} and in value"))),
                            },
                        };
                        *slot = next;
                    }
                    None => insert(&mut out, &segs, by, false, i)?,
                }
            }
            "move" => {
                let from = op.get("from").and_then(Value::as_str).ok_or_else(|| bad(format!("operation {i} (move) needs \"from\"")))?;
                let from_segs = split(from).ok_or_else(|| bad(format!("operation {i}: from {from:?} must start with '/'")))?;
                let v = remove(&mut out, &from_segs).ok_or_else(|| bad(format!("operation {i}: {from} does not exist to move")))?;
                insert(&mut out, &segs, v, false, i)?;
            }
            other => return Err(bad(format!("operation {i}: unknown op {other:?} (add, set, replace, remove, incr, move)"))),
        }
    }
    Ok(out)
}

fn bad(m: String) -> EngineError {
    EngineError::BadRequest(m)
}

fn split(path: &str) -> Option<Vec<String>> {
    let rest = path.strip_prefix('/')?;
    if rest.is_empty() {
        return None;
    }
    Some(rest.split('/').map(|s| s.replace("~1", "/").replace("~0", "~")).collect())
}

fn get_mut<'a>(v: &'a mut Value, segs: &[String]) -> Option<&'a mut Value> {
    segs.iter().try_fold(v, |cur, s| match cur {
        Value::Object(o) => o.get_mut(s),
        Value::Array(a) => s.parse::<usize>().ok().and_then(|i| a.get_mut(i)),
        _ => None,
    })
}

fn insert(doc: &mut Value, segs: &[String], value: Value, array_insert: bool, i: usize) -> Result<(), EngineError> {
    let (last, parent) = segs.split_last().ok_or_else(|| bad(format!("operation {i}: empty path")))?;
    let parent = get_mut(doc, parent).ok_or_else(|| bad(format!("operation {i}: the parent of /{} does not exist", segs.join("/"))))?;
    match parent {
        Value::Object(o) => {
            o.insert(last.clone(), value);
            Ok(())
        }
        Value::Array(a) => {
            let idx = if last == "-" {
                a.len()
            } else {
                last.parse::<usize>().map_err(|_| bad(format!("operation {i}: {last:?} is not an array index")))?
            };
            if idx > a.len() {
                return Err(bad(format!("operation {i}: index {idx} is past the end of the array")));
            }
            if array_insert || idx == a.len() {
                a.insert(idx, value);
            } else {
                a[idx] = value;
            }
            Ok(())
        }
        _ => Err(bad(format!("operation {i}: /{} is inside a value that is neither an object nor an array", segs.join("/")))),
    }
}

fn remove(doc: &mut Value, segs: &[String]) -> Option<Value> {
    let (last, parent) = segs.split_last()?;
    match get_mut(doc, parent)? {
        Value::Object(o) => o.remove(last),
        Value::Array(a) => {
            let idx = last.parse::<usize>().ok()?;
            (idx < a.len()).then(|| a.remove(idx))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ops(v: Value) -> Vec<Value> {
        v.as_array().cloned().unwrap_or_default()
    }

    #[test]
    fn operations_apply_in_order() {
        let doc = json!({"id": "1", "n": 1, "tags": ["a"], "addr": {"city": "Oslo"}, "old": true});
        let out = apply(
            &doc,
            &ops(json!([
                {"op": "incr", "path": "/n", "value": 2},
                {"op": "add", "path": "/tags/0", "value": "z"},
                {"op": "set", "path": "/addr/zip", "value": "0150"},
                {"op": "replace", "path": "/addr/city", "value": "Bergen"},
                {"op": "remove", "path": "/old"},
                {"op": "move", "from": "/addr/zip", "path": "/zip"}
            ])),
            &[],
        )
        .unwrap();
        assert_eq!(out, json!({"id": "1", "n": 3, "tags": ["z", "a"], "addr": {"city": "Bergen"}, "zip": "0150"}));
    }

    #[test]
    fn failures_name_the_operation_and_change_nothing() {
        let doc = json!({"id": "1", "tenant": "t"});
        let e = apply(&doc, &ops(json!([{"op": "replace", "path": "/missing", "value": 1}])), &[]).unwrap_err().to_string();
        assert!(e.contains("operation 0") && e.contains("/missing"), "{e}");
        let e = apply(&doc, &ops(json!([{"op": "set", "path": "/tenant", "value": "u"}])), &["/tenant".into()]).unwrap_err().to_string();
        assert!(e.contains("partition key"), "{e}");
        assert!(apply(&doc, &ops(json!([{"op": "fly", "path": "/x"}])), &[]).is_err());
    }
}
