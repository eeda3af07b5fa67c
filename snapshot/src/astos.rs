//! Adopting an astOS install: its tree lives in `/.snapshots/ast/fstree` as one line
//! holding a Python dict literal written by anytree's `DictExporter`, e.g.
//! `{'name': 'root', 'children': [{'name': 0, 'children': [{'name': 1}]}]}`
//! (names are ints in current astOS, strings in older ones), and descriptions in
//! `/.snapshots/ast/snapshots/N-desc`. The originals are read, never changed.
//!
//! The parser accepts exactly the literal subset `DictExporter` + `str()` produce —
//! dicts, lists, quoted strings, integers, True/False/None — because no maintained
//! crate parses Python literals without embedding a Python parser.

use std::collections::BTreeMap;

use crate::meta::{now, SnapshotMeta, TreeMeta, FORMAT_VERSION};
use crate::{Error, SnapId};

/// A Python literal value.
#[derive(Debug, Clone, PartialEq)]
pub enum Py {
    Dict(Vec<(Py, Py)>),
    List(Vec<Py>),
    Str(String),
    Int(i64),
    Const(&'static str),
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
    depth: usize,
}

impl Parser<'_> {
    fn ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }

    fn eat(&mut self, c: u8) -> bool {
        self.ws();
        if self.s.get(self.i) == Some(&c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn err(&self, what: &str) -> String {
        format!("{what} at byte {}", self.i)
    }

    fn value(&mut self) -> Result<Py, String> {
        self.depth += 1;
        if self.depth > 256 {
            return Err(self.err("nesting too deep"));
        }
        self.ws();
        let v = match self.s.get(self.i) {
            Some(b'{') => {
                self.i += 1;
                let mut items = Vec::new();
                while !self.eat(b'}') {
                    let k = self.value()?;
                    if !self.eat(b':') {
                        return Err(self.err("expected ':'"));
                    }
                    items.push((k, self.value()?));
                    if !self.eat(b',') {
                        if self.eat(b'}') {
                            break;
                        }
                        return Err(self.err("expected ',' or '}'"));
                    }
                }
                Py::Dict(items)
            }
            Some(b'[') => {
                self.i += 1;
                let mut items = Vec::new();
                while !self.eat(b']') {
                    items.push(self.value()?);
                    if !self.eat(b',') {
                        if self.eat(b']') {
                            break;
                        }
                        return Err(self.err("expected ',' or ']'"));
                    }
                }
                Py::List(items)
            }
            Some(&q @ (b'\'' | b'"')) => {
                self.i += 1;
                let mut out = Vec::new();
                loop {
                    match self.s.get(self.i) {
                        None => return Err(self.err("unterminated string")),
                        Some(&c) if c == q => {
                            self.i += 1;
                            break;
                        }
                        Some(b'\\') => {
                            let c = *self
                                .s
                                .get(self.i + 1)
                                .ok_or_else(|| self.err("bad escape"))?;
                            out.push(match c {
                                b'n' => b'\n',
                                b't' => b'\t',
                                other => other,
                            });
                            self.i += 2;
                        }
                        Some(&c) => {
                            out.push(c);
                            self.i += 1;
                        }
                    }
                }
                Py::Str(String::from_utf8(out).map_err(|_| self.err("string is not UTF-8"))?)
            }
            Some(c) if c.is_ascii_digit() || *c == b'-' => {
                let start = self.i;
                self.i += 1;
                while self.s.get(self.i).is_some_and(|c| c.is_ascii_digit()) {
                    self.i += 1;
                }
                let t = std::str::from_utf8(&self.s[start..self.i]).unwrap_or_default();
                Py::Int(t.parse().map_err(|_| self.err("bad integer"))?)
            }
            _ => {
                let rest = &self.s[self.i..];
                let c = ["True", "False", "None"]
                    .into_iter()
                    .find(|w| rest.starts_with(w.as_bytes()));
                let c = c.ok_or_else(|| self.err("unexpected character"))?;
                self.i += c.len();
                Py::Const(c)
            }
        };
        self.depth -= 1;
        Ok(v)
    }
}

/// Parses one Python literal (the whole input).
pub fn parse_literal(text: &str) -> Result<Py, String> {
    let mut p = Parser {
        s: text.as_bytes(),
        i: 0,
        depth: 0,
    };
    let v = p.value()?;
    p.ws();
    if p.i != p.s.len() {
        return Err(p.err("trailing characters"));
    }
    Ok(v)
}

fn field<'a>(d: &'a [(Py, Py)], key: &str) -> Option<&'a Py> {
    d.iter()
        .find(|(k, _)| matches!(k, Py::Str(s) if s == key))
        .map(|(_, v)| v)
}

