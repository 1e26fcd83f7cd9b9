//! Printing answers: JSON as the API gave it, or a table of chosen columns.

use serde_json::Value;

use super::Output;

/// A column: its header and where its value is in each row (a JSON pointer).
pub type Column = (&'static str, &'static str);

fn cell(v: &Value) -> String {
    match v {
        Value::Null => "-".to_owned(),
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(cell).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}

/// Rows as an aligned text table.
pub fn table(rows: &[Value], columns: &[Column]) -> String {
    let cells: Vec<Vec<String>> =
        rows.iter().map(|r| columns.iter().map(|(_, p)| cell(r.pointer(p).unwrap_or(&Value::Null))).collect()).collect();
    let widths: Vec<usize> = columns
        .iter()
        .enumerate()
        .map(|(i, (h, _))| cells.iter().map(|r| r[i].chars().count()).chain([h.len()]).max().unwrap_or(0))
        .collect();
    let line = |values: Vec<String>| {
        let padded: Vec<String> = values.iter().zip(&widths).map(|(v, w)| format!("{v:<w$}")).collect();
        padded.join("  ").trim_end().to_owned()
    };
    let mut out = vec![line(columns.iter().map(|(h, _)| (*h).to_owned()).collect())];
    out.extend(cells.into_iter().map(line));
    out.join("\n")
}

/// Prints `value` (a list or one object) as asked.
pub fn print(output: Output, value: &Value, columns: &[Column]) {
    match output {
        Output::Json => println!("{}", serde_json::to_string_pretty(value).unwrap_or_default()),
        Output::Table => {
            let rows = match value {
                Value::Array(rows) => rows.clone(),
                one => vec![one.clone()],
            };
            if rows.is_empty() {
                println!("(none)");
            } else {
                println!("{}", table(&rows, columns));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tables_align_columns_and_show_missing_values_as_dashes() {
        let rows = vec![json!({"name": "a", "n": 10, "when": null}), json!({"name": "longer", "n": 2, "tags": ["x", "y"]})];
        let t = table(&rows, &[("NAME", "/name"), ("N", "/n"), ("WHEN", "/when"), ("TAGS", "/tags")]);
        assert_eq!(t, "NAME    N   WHEN  TAGS\na       10  -     -\nlonger  2   -     x, y");
    }
}
