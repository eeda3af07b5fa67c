//! The BM25 side, with tantivy: package name (boosted ×3, plus an exact-name field and
//! exact provides), description, groups/provides/depends (×0.5), config path and text.
//! Stored fields carry what a result shows, so a search needs nothing else.

use std::path::Path;

use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, Occur, Query, QueryParser, TermQuery};
use tantivy::schema::{
    Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions, Value, STORED, STRING, TEXT,
};
use tantivy::{doc, Index, IndexReader, IndexWriter, TantivyDocument, Term};

use crate::doc::{Doc, Kind};
use crate::{Error, Result};

/// Field handles.
#[derive(Clone, Copy)]
pub struct Fields {
    pub id: Field,
    pub kind: Field,
    pub name: Field,
    pub name_exact: Field,
    pub provides: Field,
    pub desc: Field,
    pub extra: Field,
    pub upstream: Field,
    pub path: Field,
    pub text: Field,
    pub repo: Field,
    pub version: Field,
    pub section: Field,
    pub lines: Field,
    pub installed: Field,
    pub url: Field,
    /// Config: the snapshots holding this version, comma-separated.
    pub snapshots: Field,
}

/// English text: lowercased, stemmed ("documents" finds "document"). Names are not
/// stemmed (a package name is an identifier).
fn english(stored: bool) -> TextOptions {
    let idx = TextFieldIndexing::default()
        .set_tokenizer("en_stem")
        .set_index_option(IndexRecordOption::WithFreqsAndPositions);
    let o = TextOptions::default().set_indexing_options(idx);
    if stored {
        o.set_stored()
    } else {
        o
    }
}

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let f = Fields {
        id: b.add_text_field("id", STRING | STORED),
        kind: b.add_text_field("kind", STRING | STORED),
        name: b.add_text_field("name", TEXT | STORED),
        name_exact: b.add_text_field("name_exact", STRING),
        provides: b.add_text_field("provides", STRING),
        desc: b.add_text_field("desc", english(true)),
        extra: b.add_text_field("extra", TEXT),
        upstream: b.add_text_field("upstream", english(false)),
        path: b.add_text_field("path", TEXT),
        text: b.add_text_field("text", english(true)),
        repo: b.add_text_field("repo", STORED),
        version: b.add_text_field("version", STORED),
        section: b.add_text_field("section", STORED),
        lines: b.add_text_field("lines", STORED),
        installed: b.add_text_field("installed", STORED),
        url: b.add_text_field("url", STORED),
        snapshots: b.add_text_field("snapshots", STORED),
    };
    (b.build(), f)
}

fn terr(e: tantivy::TantivyError) -> Error {
    Error::Index(e.to_string())
}

/// An open BM25 index.
pub struct Bm25 {
    index: Index,
    reader: IndexReader,
    pub f: Fields,
}

impl Bm25 {
    /// Opens `dir`, creating an empty index if there is none.
    pub fn open_or_create(dir: &Path) -> Result<Bm25> {
        std::fs::create_dir_all(dir).map_err(|e| Error::Io(dir.to_path_buf(), e))?;
        let (schema, f) = schema();
        let index = match Index::open_in_dir(dir) {
            Ok(i) => i,
            Err(_) => Index::create_in_dir(dir, schema).map_err(terr)?,
        };
        let reader = index.reader().map_err(terr)?;
        Ok(Bm25 { index, reader, f })
    }

    /// Opens an existing index read-only.
    pub fn open(dir: &Path) -> Result<Bm25> {
        let index = Index::open_in_dir(dir)
            .map_err(|e| Error::NoIndex(dir.to_path_buf(), e.to_string()))?;
        let (_, f) = schema();
        let reader = index.reader().map_err(terr)?;
        Ok(Bm25 { index, reader, f })
    }

    pub fn writer(&self) -> Result<IndexWriter> {
        self.index.writer(64 << 20).map_err(terr)
    }

    /// Replaces (or adds) `d` in the writer.
    pub fn put(&self, w: &IndexWriter, d: &Doc) -> Result<()> {
        let f = &self.f;
        w.delete_term(Term::from_field_text(f.id, &d.id));
        let mut td = doc!(
            f.id => d.id.clone(),
            f.kind => d.kind().as_str(),
            f.name => d.name.clone(),
            f.desc => d.desc.clone(),
            f.extra => d.extra.clone(),
            f.upstream => d.upstream.clone(),
            f.text => d.text.clone(),
            f.repo => d.repo.clone(),
            f.version => d.version.clone(),
            f.section => d.section.clone(),
            f.lines => format!("{}-{}", d.lines.0, d.lines.1),
            f.installed => if d.installed { if d.explicit { "explicit" } else { "dependency" } } else { "" },
            f.url => d.url.clone(),
            f.snapshots => d.snapshots.join(","),
        );
        match d.kind() {
            Kind::Package => {
                td.add_text(f.name_exact, d.name.to_lowercase());
                for p in &d.provides {
                    td.add_text(f.provides, p.to_lowercase());
                }
            }
            Kind::Config | Kind::History => {
                td.add_text(f.path, d.name.replace(['/', '.', '-', '_'], " "))
            }
        }
        w.add_document(td).map_err(terr)?;
        Ok(())
    }

