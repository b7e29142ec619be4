//! YAML text to the plain JSON tree an import reads, built straight from the parser's events.
//!
//! The tree is built as the events arrive, so nothing but the tree itself and the open
//! collections is held: no list of events, no intermediate YAML tree (a document of nothing but
//! empty flow collections once cost about 90 times its size that way). The same limits as for
//! JSON hold: collections nest at most [`MAX_NESTING`](super::MAX_NESTING) deep, block
//! collections included, and aliases may copy at most [`MAX_ALIAS_NODES`] nodes in all (an alias
//! is a copy; without a budget, a few lines of nested aliases expand to billions of nodes).
//!
//! Scalars are resolved by the YAML 1.2 core schema (`null`/`~`, booleans, integers, floats);
//! quoted scalars and `!!str` are text. Mapping keys become text (`200:` is "200", `~:` is "null"),
//! a key may appear once in a mapping, and merge keys (`<<: *base`, `<<: [*a, *b]`) add the
//! members a mapping does not already have. One document per text.

use serde_json::{Map, Number, Value};
use yaml_rust2::parser::{Event, Parser, Tag};
use yaml_rust2::scanner::TScalarStyle;

use super::{MAX_NESTING, SpecError, invalid};

/// At most this many nodes copied by aliases, and kept for anchors, in one document.
pub const MAX_ALIAS_NODES: usize = 100_000;

/// The tree of `text`, and the keys of its top-level `paths` mapping in document order.
pub fn read(text: &str) -> Result<(Value, Vec<String>), SpecError> {
    let mut b = Builder::default();
    let mut parser = Parser::new_from_str(text);
    loop {
        let (event, mark) = parser
            .next_token()
            .map_err(|e| SpecError::Unparsable(format!("neither JSON nor YAML: {e}")))?;
        let at = || format!("line {}, column {}", mark.line(), mark.col() + 1);
        match event {
            Event::StreamEnd => break,
            Event::Nothing | Event::StreamStart | Event::DocumentEnd => {}
            Event::DocumentStart => {
                if b.documents == 1 {
                    return Err(SpecError::Unparsable(format!(
                        "more than one YAML document in the text (the second at {})",
                        at()
                    )));
                }
                b.documents += 1;
            }
            event => b.event(event).map_err(|m| invalid(format!("{m} (at {})", at())))?,
        }
    }
    let root = b.root.take().unwrap_or(Value::Null);
    Ok((root, b.order))
}

/// A collection being read.
enum Open {
    Seq(Vec<Value>),
    /// The members so far, and the key whose value comes next.
    Map(Map<String, Value>, Option<String>),
}

struct Frame {
    open: Open,
    anchor: usize,
    /// The top-level `paths` mapping: its keys are kept in order.
    records_order: bool,
    /// A `<<` member was given: merged when the mapping closes.
    merge: Option<Value>,
}

#[derive(Default)]
struct Builder {
    stack: Vec<Frame>,
    root: Option<Value>,
    order: Vec<String>,
    anchors: std::collections::HashMap<usize, Value>,
    /// Nodes copied by aliases or kept for anchors so far.
    alias_nodes: usize,
    documents: usize,
}

impl Builder {
    /// One event of the document's content.
    fn event(&mut self, event: Event) -> Result<(), String> {
        match event {
            Event::Scalar(text, style, anchor, tag) => self.node(scalar(text, style, tag.as_ref()), anchor),
            Event::Alias(id) => {
                let v = self.alias(id)?;
                self.node(v, 0)
            }
            Event::SequenceStart(anchor, _) => self.open(Open::Seq(Vec::new()), anchor),
            Event::MappingStart(anchor, _) => {
                let paths =
                    self.stack.len() == 1 && matches!(&self.stack[0].open, Open::Map(_, Some(k)) if k == "paths");
                self.open(Open::Map(Map::new(), None), anchor)?;
                if let Some(top) = self.stack.last_mut() {
                    top.records_order = paths;
                }
                Ok(())
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let (v, anchor) = self.close()?;
                self.node(v, anchor)
            }
            Event::Nothing | Event::StreamStart | Event::StreamEnd | Event::DocumentStart | Event::DocumentEnd => {
                Ok(())
            }
        }
    }

