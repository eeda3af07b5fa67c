//! Dense vectors behind [`VectorStore`], with two implementations: [`FlatStore`], the
//! embedded default (no server; one file under the index dir), and
//! [`crate::qdrant::QdrantStore`].
//!
//! The flat store is an exact scan: at this scale (63k × 384 f32 = 98 MB) a scan of one
//! contiguous, memory-mapped matrix takes a few milliseconds per core, with perfect
//! recall and no build cost (an HNSW graph took 84 s to build for 50k vectors here).
//! File `vectors.bin`: magic `RASTVEC1`, dim (u32 LE), count (u32 LE), length of the
//! id block (u64 LE), the ids separated by `\n`, zero padding to 4 bytes, then
//! count × dim f32 LE. Written to a temp file and renamed, so readers see an old or a
//! new set, never a torn one.

use std::collections::BinaryHeap;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::doc::Kind;
use crate::{Error, Result};

/// A set of (id, unit vector) pairs searchable by dot product.
pub trait VectorStore: Send + Sync {
    /// Adds or replaces `upsert`, deletes `remove`, keeps everything else.
    fn apply(&mut self, upsert: Vec<(String, Vec<f32>)>, remove: &[String]) -> Result<()>;
    /// The `k` nearest ids to `query` (cosine), optionally of one kind.
    fn search(&self, query: &[f32], k: usize, kind: Option<Kind>) -> Result<Vec<(String, f32)>>;
    fn len(&self) -> usize;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

const MAGIC: &[u8; 8] = b"RASTVEC1";

/// The embedded store.
pub struct FlatStore {
    path: PathBuf,
    dim: usize,
    map: Option<memmap2::Mmap>,
    /// (id start, id end) byte offsets into the id block, per row.
    ids: Vec<(usize, usize)>,
    data_off: usize,
}

impl FlatStore {
    pub const FILE: &'static str = "vectors.bin";

    /// Opens `dir/vectors.bin` (an empty store of width `dim` if absent).
    pub fn open(dir: &Path, dim: usize) -> Result<FlatStore> {
        let path = dir.join(Self::FILE);
        let mut s = FlatStore {
            path: path.clone(),
            dim,
            map: None,
            ids: Vec::new(),
            data_off: 0,
        };
        let file = match std::fs::File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(s),
            Err(e) => return Err(Error::Io(path, e)),
        };
        // SAFETY: the file is only ever replaced by rename, never modified in place.
        let map = unsafe { memmap2::Mmap::map(&file) }.map_err(|e| Error::Io(path.clone(), e))?;
        let bad = |why: &str| {
            Error::Index(format!(
                "{} is damaged ({why}); rebuild with `rast index build`",
                path.display()
            ))
        };
        if map.len() < 24 || &map[..8] != MAGIC {
            return Err(bad("bad header"));
        }
        let file_dim = u32::from_le_bytes(map[8..12].try_into().unwrap()) as usize;
        let count = u32::from_le_bytes(map[12..16].try_into().unwrap()) as usize;
        let id_len = u64::from_le_bytes(map[16..24].try_into().unwrap()) as usize;
        if file_dim != dim {
            return Err(bad(&format!(
                "vectors have {file_dim} dimensions, the model {dim}"
            )));
        }
        let id_end = 24usize.checked_add(id_len).ok_or_else(|| bad("id block"))?;
        let data_off = id_end.div_ceil(4) * 4;
        if map.len() != data_off + count * dim * 4 || id_end > map.len() {
            return Err(bad("size does not match its header"));
        }
        let mut ids = Vec::with_capacity(count);
        let mut start = 24;
        for (i, &b) in map[24..id_end].iter().enumerate() {
            if b == b'\n' {
                ids.push((start, 24 + i));
                start = 24 + i + 1;
            }
        }
        if ids.len() != count {
            return Err(bad("id count does not match"));
        }
        s.ids = ids;
        s.data_off = data_off;
        s.map = Some(map);
        Ok(s)
    }

    fn id(&self, row: usize) -> &str {
        let (a, b) = self.ids[row];
        std::str::from_utf8(&self.map.as_ref().expect("rows imply a map")[a..b]).unwrap_or("")
    }