    pub fn delete(&self, w: &IndexWriter, id: &str) {
        w.delete_term(Term::from_field_text(self.f.id, id));
    }

    pub fn reload(&self) -> Result<()> {
        self.reader.reload().map_err(terr)
    }

    /// `q` restricted as [`Kind::admits`] says.
    fn kind_filter(&self, q: Box<dyn Query>, kind: Option<Kind>) -> Box<dyn Query> {
        let term = |k: Kind| -> Box<dyn Query> {
            Box::new(TermQuery::new(
                Term::from_field_text(self.f.kind, k.as_str()),
                IndexRecordOption::Basic,
            ))
        };
        let clauses = match kind {
            None => vec![(Occur::Must, q), (Occur::MustNot, term(Kind::History))],
            Some(Kind::History) => {
                let either: Box<dyn Query> = Box::new(BooleanQuery::new(vec![
                    (Occur::Should, term(Kind::Config)),
                    (Occur::Should, term(Kind::History)),
                ]));
                vec![(Occur::Must, q), (Occur::Must, either)]
            }
            Some(k) => vec![(Occur::Must, q), (Occur::Must, term(k))],
        };
        Box::new(BooleanQuery::new(clauses))
    }

    /// Top `k` ids by BM25 for free text `query`.
    pub fn search(
        &self,
        query: &str,
        k: usize,
        kind: Option<Kind>,
        all_words: bool,
    ) -> Result<Vec<(String, f32)>> {
        let f = self.f;
        let mut qp = QueryParser::for_index(
            &self.index,
            vec![f.name, f.desc, f.extra, f.upstream, f.path, f.text],
        );
        qp.set_field_boost(f.name, 3.0);
        qp.set_field_boost(f.extra, 0.5);
        qp.set_field_boost(f.upstream, 0.5);
        if all_words {
            qp.set_conjunction_by_default();
        }
        // Query syntax characters in user text must not error out: keep words only.
        let clean: String = query
            .chars()
            .map(|c| {
                if c.is_alphanumeric() || c == '-' || c == '_' || c == '.' {
                    c
                } else {
                    ' '
                }
            })
            .collect();
        let (q, _) = qp.parse_query_lenient(&clean);
        self.top(self.kind_filter(q, kind), k)
    }

    /// Ids of packages whose name (or, failing that, a provides) is exactly `name`.
    pub fn exact(&self, name: &str) -> Result<Vec<String>> {
        let n = name.trim().to_lowercase();
        if n.is_empty() {
            return Ok(Vec::new());
        }
        let by_name = self.top(
            Box::new(TermQuery::new(
                Term::from_field_text(self.f.name_exact, &n),
                IndexRecordOption::Basic,
            )),
            8,
        )?;
        if !by_name.is_empty() {
            return Ok(by_name.into_iter().map(|(id, _)| id).collect());
        }
        let by_provides = self.top(
            Box::new(TermQuery::new(
                Term::from_field_text(self.f.provides, &n),
                IndexRecordOption::Basic,
            )),
            8,
        )?;
        Ok(by_provides.into_iter().map(|(id, _)| id).collect())
    }

    fn top(&self, q: Box<dyn Query>, k: usize) -> Result<Vec<(String, f32)>> {
        let searcher = self.reader.searcher();
        let hits = searcher
            .search(&q, &TopDocs::with_limit(k.max(1)).order_by_score())
            .map_err(terr)?;
        let mut out = Vec::with_capacity(hits.len());
        for (score, addr) in hits {
            let d: TantivyDocument = searcher.doc(addr).map_err(terr)?;
            if let Some(id) = d.get_first(self.f.id).and_then(|v| v.as_str()) {
                out.push((id.to_string(), score));
            }
        }
        Ok(out)
    }

    /// Stored fields of document `id`.
    pub fn fetch(&self, id: &str) -> Result<Option<Doc>> {
        let searcher = self.reader.searcher();
        let q = TermQuery::new(
            Term::from_field_text(self.f.id, id),
            IndexRecordOption::Basic,
        );
        let hits = searcher
            .search(&q, &TopDocs::with_limit(1).order_by_score())
            .map_err(terr)?;
        let Some((_, addr)) = hits.first() else {
            return Ok(None);
        };
        let d: TantivyDocument = searcher.doc(*addr).map_err(terr)?;
        let s = |field: Field| {
            d.get_first(field)
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_string()
        };
        let installed = s(self.f.installed);
        let lines = s(self.f.lines);
        let (a, b) = lines.split_once('-').unwrap_or(("0", "0"));
        Ok(Some(Doc {
            id: s(self.f.id),
            kind: s(self.f.kind).parse().ok(),
            name: s(self.f.name),
            repo: s(self.f.repo),
            version: s(self.f.version),
            desc: s(self.f.desc),
            url: s(self.f.url),
            section: s(self.f.section),
            text: s(self.f.text),
            lines: (a.parse().unwrap_or(0), b.parse().unwrap_or(0)),
            installed: !installed.is_empty(),
            explicit: installed == "explicit",
            snapshots: s(self.f.snapshots)
                .split(',')
                .filter(|x| !x.is_empty())
                .map(str::to_string)
                .collect(),
            ..Default::default()
        }))
    }

    /// Number of live documents.
    pub fn count(&self) -> u64 {
        self.reader.searcher().num_docs()
    }
}
