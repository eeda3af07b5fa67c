//! Text and JSON renderings of the tree. The text form is astOS's exactly
//! (anytree's RenderTree): `root - root`, `├── 0 - base snapshot`, `*` after the
//! current snapshot's number.

use std::collections::BTreeMap;
use std::fmt::Write;

use rast_snapshot::{SnapId, TreeMeta};
use serde_json::{json, Value};

fn children_map(meta: &TreeMeta) -> BTreeMap<Option<SnapId>, Vec<SnapId>> {
    let mut map: BTreeMap<Option<SnapId>, Vec<SnapId>> = BTreeMap::new();
    for (id, s) in &meta.snapshots {
        map.entry(s.parent).or_default().push(*id);
    }
    map
}

/// astOS's tree text.
pub fn tree_text(meta: &TreeMeta, current: Option<SnapId>) -> String {
    let kids = children_map(meta);
    let mut out = String::from("root - root\n");
    // (id, prefix for its children, is last child)
    let mut stack: Vec<(SnapId, String, bool)> = Vec::new();
    if let Some(top) = kids.get(&None) {
        for (i, id) in top.iter().enumerate().rev() {
            stack.push((*id, String::new(), i + 1 == top.len()));
        }
    }
    while let Some((id, indent, last)) = stack.pop() {
        let desc = if id.is_base() {
            "base snapshot"
        } else {
            meta.snapshots[&id].desc.as_str()
        };
        let mark = if Some(id) == current { "*" } else { " " };
        let branch = if last { "└── " } else { "├── " };
        let _ = writeln!(out, "{indent}{branch}{id}{mark}- {desc}");
        if let Some(ch) = kids.get(&Some(id)) {
            let child_indent = format!("{indent}{}", if last { "    " } else { "│   " });
            for (i, c) in ch.iter().enumerate().rev() {
                stack.push((*c, child_indent.clone(), i + 1 == ch.len()));
            }
        }
    }
    out
}

/// Nested JSON: `{"current", "deployed", "tree": [{id, desc, created, children}]}`.
pub fn tree_json(meta: &TreeMeta, current: Option<SnapId>, deployed: Option<SnapId>) -> Value {
    let kids = children_map(meta);
    fn node(
        meta: &TreeMeta,
        kids: &BTreeMap<Option<SnapId>, Vec<SnapId>>,
        id: SnapId,
        cur: Option<SnapId>,
        dep: Option<SnapId>,
    ) -> Value {
        let s = &meta.snapshots[&id];
        let children: Vec<Value> = kids
            .get(&Some(id))
            .into_iter()
            .flatten()
            .map(|c| node(meta, kids, *c, cur, dep))
            .collect();
        json!({
            "id": id,
            "desc": s.desc,
            "created": s.created,
            "current": Some(id) == cur,
            "deployed": Some(id) == dep,
            "children": children,
        })
    }
    let top: Vec<Value> = kids
        .get(&None)
        .into_iter()
        .flatten()
        .map(|id| node(meta, &kids, *id, current, deployed))
        .collect();
    json!({ "current": current, "deployed": deployed, "tree": top })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_astos_layout() {
        let mut m = TreeMeta::with_base();
        for (parent, desc) in [(Some(0), "a"), (Some(1), "b"), (Some(0), "c"), (None, "d")] {
            let id = m.allocate([]);
            m.insert(id, parent.map(SnapId), desc.into());
        }
        let want = "root - root\n├── 0 - base snapshot\n│   ├── 1*- a\n│   │   └── 2 - b\n│   └── 3 - c\n└── 4 - d\n";
        assert_eq!(tree_text(&m, Some(SnapId(1))), want);
    }
}