    fn row(&self, row: usize) -> &[f32] {
        let map = self.map.as_ref().expect("rows imply a map");
        let start = self.data_off + row * self.dim * 4;
        let bytes = &map[start..start + self.dim * 4];
        // SAFETY: data_off is 4-aligned within a page-aligned map, and f32 has no invalid bit patterns.
        unsafe { std::slice::from_raw_parts(bytes.as_ptr() as *const f32, self.dim) }
    }

    /// Writes a complete set atomically.
    pub fn write(path: &Path, dim: usize, rows: &[(String, Vec<f32>)]) -> Result<()> {
        let tmp = path.with_extension("bin.tmp");
        let io = |e| Error::Io(path.to_path_buf(), e);
        let mut ids = Vec::new();
        for (id, v) in rows {
            if id.contains('\n') || v.len() != dim {
                return Err(Error::Index(format!(
                    "cannot store vector {id:?} (dim {})",
                    v.len()
                )));
            }
            ids.extend_from_slice(id.as_bytes());
            ids.push(b'\n');
        }
        let mut f = std::io::BufWriter::new(std::fs::File::create(&tmp).map_err(io)?);
        f.write_all(MAGIC).map_err(io)?;
        f.write_all(&(dim as u32).to_le_bytes()).map_err(io)?;
        f.write_all(&(rows.len() as u32).to_le_bytes())
            .map_err(io)?;
        f.write_all(&(ids.len() as u64).to_le_bytes()).map_err(io)?;
        f.write_all(&ids).map_err(io)?;
        let pad = (24 + ids.len()).div_ceil(4) * 4 - (24 + ids.len());
        f.write_all(&[0u8; 4][..pad]).map_err(io)?;
        for (_, v) in rows {
            for x in v {
                f.write_all(&x.to_le_bytes()).map_err(io)?;
            }
        }
        let f = f.into_inner().map_err(|e| io(e.into_error()))?;
        f.sync_all().map_err(io)?;
        std::fs::rename(&tmp, path).map_err(io)?;
        Ok(())
    }
}

#[derive(PartialEq)]
struct Hit(f32, usize);
impl Eq for Hit {}
impl PartialOrd for Hit {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Hit {
    // Reversed: the heap's top is the worst kept hit.
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        o.0.total_cmp(&self.0).then(self.1.cmp(&o.1))
    }
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    // Four accumulators let the compiler vectorise.
    let mut s = [0f32; 4];
    let (ca, cb) = (a.chunks_exact(4), b.chunks_exact(4));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for i in 0..4 {
            s[i] += x[i] * y[i];
        }
    }
    s.iter().sum::<f32>() + ra.iter().zip(rb).map(|(x, y)| x * y).sum::<f32>()
}

impl VectorStore for FlatStore {
    fn apply(&mut self, upsert: Vec<(String, Vec<f32>)>, remove: &[String]) -> Result<()> {
        let removed: std::collections::HashSet<&str> = remove
            .iter()
            .map(String::as_str)
            .chain(upsert.iter().map(|(i, _)| i.as_str()))
            .collect();
        let mut rows: Vec<(String, Vec<f32>)> = (0..self.ids.len())
            .filter(|&r| !removed.contains(self.id(r)))
            .map(|r| (self.id(r).to_string(), self.row(r).to_vec()))
            .collect();
        rows.extend(upsert);
        rows.sort_by(|a, b| a.0.cmp(&b.0));
        Self::write(&self.path, self.dim, &rows)?;
        let dir = self.path.parent().expect("file in a dir").to_path_buf();
        *self = FlatStore::open(&dir, self.dim)?;
        Ok(())
    }

    fn search(&self, query: &[f32], k: usize, kind: Option<Kind>) -> Result<Vec<(String, f32)>> {
        if query.len() != self.dim {
            return Err(Error::Index(format!(
                "query has {} dimensions, the index {}",
                query.len(),
                self.dim
            )));
        }
        let n = self.ids.len();
        let keep = |r: usize| Kind::admits(kind, Kind::of_id(self.id(r)));
        let scan = |lo: usize, hi: usize| {
            let mut heap: BinaryHeap<Hit> = BinaryHeap::with_capacity(k + 1);
            for r in lo..hi {
                if !keep(r) {
                    continue;
                }
                let s = dot(query, self.row(r));
                if heap.len() < k {
                    heap.push(Hit(s, r));
                } else if heap.peek().is_some_and(|w| s > w.0) {
                    heap.pop();
                    heap.push(Hit(s, r));
                }
            }
            heap.into_vec()
        };
        // Memory-bandwidth bound: two threads help on big sets, cost more on small ones.
        let mut hits = if n >= 20_000 {
            let mid = n / 2;
            std::thread::scope(|s| {
                let a = s.spawn(|| scan(0, mid));
                let mut b = scan(mid, n);
                b.extend(a.join().expect("scan thread"));
                b
            })
        } else {
            scan(0, n)
        };
        hits.sort_by(|a, b| b.0.total_cmp(&a.0));
        hits.truncate(k);
        Ok(hits
            .into_iter()
            .map(|Hit(s, r)| (self.id(r).to_string(), s))
            .collect())
    }