fn node_id(v: &Py) -> Result<SnapId, String> {
    match v {
        Py::Int(n) if *n >= 0 => Ok(SnapId(*n as u64)),
        Py::Str(s) => s.parse().map_err(|e: Error| e.to_string()),
        other => Err(format!("bad node name {other:?}")),
    }
}

/// Builds rast metadata from an astOS fstree literal; `desc(name)` reads `N-desc`.
pub fn import(text: &str, desc: &dyn Fn(SnapId) -> Option<String>) -> Result<TreeMeta, String> {
    let root = parse_literal(text.trim())?;
    let Py::Dict(root) = root else {
        return Err("top level is not a dict".into());
    };
    let mut snapshots = BTreeMap::new();
    let mut stack: Vec<(Option<SnapId>, &Py)> = Vec::new();
    if let Some(Py::List(kids)) = field(&root, "children") {
        stack.extend(kids.iter().map(|k| (None, k)));
    }
    while let Some((parent, node)) = stack.pop() {
        let Py::Dict(d) = node else {
            return Err("a node is not a dict".into());
        };
        let id = node_id(field(d, "name").ok_or("a node has no name")?)?;
        let text = if id.is_base() {
            "base snapshot".to_string()
        } else {
            desc(id).unwrap_or_default()
        };
        if snapshots
            .insert(
                id,
                SnapshotMeta {
                    parent,
                    desc: text,
                    created: now(),
                },
            )
            .is_some()
        {
            return Err(format!("snapshot {id} appears twice"));
        }
        if let Some(Py::List(kids)) = field(d, "children") {
            stack.extend(kids.iter().map(|k| (Some(id), k)));
        }
    }
    let next_id = snapshots.keys().map(|i| i.0 + 1).max().unwrap_or(1);
    let meta = TreeMeta {
        version: FORMAT_VERSION,
        next_id,
        snapshots,
        deployments: Vec::new(),
        bootloader: None,
        failed_boots: Vec::new(),
    };
    meta.validate()?;
    Ok(meta)
}

/// Reads the fstree and descriptions under `layout`.
pub fn import_from(layout: &crate::Layout) -> Result<TreeMeta, Error> {
    let path = layout.astos_fstree();
    let text = std::fs::read_to_string(&path).map_err(Error::io(&path))?;
    let first = text.lines().next().unwrap_or_default();
    let read_desc = |id: SnapId| -> Option<String> {
        let t = std::fs::read_to_string(layout.astos_desc(&id.to_string())).ok()?;
        Some(t.lines().next().unwrap_or_default().to_string())
    };
    import(first, &read_desc).map_err(|reason| Error::AstosImport {
        path: path.clone(),
        reason,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imports_int_and_str_names_with_descriptions() {
        let text = "{'name': 'root', 'children': [{'name': 0, 'children': [{'name': 1}, {'name': '4', 'children': [{'name': 5}]}]}, {'name': 2}]}";
        let m = import(text, &|id| Some(format!("d{id}"))).unwrap();
        assert_eq!(m.get(SnapId(0)).unwrap().desc, "base snapshot");
        assert_eq!(m.get(SnapId(5)).unwrap().parent, Some(SnapId(4)));
        assert_eq!(m.get(SnapId(4)).unwrap().desc, "d4");
        assert_eq!(m.get(SnapId(2)).unwrap().parent, None);
        assert_eq!(m.next_id, 6);
    }

    #[test]
    fn parses_python_literal_subset() {
        assert_eq!(
            parse_literal(r#"{"a": [1, -2, 'x\'y'], 'b': None, 'c': True,}"#).unwrap(),
            Py::Dict(vec![
                (
                    Py::Str("a".into()),
                    Py::List(vec![Py::Int(1), Py::Int(-2), Py::Str("x'y".into())])
                ),
                (Py::Str("b".into()), Py::Const("None")),
                (Py::Str("c".into()), Py::Const("True")),
            ])
        );
    }

    #[test]
    fn rejects_garbage_without_panicking() {
        for bad in [
            "",
            "{",
            "{'name'}",
            "[1,,2]",
            "{'name': 'root', 'children': [{'name': '1;rm'}]}",
            "__import__('os')",
            "'abc",
            "{'children': [{'name': 1}, {'name': 1}]}",
        ] {
            assert!(import(bad, &|_| None).is_err(), "{bad:?} accepted");
        }
        let deep = "[".repeat(10_000);
        assert!(parse_literal(&deep).is_err());
    }
}