    fn open(&mut self, open: Open, anchor: usize) -> Result<(), String> {
        // The document's own collection is one level, as for JSON.
        if self.stack.len() >= MAX_NESTING {
            return Err(format!("the document nests collections more than {MAX_NESTING} deep"));
        }
        self.stack.push(Frame {
            open,
            anchor,
            records_order: false,
            merge: None,
        });
        Ok(())
    }

    /// The collection that ends here, and its anchor.
    fn close(&mut self) -> Result<(Value, usize), String> {
        let frame = self.stack.pop().ok_or("a collection closes that was not opened")?;
        let value = match frame.open {
            Open::Seq(items) => Value::Array(items),
            Open::Map(mut members, _) => {
                if let Some(merge) = frame.merge {
                    let sources = match merge {
                        Value::Object(m) => vec![m],
                        Value::Array(list) => list
                            .into_iter()
                            .map(|v| match v {
                                Value::Object(m) => Ok(m),
                                _ => Err("a merge key (`<<`) lists something that is not a mapping"),
                            })
                            .collect::<Result<_, _>>()?,
                        _ => return Err("a merge key (`<<`) takes a mapping or a list of mappings".into()),
                    };
                    // Earlier sources win over later ones; the mapping's own members over all.
                    for source in sources {
                        for (k, v) in source {
                            members.entry(k).or_insert(v);
                        }
                    }
                }
                Value::Object(members)
            }
        };
        Ok((value, frame.anchor))
    }

    /// A complete node: the document, an item of a list, a key or a member's value.
    fn node(&mut self, v: Value, anchor: usize) -> Result<(), String> {
        if anchor != 0 {
            self.spend(&v)?;
            self.anchors.insert(anchor, v.clone());
        }
        let Some(top) = self.stack.last_mut() else {
            self.root = Some(v);
            return Ok(());
        };
        match &mut top.open {
            Open::Seq(items) => items.push(v),
            Open::Map(members, pending) => match pending.take() {
                None => {
                    let key = key_text(v)?;
                    if members.contains_key(&key) || (key == "<<" && top.merge.is_some()) {
                        return Err(format!("the key {key:?} appears twice in one mapping"));
                    }
                    if top.records_order && key != "<<" {
                        self.order.push(key.clone());
                    }
                    *pending = Some(key);
                }
                Some(key) if key == "<<" => top.merge = Some(v),
                Some(key) => {
                    members.insert(key, v);
                }
            },
        }
        Ok(())
    }

    fn alias(&mut self, id: usize) -> Result<Value, String> {
        let v = self
            .anchors
            .get(&id)
            .cloned()
            .ok_or("an alias names no anchor before it")?;
        self.spend(&v)?;
        Ok(v)
    }

    /// Counts the nodes of `v` against the alias budget.
    fn spend(&mut self, v: &Value) -> Result<(), String> {
        self.alias_nodes = self.alias_nodes.saturating_add(nodes(v, MAX_ALIAS_NODES + 1));
        if self.alias_nodes > MAX_ALIAS_NODES {
            return Err(format!("anchors and aliases copy more than {MAX_ALIAS_NODES} nodes"));
        }
        Ok(())
    }
}

/// The nodes of `v`, counting at most to `cap`.
fn nodes(v: &Value, cap: usize) -> usize {
    let mut n = 0;
    let mut todo = vec![v];
    while let Some(v) = todo.pop() {
        n += 1;
        if n >= cap {
            return n;
        }
        match v {
            Value::Array(items) => todo.extend(items),
            Value::Object(members) => todo.extend(members.values()),
            _ => {}
        }
    }
    n
}