    fn len(&self) -> usize {
        self.ids.len()
    }
}

impl FlatStore {
    /// The stored vector of `id`, if any.
    pub fn get(&self, id: &str) -> Option<Vec<f32>> {
        // Ids are written sorted: binary search.
        let (mut lo, mut hi) = (0, self.ids.len());
        while lo < hi {
            let mid = (lo + hi) / 2;
            match self.id(mid).cmp(id) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Some(self.row(mid).to_vec()),
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(v: &[f32]) -> Vec<f32> {
        let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        v.iter().map(|x| x / n).collect()
    }

    #[test]
    fn write_open_search_apply() {
        let d = tempfile::tempdir().unwrap();
        let mut s = FlatStore::open(d.path(), 3).unwrap();
        assert!(s.is_empty());
        s.apply(
            vec![
                ("pkg:a/x".into(), unit(&[1., 0., 0.])),
                ("pkg:a/y".into(), unit(&[0., 1., 0.])),
                ("etc:/etc/z#0".into(), unit(&[1., 1., 0.])),
            ],
            &[],
        )
        .unwrap();
        let s = FlatStore::open(d.path(), 3).unwrap();
        assert_eq!(s.len(), 3);
        let hits = s.search(&unit(&[1., 0.1, 0.]), 2, None).unwrap();
        assert_eq!(hits[0].0, "pkg:a/x");
        assert_eq!(hits[1].0, "etc:/etc/z#0");
        let hits = s
            .search(&unit(&[1., 0.1, 0.]), 5, Some(Kind::Package))
            .unwrap();
        assert_eq!(
            hits.iter().map(|h| h.0.as_str()).collect::<Vec<_>>(),
            vec!["pkg:a/x", "pkg:a/y"]
        );
        assert_eq!(s.get("pkg:a/y").unwrap(), unit(&[0., 1., 0.]));
        let mut s = s;
        s.apply(
            vec![("pkg:a/y".into(), unit(&[0., 0., 1.]))],
            &["pkg:a/x".to_string()],
        )
        .unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(s.get("pkg:a/y").unwrap(), unit(&[0., 0., 1.]));
        assert!(s.get("pkg:a/x").is_none());
        assert!(
            FlatStore::open(d.path(), 4).is_err(),
            "dimension mismatch is caught"
        );
    }

    #[test]
    fn big_scan_matches_brute_force() {
        let d = tempfile::tempdir().unwrap();
        let mut rng = 1u64;
        let mut next = || {
            rng = rng
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((rng >> 33) as f32 / u32::MAX as f32) - 0.25
        };
        let rows: Vec<(String, Vec<f32>)> = (0..25_000)
            .map(|i| {
                (
                    format!("pkg:r/{i:06}"),
                    unit(&(0..8).map(|_| next()).collect::<Vec<_>>()),
                )
            })
            .collect();
        FlatStore::write(&d.path().join(FlatStore::FILE), 8, &rows).unwrap();
        let s = FlatStore::open(d.path(), 8).unwrap();
        let q = unit(&[0.3, -0.2, 0.5, 0.1, 0.0, 0.4, -0.1, 0.2]);
        let mut brute: Vec<(f32, &str)> =
            rows.iter().map(|(i, v)| (dot(&q, v), i.as_str())).collect();
        brute.sort_by(|a, b| b.0.total_cmp(&a.0));
        let got = s.search(&q, 10, None).unwrap();
        assert_eq!(
            got.iter().map(|h| h.0.as_str()).collect::<Vec<_>>(),
            brute[..10].iter().map(|b| b.1).collect::<Vec<_>>()
        );
    }
}