/// A key as text: JSON's keys are all text.
fn key_text(v: Value) -> Result<String, String> {
    match v {
        Value::String(s) => Ok(s),
        Value::Null => Ok("null".into()),
        Value::Bool(b) => Ok(b.to_string()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Array(_) | Value::Object(_) => {
            Err("a mapping key is a collection, which a JSON-like document cannot have".into())
        }
    }
}

/// `!!str` (the parser resolves the `!!` handle to the YAML tag prefix).
fn is_str_tag(tag: Option<&Tag>) -> bool {
    tag.is_some_and(|t| t.suffix == "str" && t.handle == "tag:yaml.org,2002:")
}

/// A scalar by the YAML 1.2 core schema.
fn scalar(text: String, style: TScalarStyle, tag: Option<&Tag>) -> Value {
    if style != TScalarStyle::Plain || is_str_tag(tag) {
        return Value::String(text);
    }
    match text.as_str() {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        // JSON has no infinities or NaN.
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" | "-.inf" | "-.Inf" | "-.INF" | ".nan" | ".NaN"
        | ".NAN" => return Value::Null,
        _ => {}
    }
    if let Some(n) = integer(&text) {
        return Value::Number(n);
    }
    // Rust's float syntax is the core schema's (`[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`)
    // plus `inf` and `nan` spellings, which are not finite and so stay text here.
    if let Some(n) = text.parse::<f64>().ok().and_then(Number::from_f64) {
        return Value::Number(n);
    }
    Value::String(text)
}

fn integer(text: &str) -> Option<Number> {
    let (negative, digits) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let (radix, digits) = if let Some(h) = digits.strip_prefix("0x") {
        (16, h)
    } else if let Some(o) = digits.strip_prefix("0o") {
        (8, o)
    } else {
        (10, digits)
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let magnitude = u64::from_str_radix(digits, radix).ok()?;
    if negative {
        let n = 0i64.checked_sub_unsigned(magnitude)?;
        Some(Number::from(n))
    } else {
        Some(Number::from(magnitude))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use serde_json::json;

    use super::*;

    fn tree(text: &str) -> Value {
        read(text).unwrap().0
    }

    fn refused(text: &str) -> String {
        match read(text) {
            Err(e) => e.to_string(),
            Ok((v, _)) => panic!("{text:?} was read: {v}"),
        }
    }

    #[test]
    fn scalars_by_the_core_schema() {
        assert_eq!(
            tree(
                "[~, null, '', true, False, 12, -7, +3, 0x1f, 0o17, 1.5, -.5e3, 2., 1e3, .inf, .nan, yes, '12', \"true\", !!str 12, 1_000, 0x, 1e, ++5, -+5, inf, nan, 1e5x, 18446744073709551615, -9223372036854775808, -9223372036854775809]"
            ),
            json!([
                null,
                null,
                "",
                true,
                false,
                12,
                -7,
                3,
                31,
                15,
                1.5,
                -500.0,
                2.0,
                1000.0,
                null,
                null,
                "yes",
                "12",
                "true",
                "12",
                "1_000",
                "0x",
                "1e",
                "++5",
                "-+5",
                "inf",
                "nan",
                "1e5x",
                18446744073709551615u64,
                -9223372036854775808i64,
                -9223372036854775809.0
            ])
        );
        // Only the YAML `!!str` tag makes text; other tags are read past.
        assert_eq!(
            tree("[!!str 12, !str 12, !!int 12, !!str true]"),
            json!(["12", 12, 12, "true"])
        );
        // An empty value is null; block scalars are text.
        assert_eq!(tree("a:\nb: |\n  12\n"), json!({"a": null, "b": "12\n"}));
    }

    #[test]
    fn keys_become_text_and_appear_once() {
        assert_eq!(
            tree("{200: a, true: b, ~: c, 1.5: d, '7': e}"),
            json!({"200": "a", "true": "b", "null": "c", "1.5": "d", "7": "e"})
        );
        assert!(refused("a: 1\na: 2\n").contains("appears twice"));
        assert!(refused("{200: 1, '200': 2}").contains("appears twice"));
        assert!(refused("? [a]\n: 1\n").contains("mapping key is a collection"));
    }

    #[test]
    fn anchors_aliases_and_merge_keys() {
        let doc =
            "base: &b {x: 1, y: 2}\nother: &o {z: 3}\nuse: {<<: [*b, *o], y: 9}\nlist: [*b, *b]\nfirst: {<<: *b}\n";
        assert_eq!(
            tree(doc),
            json!({"base": {"x": 1, "y": 2}, "other": {"z": 3}, "use": {"x": 1, "y": 9, "z": 3},
                   "list": [{"x": 1, "y": 2}, {"x": 1, "y": 2}], "first": {"x": 1, "y": 2}})
        );
        assert!(refused("a: {<<: 1}\n").contains("merge key"));
        assert!(refused("a: {<<: [1]}\n").contains("merge key"));
        assert!(
            refused("a: *nothing\n").contains("anchor"),
            "{}",
            refused("a: *nothing\n")
        );
    }

    #[test]
    fn aliases_copy_a_bounded_number_of_nodes() {
        // Ten levels of ten aliases each: 10^10 nodes if copied without a budget.
        let mut doc = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            let p = i - 1;
            doc += &format!("a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n");
        }
        assert!(refused(&doc).contains("copy more than 100000 nodes"));
        // Up to the budget, aliases are read: the anchored scalar (1 node) and its copies.
        let list = vec!["*a"; MAX_ALIAS_NODES - 1].join(", ");
        let doc = format!("a: &a x\nb: [{list}]\n");
        assert_eq!(tree(&doc)["b"].as_array().unwrap().len(), MAX_ALIAS_NODES - 1);
        // A value kept for an anchor counts whole: a list of 100,000 items is 100,001 nodes.
        let big = vec!["x"; MAX_ALIAS_NODES].join(", ");
        assert!(refused(&format!("a: &a [{big}]\n")).contains("copy more than"));
        let fits = vec!["x"; MAX_ALIAS_NODES - 1].join(", ");
        assert!(read(&format!("a: &a [{fits}]\n")).is_ok());
        // Each copy counts its nodes: 60,000 kept and 60,000 copied are over.
        let half = vec!["x"; 59_999].join(", ");
        assert!(refused(&format!("a: &a [{half}]\nb: *a\n")).contains("copy more than"));
        assert!(refused(&format!("a: &a {{m: [{half}]}}\nb: *a\n")).contains("copy more than"));
        let list = vec!["*a"; MAX_ALIAS_NODES].join(", ");
        assert!(refused(&format!("a: &a x\nb: [{list}]\n")).contains("copy more than"));
    }

    #[test]
    fn block_nesting_has_the_same_limit_as_flow_nesting() {
        let deep = |n: usize| format!("{}x\n", "- ".repeat(n));
        assert!(read(&deep(MAX_NESTING)).is_ok());
        assert!(refused(&deep(MAX_NESTING + 1)).contains("nests collections more than 100 deep"));
        assert!(refused(&deep(1_000_000)).contains("nests"));
    }

    #[test]
    fn paths_keep_their_order_and_one_document_is_read() {
        let (_, order) = read("x: {b: 1}\npaths:\n  /z: {}\n  /a: {b: {c: 1}}\n  /m: {}\n").unwrap();
        assert_eq!(order, ["/z", "/a", "/m"]);
        assert!(refused("a: 1\n---\nb: 2\n").contains("more than one YAML document"));
        assert!(matches!(read("a: [b\n"), Err(SpecError::Unparsable(_))));
        assert_eq!(tree(""), Value::Null);
    }
}
